"""Curators in a real browser: review a submission and ask for changes; the
contributor sees the note, edits and resubmits; the curator sees the diff and
publishes; a reader finds the story in search. A curator merges two tags and
a search by the old tag finds the stories. A curator merges an imported
near-duplicate story into the story it repeats. Every page passes the accessibility check."""
from __future__ import annotations

import json
import re

from kb import database
from kb.importers import import_file
from kb.policy import SYSTEM
from kb.services import stories, users

PASSWORD = "lilac tractor sunrise"


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def person(app, role: str, email: str):
    user = users.create_user(SYSTEM, email, PASSWORD, display_name=email.split("@")[0].capitalize(), role=role)
    database.commit(app)
    return user


def signed_in_page(browser, live_server, axe, email: str):
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/account/sign-in")
    axe(page)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


def visit(page, axe, url: str):
    page.goto(url)
    axe(page)


def test_review_request_changes_resubmit_diff_publish_and_find(browser, live_server, page, axe, seeded_app):
    contributor = person(seeded_app, "contributor", "writer@example.org")
    person(seeded_app, "curator", "curator@example.org")
    story = stories.create_story(contributor, {"title": "Repair cafes in Kirklees", "kind": "case_study",
                                               "summary": "Volunteers fixed toasters."})
    stories.submit_story(contributor, story)
    database.commit(seeded_app)

    curator = signed_in_page(browser, live_server, axe, "curator@example.org")
    visit(curator, axe, "/curate/")
    curator.get_by_role("link", name="Repair cafes in Kirklees").click()
    expect(curator.get_by_role("heading", level=1)).to_have_text("Repair cafes in Kirklees")
    axe(curator)
    curator.get_by_role("button", name="Request changes").click()
    expect(curator.locator(".govuk-error-summary")).to_contain_text("Enter a note")
    axe(curator)
    curator.get_by_label("Note to the contributor").fill("Say how many items were repaired.")
    curator.get_by_role("button", name="Request changes").click()
    expect(curator.locator(".govuk-notification-banner")).to_contain_text("Asked for changes")
    axe(curator)

    writer = signed_in_page(browser, live_server, axe, "writer@example.org")
    visit(writer, axe, "/my/stories")
    expect(writer.locator("#main-content")).to_contain_text("Say how many items were repaired.")
    writer.locator('a[href="/my/stories/repair-cafes-in-kirklees/edit"]').click()
    axe(writer)
    writer.get_by_label("Summary").fill("Volunteers fixed 1,200 toasters and kettles in a year.")
    writer.get_by_role("button", name="Submit for review").click()
    expect(writer.locator(".govuk-notification-banner")).to_contain_text("sent for review")
    axe(writer)

    visit(curator, axe, f"/curate/stories/{story.id}")
    diff = curator.locator("table.kb-diff")
    expect(diff).to_contain_text("Summary")
    expect(diff.locator("del", has_text="Volunteers fixed toasters.")).to_have_count(1)
    expect(diff.locator("ins", has_text="1,200 toasters and kettles")).to_have_count(1)
    curator.get_by_role("button", name="Publish").click()
    expect(curator.locator(".govuk-notification-banner")).to_contain_text("Published")
    axe(curator)

    visit(page, axe, "/search?q=kettles")
    result = page.get_by_role("link", name="Repair cafes in Kirklees")
    expect(result).to_be_visible()
    result.click()
    expect(page).to_have_url(re.compile(r"/stories/repair-cafes-in-kirklees(\?search=[^/]*)?$"))
    axe(page)
    writer.context.close()
    curator.context.close()


def test_curator_merges_two_tags_and_search_by_the_old_tag_finds_the_stories(
        browser, live_server, page, axe, seeded_app):
    person(seeded_app, "curator", "tagger@example.org")
    for title, tag in (("Councils share code", "Localgov"), ("Councils share data", "Local government")):
        stories.publish_story(SYSTEM, stories.create_story(SYSTEM, {
            "title": title, "kind": "blog_post", "summary": "Sharing.", "tags": [tag]}))
    database.commit(seeded_app)

    curator = signed_in_page(browser, live_server, axe, "tagger@example.org")
    visit(curator, axe, "/curate/tags")
    curator.get_by_role("link", name="Localgov", exact=True).click()
    axe(curator)
    curator.get_by_label("Find the tag to merge “Localgov” into").fill("local")
    curator.get_by_role("button", name="Find").click()
    axe(curator)
    curator.get_by_role("link", name="Merge into “Local government”").click()
    expect(curator.get_by_role("heading", level=1)).to_have_text("Merge “Localgov” into “Local government”?")
    axe(curator)
    curator.get_by_role("button", name="Merge the tags").click()
    expect(curator.locator(".govuk-notification-banner")).to_contain_text("Merged “Localgov” into “Local government”")
    axe(curator)
    visit(curator, axe, "/curate/tags/duplicates")
    visit(curator, axe, "/curate/audit")
    expect(curator.locator("table.kb-audit")).to_contain_text("merge tag")

    visit(page, axe, "/search?q=localgov")
    expect(page.get_by_role("link", name="Councils share code")).to_be_visible()
    expect(page.get_by_role("link", name="Councils share data")).to_be_visible()
    page.goto("/tags/localgov")
    expect(page).to_have_url(re.compile("/tags/local-government$"))
    axe(page)
    curator.context.close()


def test_curator_tags_chosen_search_results_in_bulk(browser, live_server, axe, seeded_app):
    person(seeded_app, "curator", "bulk@example.org")
    curator = signed_in_page(browser, live_server, axe, "bulk@example.org")
    visit(curator, axe, "/search?q=bookmarks")
    curator.get_by_label("Select “Bookmarks for April 6th through April 27th”").check()
    curator.get_by_role("button", name="Change the selected stories").click()
    expect(curator.get_by_role("heading", level=1)).to_contain_text("1 story")
    axe(curator)
    curator.get_by_label("Add a tag").check()
    curator.get_by_label("Tag (for a tag change)").fill("Delicious")
    curator.get_by_role("button", name="Continue").click()
    axe(curator)
    curator.get_by_role("button", name="Change the ticked stories").click()
    expect(curator.locator(".govuk-notification-banner")).to_contain_text("changed 1 story")
    axe(curator)
    visit(curator, axe, "/tags/delicious")
    expect(curator.get_by_role("link", name="Bookmarks for April 6th through April 27th")).to_be_visible()


def test_curator_merges_an_imported_near_duplicate_and_its_address_leads_to_the_kept_story(
        browser, live_server, page, axe, seeded_app):
    person(seeded_app, "curator", "merger@example.org")
    stories.publish_story(SYSTEM, stories.create_story(SYSTEM, {
        "title": "Repair cafés in Leeds", "kind": "case_study", "summary": "Volunteers fix things.",
        "organisations": ["Leeds City Council"]}))
    database.commit(seeded_app)
    record = {"title": "Repair Cafés in Leeds!", "summary": "Fixing.", "kind": "case_study",
              "organisations": ["Leeds City Council"], "tags": ["Repair"],
              "links": [{"url": "https://example.org/repair", "rel": "source"}]}
    import_file(SYSTEM, json.dumps(record).encode(), "jsonl", status="published", app=seeded_app)

    curator = signed_in_page(browser, live_server, axe, "merger@example.org")
    visit(curator, axe, "/curate/duplicates/")
    expect(curator.locator("#duplicate-count")).to_contain_text("1 story was imported")
    curator.get_by_role("link", name=re.compile("^Repair Cafés in Leeds!")).click()
    expect(curator.get_by_role("heading", level=1)).to_have_text("Repair Cafés in Leeds!")
    axe(curator)
    curator.get_by_role("button", name="Merge the stories").click()
    expect(curator.locator(".govuk-error-summary")).to_contain_text("Choose which story to keep")
    axe(curator)
    curator.get_by_label("The other story: Repair cafés in Leeds (Published)").check()
    curator.get_by_role("button", name="Merge the stories").click()
    expect(curator.locator(".govuk-notification-banner")).to_contain_text(
        "Merged “Repair Cafés in Leeds!” into “Repair cafés in Leeds”")
    expect(curator.locator("#duplicate-count")).to_contain_text("0 stories")
    axe(curator)
    visit(curator, axe, "/curate/audit")
    expect(curator.locator("table.kb-audit")).to_contain_text("merge")

    page.goto("/stories/repair-cafes-in-leeds-2")
    expect(page).to_have_url(re.compile("/stories/repair-cafes-in-leeds$"))
    expect(page.locator("#main-content")).to_contain_text("example.org/repair")
    axe(page)
    curator.context.close()
