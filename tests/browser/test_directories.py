"""A reader browses the A to Z of organisations, tags and people at 375 px and
1280 px: finds one by name or by letter and opens its page. Every page passes
the accessibility check."""
from __future__ import annotations

import re

import pytest

from .pages_data import populate
from .screens import WIDTHS


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


@pytest.mark.parametrize("viewport", WIDTHS, ids=lambda v: f"{v['width']}px")
def test_reader_finds_an_organisation_in_the_a_to_z(page, axe, app, viewport):
    populate(app)
    page.set_viewport_size(viewport)
    page.goto("/")
    page.locator("#browse").get_by_role("link", name="organisations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisations A to Z")
    expect(page.locator(".kb-directory li").first).to_contain_text("stor")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    axe(page)
    page.get_by_label("Find organisations by name").fill("council 1")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#directory-count")).to_contain_text("10 organisations containing")
    axe(page)
    letters = page.get_by_role("navigation", name="Organisations by first letter")
    letters.get_by_role("link", name="B", exact=True).click()
    expect(page.locator("#directory-count")).to_contain_text("starting with B")
    expect(letters.get_by_role("link", name="B", exact=True)).to_have_attribute("aria-current", "page")
    axe(page)
    page.get_by_role("link", name="Borough Council 07").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Borough Council 07")
    axe(page)


@pytest.mark.parametrize("kind, heading", [("tags", "Tags A to Z"), ("people", "People A to Z")])
def test_tags_and_people_have_an_a_to_z(page, axe, app, kind, heading):
    populate(app)
    page.goto(f"/{kind}")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator(".kb-directory li").first).to_be_visible()
    axe(page)
