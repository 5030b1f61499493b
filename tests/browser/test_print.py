"""Printing a story prints the story, its sections and its links with their
addresses, without the navigation, the search box, the footer or similar stories."""
from __future__ import annotations

from kb import database
from kb.policy import SYSTEM
from kb.services import stories

from .screens import save_screenshot


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def test_a_printed_story_has_the_story_and_link_addresses_only(page, seeded_app):
    story = stories.create_story(SYSTEM, {
        "title": "Repair cafes", "kind": "case_study", "summary": "Volunteers fixed toasters.",
        "body": "## The problem\n\nSee [the council's report](https://example.org/report).",
        "links": [{"url": "https://example.org/source", "title": "Source article", "rel": "source"}],
        "organisations": ["Kirklees Council"],
    })
    stories.submit_story(SYSTEM, story)
    stories.publish_story(SYSTEM, story)
    database.commit(seeded_app)
    page.goto(f"/stories/{story.slug}")
    page.emulate_media(media="print")
    for hidden in (".govuk-template__header", ".govuk-header", ".govuk-service-navigation", ".kb-header-search", ".govuk-breadcrumbs",
                   ".govuk-footer"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_have_text("Repair cafes")
    expect(page.get_by_role("heading", name="The problem")).to_be_visible()
    after = "(el) => getComputedStyle(el, '::after').content"
    assert page.locator(".kb-prose a").evaluate(after) == '" (https://example.org/report)"'
    assert "https://example.org/source" in page.get_by_role("link", name="Source article").evaluate(after)
    save_screenshot(page, "story-printed")

    page.emulate_media(media="screen")
    expect(page.locator(".govuk-footer")).to_be_visible()
