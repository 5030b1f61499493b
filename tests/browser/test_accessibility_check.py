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


def test_a_content_security_policy_violation_is_reported(browser):
    """The page fixture fails a test on the console message Chromium writes for a
    violation; that message must come for an inline script under our policy."""
    from kb.web.security import content_security_policy

    context = browser.new_context()
    try:
        page = context.new_page()
        seen = []
        page.on("console", lambda message: seen.append(message.text) if message.type == "error" else None)
        page.route("http://kb.test/", lambda route: route.fulfill(
            status=200, content_type="text/html", headers={"Content-Security-Policy": content_security_policy(None)},
            body=PAGE.format("<script>document.title = 'ran'</script>")))
        page.goto("http://kb.test/")
        assert page.title() == "Check"
        assert any("Content Security Policy" in text for text in seen)
    finally:
        context.close()
