"""A reader searches from any page, narrows the results with facets, follows
"Did you mean" and pages through results; every page passes the accessibility check."""
from __future__ import annotations

import re



def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def test_reader_searches_from_the_header_and_narrows_by_facets(page, axe, seeded_app):
    page.goto("/about")
    axe(page)
    page.get_by_label("Search stories").fill("reading list")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search\?q=reading\+list"))
    expect(page.locator("#result-count")).to_contain_text("found for")
    expect(page.locator("mark").first).to_be_visible()
    axe(page)

    facets = page.get_by_role("navigation", name="Filter results")
    facets.get_by_role("link", name=re.compile("^Reading list")).first.click()
    expect(page).to_have_url(re.compile(r"kind=reading_list"))
    expect(page.locator("#result-count")).to_contain_text("2")
    axe(page)

    page.get_by_role("link", name=re.compile("Remove filter kind", re.IGNORECASE)).click()
    expect(page).not_to_have_url(re.compile("kind="))
    axe(page)


def test_reader_follows_did_you_mean(page, axe, seeded_app):
    page.goto("/search?q=innnovation")
    expect(page.get_by_role("heading", name="No stories matched")).to_be_visible()
    axe(page)
    page.locator("#did-you-mean").get_by_role("link", name="innovation").click()
    expect(page).to_have_url(re.compile(r"q=innovation"))
    expect(page.locator(".kb-story-card").first).to_be_visible()
    axe(page)


def test_reader_pages_through_results_and_opens_a_story_with_similar_ones(page, axe, seeded_app, make_story):
    for n in range(23):
        make_story(title=f"Parklet trial {n:02d}", summary="A parklet on a high street.", published_on=f"2020-02-{n + 1:02d}")
    page.goto("/search?q=parklet")
    expect(page.locator("#result-count")).to_contain_text("23")
    axe(page)
    page.get_by_role("navigation", name="Pagination").get_by_role("link", name=re.compile("Next")).click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator(".kb-story-card")).to_have_count(3)
    axe(page)
    page.locator(".kb-story-card__title a").first.click()
    expect(page.get_by_role("heading", name="Similar stories")).to_be_visible()
    axe(page)


def test_search_help_is_accessible(page, axe, seeded_app):
    page.goto("/search/help")
    expect(page.get_by_role("heading", level=1)).to_have_text("How to search")
    axe(page)
