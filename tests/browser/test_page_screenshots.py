"""Every page that readers and curators use most, at 375 px and 1280 px:
each passes the accessibility check, curators' pages fit the width without
scrolling sideways, and each is saved as a screenshot (see
screens.py), so a change to a page can be seen before and after."""
from __future__ import annotations

import pytest

from .pages_data import populate, sign_in_curator
from .screens import WIDTHS, save_screenshot

READER_PAGES = [
    ("home", "/"),
    ("search", "/search?q=digital"),
    ("search-filtered", "/search?q=digital&org=borough-council-03&tag=digital"),
    ("story", "/stories/{story}"),
    ("organisations", "/organisations"),
    ("tags", "/tags"),
    ("people", "/people"),
    ("facet-organisations", "/search/facets/org?q=digital"),
    ("feeds", "/search/follow?q=digital"),
]
CURATOR_PAGES = [
    ("curate-queue", "/curate/"),
    ("curate-review", "/curate/stories/{submission}"),
    ("curate-revisions", "/curate/stories/{submission}/revisions"),
    ("curate-compare", "/curate/stories/{submission}/revisions/compare?from=1&to=5"),
    ("curate-tag", "/curate/tags/{tag}"),
    ("curate-audit", "/curate/audit"),
    ("curate-bulk", "/curate/bulk"),
]


def _url(template: str, data) -> str:
    return template.format(story=data.story_slug, submission=data.submission_id, tag=data.tag_id)


@pytest.mark.parametrize("viewport", WIDTHS, ids=lambda v: f"{v['width']}px")
def test_reader_pages_are_accessible_at_each_width(page, axe, app, viewport):
    data = populate(app)
    page.set_viewport_size(viewport)
    for name, url in READER_PAGES:
        page.goto(_url(url, data))
        save_screenshot(page, name)
        axe(page)
    page.goto(_url("/stories/{story}", data))
    page.emulate_media(media="print")
    save_screenshot(page, "story-print")


@pytest.mark.parametrize("viewport", WIDTHS, ids=lambda v: f"{v['width']}px")
def test_curator_pages_are_accessible_at_each_width(browser, live_server, axe, app, viewport):
    data = populate(app)
    page = sign_in_curator(browser, live_server)
    page.set_viewport_size(viewport)
    for name, url in CURATOR_PAGES:
        page.goto(_url(url, data))
        save_screenshot(page, name)
        axe(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {viewport['width']} px"
