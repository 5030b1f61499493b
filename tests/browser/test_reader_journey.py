"""A reader with no account finds a story through the action areas, by mouse
and by keyboard, and every page on the way passes the accessibility check."""
from __future__ import annotations

import re

from kb.services import listing, taxonomy


def expect(target):
    # Imported here so that, without Playwright, the tests are skipped rather
    # than failing to import (see conftest.py).
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def visit(page, axe, url: str) -> None:
    page.goto(url)
    axe(page)


def test_reader_finds_a_story_through_an_action_area(page, axe, seeded_app):
    areas = taxonomy.all_action_areas()
    counts = listing.published_counts_by_area()
    assert len(areas) == 4
    area = next(a for a in areas if counts.get(a.id))

    visit(page, axe, "/")
    main = page.locator("#main-content")
    for each in areas:
        expect(main.locator(f'a[href="/areas/{each.slug}"]').first).to_contain_text(each.name)

    main.locator(f'a[href="/areas/{area.slug}"]').first.click()
    expect(page).to_have_url(re.compile(f"/areas/{area.slug}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(area.name)
    axe(page)

    first_story = main.locator(".kb-story-card__title a").first
    title = first_story.inner_text().strip()
    first_story.click()
    expect(page).to_have_url(re.compile(r"/stories/[^/]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page).to_have_title(f"{title} – kb")
    axe(page)


def test_keyboard_user_skips_to_the_main_content(page, axe, seeded_app):
    story = listing.latest_stories(limit=1)[0]
    visit(page, axe, f"/stories/{story.slug}")

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_visible()
    axe(page)

    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()
    expect(page).to_have_url(re.compile("#main-content$"))
    axe(page)
