"""The case record in a real browser, every page checked with axe: a contributor
fills every section and a contact; a curator sets the evidence level and records
an adoption by another council, linking that council's story; a reader filters
by "level 3 or above" and by an English region, and follows the spread from one
story to the adopter's."""
from __future__ import annotations

from kb import database
from kb.models import Story
from kb.policy import SYSTEM
from kb.services import stories

from .test_curator_journeys import expect, person, signed_in_page, visit

SECTIONS = {
    "The challenge": "Street lights cost too much.",
    "What was done": "We fitted LED lamps on a timer.",
    "Results and evidence": "Bills fell by 12% against the next district.",
    "Costs": "Two million pounds over two years.",
    "Lessons": "Ask residents before dimming.",
    "How to copy it": "Use the regional framework contract.",
}


def test_contributor_fills_every_section_and_a_contact(browser, live_server, axe, seeded_app):
    person(seeded_app, "contributor", "writer@example.org")
    page = signed_in_page(browser, live_server, axe, "writer@example.org")
    visit(page, axe, "/stories/new")
    page.get_by_label("Title").fill("Dimming street lights in Barnsley")
    page.get_by_label("What kind of story is it?").select_option("case_study")
    page.get_by_label("Summary").fill("LED street lights on a timer cut the bill.")
    page.get_by_label("UK local authority").fill("Barnsley")
    for heading, text in SECTIONS.items():
        page.get_by_label(heading, exact=True).fill(text)
    # The character count tells how much room is left.
    count = page.locator("[data-module=govuk-character-count]:has(#results) .govuk-character-count__status")
    expect(count).to_contain_text("characters remaining")
    page.get_by_label("Level 2: data shows a change").check()
    page.get_by_label("Why this level?").fill("Meter readings before and after.")
    page.get_by_label("Name", exact=True).fill("Ann Example")
    page.get_by_label("Role", exact=True).fill("Energy officer")
    page.locator("#contact_organisation").fill("Barnsley Council")
    page.get_by_label("Email address", exact=True).fill("ann@example.org")
    page.get_by_label("The contact has agreed to be named here").check()
    page.get_by_role("button", name="Save and preview").click()
    axe(page)
    expect(page.get_by_role("heading", name="Results and evidence")).to_be_visible()
    story = stories.get_story(SYSTEM, "dimming-street-lights-in-barnsley")
    assert [getattr(story, name) for name in ("challenge", "approach", "results", "costs", "lessons",
                                              "replication")] == list(SECTIONS.values())
    assert (story.authority_code, story.proposed_evidence_level, story.contact_email, story.contact_agreed) == (
        "E08000038", 2, "ann@example.org", True)


def test_curator_sets_the_level_and_records_an_adoption_linking_the_adopters_story(browser, live_server, axe,
                                                                                     seeded_app):
    person(seeded_app, "curator", "curator@example.org")
    origin = stories.create_story(SYSTEM, {"title": "Dimming street lights in Barnsley", "kind": "case_study",
                                           "summary": "LED lamps.", "organisations": ["Barnsley Council"],
                                           "published_on": "2012-01-01"})
    adopter = stories.create_story(SYSTEM, {"title": "Street lights in Wakefield", "kind": "case_study",
                                            "summary": "We copied Barnsley.", "organisations": ["Wakefield Council"],
                                            "published_on": "2014-01-01"})
    for story in (origin, adopter):
        stories.submit_story(SYSTEM, story)
        stories.publish_story(SYSTEM, story)
    database.commit(seeded_app)

    curator = signed_in_page(browser, live_server, axe, "curator@example.org")
    visit(curator, axe, f"/curate/stories/{origin.id}/edit")
    curator.get_by_role("group", name="Evidence level", exact=True).get_by_label("Level 3: shown to cause the change").check()
    adoption = curator.get_by_role("group", name="Adoption 1")
    adoption.get_by_label("Organisation").fill("Wakefield Council")
    adoption.get_by_label("Year").fill("2014")
    adoption.get_by_label("Their own story in kb (optional)").fill(f"/stories/{adopter.slug}")
    adoption.get_by_label("How they adapted it (optional)").fill("Dimmed later at night")
    curator.get_by_role("button", name="Save changes").click()
    expect(curator.locator(".govuk-notification-banner")).to_contain_text("Saved")
    axe(curator)
    visit(curator, axe, f"/stories/{origin.slug}")
    expect(curator.locator(".kb-evidence-badge")).to_contain_text("Level 3")
    spread = curator.locator(".kb-spread")
    expect(spread).to_contain_text("Wakefield Council")
    expect(spread).to_contain_text("Dimmed later at night")
    database.rollback()
    saved = seeded_app.extensions["sqlalchemy"].session.get(Story, origin.id)
    assert saved.evidence_level == 3 and saved.adoptions[0].adopter_story_id == adopter.id


def test_reader_filters_by_level_and_region_and_follows_the_spread(page, axe, seeded_app):
    origin = stories.create_story(SYSTEM, {"title": "Dimming street lights in Barnsley", "kind": "case_study",
                                           "summary": "LED lamps.", "organisations": ["Barnsley Council"],
                                           "authority_code": "Barnsley", "published_on": "2012-01-01",
                                           "evidence_level": 3})
    adopter = stories.create_story(SYSTEM, {"title": "Street lights in Cornwall", "kind": "case_study",
                                            "summary": "We copied Barnsley.", "organisations": ["Cornwall Council"],
                                            "published_on": "2015-01-01", "adapted_from": origin.slug,
                                            "evidence_level": 2})
    weak = stories.create_story(SYSTEM, {"title": "Street lights in Leeds", "kind": "case_study",
                                         "summary": "Not measured.", "place": "Leeds", "evidence_level": 1})
    for story in (origin, adopter, weak):
        stories.submit_story(SYSTEM, story)
        stories.publish_story(SYSTEM, story)
    database.commit(seeded_app)

    visit(page, axe, "/search?q=street+lights")
    page.get_by_role("link", name="Level 3 or above").click()
    axe(page)
    results = page.locator("#results")
    expect(results).to_contain_text("Dimming street lights in Barnsley")
    expect(results).not_to_contain_text("Street lights in Leeds")
    expect(results).not_to_contain_text("Street lights in Cornwall")
    page.goto("/search?q=street+lights&place=GB")
    page.get_by_role("link", name="Yorkshire and The Humber").click()
    axe(page)
    expect(page.locator("#results")).not_to_contain_text("Street lights in Cornwall")
    expect(page.locator("#results")).to_contain_text("Street lights in Leeds")
    page.get_by_role("link", name="Dimming street lights in Barnsley").click()
    axe(page)
    page.locator(".kb-spread").get_by_role("link", name="Street lights in Cornwall").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Street lights in Cornwall")
    axe(page)
    expect(page.locator(".kb-story-facts")).to_contain_text("Adapted from")
    visit(page, axe, "/spreading-ideas")
    expect(page.locator(".kb-spreading")).to_contain_text("Dimming street lights in Barnsley")
    visit(page, axe, "/evidence")
