"""Curators file stories from kb's suggestions in a real browser: accept one
suggestion with an edited reason, decline another, and file search results in
bulk after unticking one story from the confirmation list. Every page passes
the accessibility check."""
from __future__ import annotations

from sqlalchemy import select

from kb import database
from kb.extensions import db
from kb.models import StoryActionArea, SuggestionDecline
from kb.policy import SYSTEM
from kb.services import stories
from .test_curator_journeys import expect, person, signed_in_page, visit

PROCUREMENT = ("The council changed its procurement rules and contracts so that small suppliers could bid. "
               "Open source code and open data standards let other councils reuse the shared platform.")


def published(title: str) -> int:
    story = stories.create_story(SYSTEM, {"title": title, "kind": "case_study", "summary": "Suppliers.",
                                          "body": PROCUREMENT})
    stories.publish_story(SYSTEM, story)
    return story.id


def filed_areas(story_id: int) -> dict[str, str]:
    db.session.expire_all()
    return {link.action_area.slug: link.reason for link in db.session.scalars(
        select(StoryActionArea).where(StoryActionArea.story_id == story_id))}


def test_curator_accepts_one_suggestion_and_declines_another(browser, live_server, axe, seeded_app):
    person(seeded_app, "curator", "filer@example.org")
    accepted, declined = published("Suppliers in Leeds"), published("Suppliers in Hull")
    database.commit(seeded_app)

    curator = signed_in_page(browser, live_server, axe, "filer@example.org")
    visit(curator, axe, "/curate/filing/")
    curator.get_by_role("link", name="Suppliers in Leeds").click()
    axe(curator)
    curator.get_by_label("Conditions for scaling (", exact=False).fill("Procurement opened to small suppliers")
    curator.get_by_role("button", name="File under Conditions for scaling").click()
    expect(curator.locator(".govuk-notification-banner")).to_contain_text("Filed “Suppliers in Leeds”")
    axe(curator)
    assert filed_areas(accepted) == {"conditions": "Procurement opened to small suppliers"}

    visit(curator, axe, f"/curate/stories/{declined}")
    curator.locator("#offer-conditions").get_by_role("button", name="Decline").click()
    expect(curator.locator(".govuk-notification-banner")).to_contain_text("will not be suggested again")
    expect(curator.locator("#offer-conditions")).to_have_count(0)
    axe(curator)
    assert filed_areas(declined) == {}
    assert db.session.scalar(select(SuggestionDecline.story_id)) == declined
    curator.context.close()


def test_curator_files_search_results_in_bulk_after_unticking_one(browser, live_server, axe, seeded_app):
    person(seeded_app, "curator", "bulkfiler@example.org")
    ids = [published(f"Procurement story {n}") for n in range(3)]
    database.commit(seeded_app)

    curator = signed_in_page(browser, live_server, axe, "bulkfiler@example.org")
    visit(curator, axe, "/search?q=procurement")
    curator.get_by_role("link", name="File results under an action area from kb's suggestions").click()
    expect(curator.get_by_role("heading", level=1)).to_contain_text("3 stories")
    axe(curator)
    expect(curator.get_by_label("File under an action area the stories kb suggests for it")).to_be_checked()
    curator.get_by_label("Action area (for an action area change)").select_option(label="Conditions for scaling")
    curator.get_by_label("Lowest confidence", exact=False).fill("50")
    curator.get_by_role("button", name="Continue").click()
    expect(curator.locator("#bulk-count")).to_contain_text("3 stories will change")
    expect(curator.locator("#bulk-confirm")).to_contain_text("open source")
    axe(curator)
    curator.get_by_label("Procurement story 1").uncheck()
    curator.get_by_role("button", name="Change the ticked stories").click()
    expect(curator.locator(".govuk-notification-banner")).to_contain_text("changed 2 stories")
    expect(curator).to_have_url(f"{live_server}/search?q=procurement")
    axe(curator)
    assert [bool(filed_areas(story_id)) for story_id in ids] == [True, False, True]
    curator.context.close()
