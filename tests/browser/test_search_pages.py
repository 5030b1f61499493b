"""A reader on a phone (375 px) and on a desktop (1280 px): the count and the
results come first, filters sit behind "Filter results" on a phone, a long
facet has "Show all" with a box to find a value, and the breadcrumb on a story
goes back to the search. Every page passes the accessibility check."""
from __future__ import annotations

import re

import pytest

from .pages_data import populate
from .screens import DESKTOP, PHONE, WIDTHS, save_screenshot


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def test_on_a_phone_the_count_and_results_come_before_the_filters(page, axe, app):
    populate(app)
    page.set_viewport_size(PHONE)
    page.goto("/search?q=digital")
    axe(page)
    count = page.locator("#result-count")
    expect(count).to_be_in_viewport()
    toggle = page.locator("summary", has_text="Filter results")
    expect(toggle).to_be_visible()
    facets = page.get_by_role("navigation", name="Filter results")
    expect(facets).to_be_hidden()
    first_result = page.locator(".kb-story-card").first
    assert first_result.bounding_box()["y"] < 2 * PHONE["height"]

    toggle.focus()
    page.keyboard.press("Enter")
    expect(facets).to_be_visible()
    axe(page)
    save_screenshot(page, "search-filters-open")
    facets.get_by_role("link", name=re.compile("^Borough Council 03")).click()
    expect(page).to_have_url(re.compile(r"org=borough-council-03"))
    tag = page.get_by_role("link", name=re.compile("Remove filter Organisation: Borough Council 03"))
    expect(tag).to_be_visible()
    expect(page.get_by_role("navigation", name="Filter results")).to_be_hidden()
    expect(page.locator("summary", has_text="Filter results")).to_contain_text("1 selected")
    axe(page)
    tag.click()
    expect(page).not_to_have_url(re.compile("org="))
    axe(page)


def test_on_a_desktop_the_filters_are_always_shown_beside_the_results(page, axe, app):
    populate(app)
    page.set_viewport_size(DESKTOP)
    page.goto("/search?q=digital")
    facets = page.get_by_role("navigation", name="Filter results")
    expect(facets).to_be_visible()
    expect(page.locator("summary", has_text="Filter results")).to_be_hidden()
    results = page.locator("#results").bounding_box()
    assert facets.bounding_box()["x"] + facets.bounding_box()["width"] <= results["x"]
    axe(page)


@pytest.mark.parametrize("viewport", WIDTHS, ids=lambda v: f"{v['width']}px")
def test_reader_finds_an_organisation_beyond_the_first_twelve(page, axe, app, viewport):
    populate(app)
    page.set_viewport_size(viewport)
    page.goto("/search?q=digital")
    if viewport is PHONE:
        page.locator("summary", has_text="Filter results").click()
    page.get_by_role("link", name=re.compile(r"^Show all \d+ organisation filters")).click()
    expect(page).to_have_url(re.compile(r"/search/facets/org\?q=digital$"))
    expect(page.locator("#facet-count")).to_contain_text(re.compile(r"\d+ organisation values"))
    axe(page)
    page.get_by_label("Find organisation by name").fill("council 2")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#facet-count")).to_contain_text("10 organisation values containing")
    axe(page)
    page.get_by_role("link", name=re.compile("^Borough Council 27")).click()
    expect(page).to_have_url(re.compile(r"/search\?q=digital&org=borough-council-27$"))
    expect(page.locator("#result-count")).to_contain_text("1 story")
    axe(page)


@pytest.mark.parametrize("viewport", WIDTHS, ids=lambda v: f"{v['width']}px")
def test_the_breadcrumb_on_a_story_goes_back_to_the_search(page, axe, app, viewport):
    populate(app)
    page.set_viewport_size(viewport)
    page.goto("/search?q=digital&tag=digital&sort=newest&page=2")
    title = page.locator(".kb-story-card__title a").first
    name = title.inner_text().strip()
    title.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    axe(page)
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search\?q=digital&tag=digital&sort=newest&page=2$"))
    expect(page.locator("#result-count")).to_contain_text("page 2 of")
    axe(page)


def test_the_follow_page_gives_the_feed_address_to_copy(page, axe, app):
    populate(app)
    page.goto("/search?q=digital")
    page.get_by_role("link", name="Follow this search").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Follow this search")
    address = page.get_by_label("Feed address")
    expect(address).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/search\.atom\?q=digital$"))
    axe(page)
