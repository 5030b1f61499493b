"""Curators at 375 px and 1280 px: open a submission's PDF from the review
page, and merge a tag by finding the target by name and confirming what will
change. Every page passes the accessibility check and fits the width."""
from __future__ import annotations

import re

import pytest

from kb.services import tags

from .pages_data import populate, sign_in_curator
from .screens import WIDTHS, save_screenshot


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def fits(page, viewport) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{page.url} is {width} px wide"


@pytest.mark.parametrize("viewport", WIDTHS, ids=lambda v: f"{v['width']}px")
def test_curator_opens_a_submissions_document_from_the_review_page(browser, live_server, axe, app, viewport):
    data = populate(app)
    page = sign_in_curator(browser, live_server)
    page.set_viewport_size(viewport)
    page.goto("/curate/")
    page.get_by_role("link", name="Repair cafes in Kirklees").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Repair cafes in Kirklees")
    axe(page)
    fits(page, viewport)
    link = page.get_by_role("link", name="evaluation.pdf")
    expect(link).to_have_attribute("href", re.compile(r"^/attachments/\d+/evaluation\.pdf$"))
    with page.expect_download() as download:
        link.click()
    path = download.value.path()
    with open(path, "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert download.value.suggested_filename == "evaluation.pdf"
    assert data.submission_id


@pytest.mark.parametrize("viewport", WIDTHS, ids=lambda v: f"{v['width']}px")
def test_curator_merges_a_tag_through_a_search_and_a_confirmation(browser, live_server, axe, app, viewport):
    populate(app)
    source = tags.Tag.by_slug("theme-03")
    page = sign_in_curator(browser, live_server)
    page.set_viewport_size(viewport)
    page.goto(f"/curate/tags/{source.id}")
    axe(page)
    page.get_by_label("Find the tag to merge “theme 03” into").fill("theme 1")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#merge-count")).to_contain_text("10 tags match")
    axe(page)
    fits(page, viewport)
    save_screenshot(page, "curate-tag-merge-choose")
    page.get_by_role("link", name="Merge into “theme 13”").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merge “theme 03” into “theme 13”?")
    expect(page.locator("#merge-changes")).to_contain_text("tag 2 stories “theme 13” instead of “theme 03”")
    expect(page.locator("#merge-changes")).to_contain_text("/tags/theme-03 to /tags/theme-13")
    axe(page)
    fits(page, viewport)
    save_screenshot(page, "curate-tag-merge-confirm")
    page.get_by_role("button", name="Merge the tags").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Merged “theme 03” into “theme 13”")
    axe(page)


def test_searching_for_a_tag_that_is_not_there_says_so(browser, live_server, axe, app):
    populate(app)
    source = tags.Tag.by_slug("theme-03")
    page = sign_in_curator(browser, live_server)
    page.goto(f"/curate/tags/{source.id}/merge?q=nothing+like+it")
    expect(page.locator("#merge-count")).to_contain_text("0 tags match")
    axe(page)
