"""The accessibility check itself: it must catch faults, or every journey
test that relies on it would pass for nothing."""
from __future__ import annotations

import pytest

from .axe import accessibility_problems

PAGE = """<!DOCTYPE html><html lang="en"><head><title>Check</title></head>
<body><main><h1>Check</h1>{}</main></body></html>"""

FAULTS = {
    "image-alt": '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">',
    "label": '<form><input type="text" name="q"></form>',
    "color-contrast": '<p style="color:#bbb;background:#fff">Faint text</p>',
    "duplicate ids": '<form><label for="q">One</label><input id="q"></form>'
                     '<form><label for="q">Two</label><input id="q"></form>',
}


@pytest.fixture
def blank_page(browser):
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.parametrize("fault", FAULTS)
def test_check_reports_a_seeded_fault(blank_page, fault):
    blank_page.set_content(PAGE.format(FAULTS[fault]))
    problems = "\n".join(accessibility_problems(blank_page))
    assert fault in problems


def test_check_passes_a_sound_page(blank_page):
    blank_page.set_content(PAGE.format('<form><label for="q">Search</label><input id="q" name="q"></form>'))
    assert accessibility_problems(blank_page) == []
