"""Contributors in a real browser: register, submit a story with a link and a
PDF, fix errors without losing anything, save a draft, preview, submit. Every
page on the way passes the accessibility check."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from kb.extensions import db
from kb.models import Story

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pdfs import make_pdf  # noqa: E402


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def register(page, axe, email="browser@example.org"):
    """Register, confirm the address by the emailed link, and sign in."""
    from flask import current_app

    from .inbox import link_in, messages_to

    page.goto("/account/register")
    axe(page)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Your name").fill("Browser Person")
    page.get_by_label("Create a password").fill("lilac tractor sunrise")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    axe(page)
    [message] = messages_to(current_app, email)
    page.goto(link_in(message, "/account/confirm/"))
    expect(page).to_have_url(re.compile("/account/sign-in$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your email address is confirmed")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill("lilac tractor sunrise")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile("/my/stories$"))
    axe(page)


def test_register_submit_a_story_with_a_link_and_a_pdf_and_see_it_submitted(page, axe, tmp_path):
    register(page, axe)
    page.get_by_role("button", name="Submit a story").click()
    expect(page).to_have_url(re.compile("/stories/new$"))
    axe(page)
    page.get_by_label("Title").fill("Night buses planned with riders")
    page.get_by_label("What kind of story is it?").select_option("case_study")
    page.get_by_label("Summary").fill("Riders drew the routes; usage doubled.")
    page.get_by_label("The story", exact=True).fill("We asked riders **where** they go.")
    page.get_by_label("Web address").first.fill("https://example.org/night-buses")
    page.get_by_label("Link text").first.fill("The council's write-up")
    pdf = tmp_path / "night-buses.pdf"
    pdf.write_bytes(make_pdf("Ridership figures for the night network"))
    page.get_by_label("Add documents").set_input_files(str(pdf))
    page.get_by_role("button", name="Submit for review").click()

    expect(page).to_have_url(re.compile("/my/stories$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("sent for review")
    card = page.locator(".govuk-summary-card", has_text="Night buses planned with riders")
    expect(card).to_contain_text("Submitted")
    axe(page)
    story = db.session.scalars(db.select(Story).where(Story.title == "Night buses planned with riders")).one()
    db.session.refresh(story)
    assert story.status == "submitted"
    assert [link.url for link in story.links] == ["https://example.org/night-buses"]
    assert [(a.filename, a.text_status) for a in story.attachments] == [("night-buses.pdf", "ok")]


def test_submit_with_errors_fix_them_and_nothing_is_lost(page, axe, tmp_path):
    register(page, axe, "fixer@example.org")
    page.goto("/stories/new")
    page.get_by_label("Title").fill("Shared offices for three councils")
    page.get_by_label("The story", exact=True).fill("Three councils moved into one building.")
    page.get_by_label("Web address").first.fill("not a web address")
    page.get_by_role("group", name="When was it first published?").get_by_label("Day").fill("31")
    page.get_by_role("group", name="When was it first published?").get_by_label("Month").fill("2")
    page.get_by_role("group", name="When was it first published?").get_by_label("Year").fill("2020")
    pdf = tmp_path / "offices.pdf"
    pdf.write_bytes(make_pdf("Floor plans"))
    page.get_by_label("Add documents").set_input_files(str(pdf))
    page.get_by_role("button", name="Submit for review").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    for message in ("Date first published must be a real date", "Enter a full web address",
                    "Choose what kind of story this is.", "Enter a summary of the story."):
        expect(summary).to_contain_text(message)
    expect(page.get_by_label("Title")).to_have_value("Shared offices for three councils")
    expect(page.get_by_label("The story", exact=True)).to_have_value("Three councils moved into one building.")
    expect(page.get_by_label("offices.pdf")).to_be_checked()
    axe(page)

    summary.get_by_role("link", name="Enter a summary of the story.").click()
    expect(page.get_by_label("Summary")).to_be_focused()
    page.get_by_label("Summary").fill("One building, three councils, lower rent.")
    page.get_by_label("What kind of story is it?").select_option("case_study")
    page.get_by_label("Web address").first.fill("https://example.org/offices")
    page.get_by_role("group", name="When was it first published?").get_by_label("Day").fill("28")
    page.get_by_role("button", name="Submit for review").click()

    expect(page).to_have_url(re.compile("/my/stories$"))
    expect(page.locator(".govuk-summary-card", has_text="Shared offices")).to_contain_text("Submitted")
    axe(page)
    story = db.session.scalars(db.select(Story).where(Story.title == "Shared offices for three councils")).one()
    db.session.refresh(story)
    assert [a.filename for a in story.attachments] == ["offices.pdf"]
    assert story.published_on.isoformat() == "2020-02-28"


def test_save_a_draft_preview_it_then_submit(page, axe):
    register(page, axe, "drafter@example.org")
    page.goto("/stories/new")
    axe(page)
    page.get_by_label("Title").fill("Parking permits online")
    page.get_by_role("button", name="Save as draft").last.click()
    expect(page).to_have_url(re.compile("/my/stories/parking-permits-online/edit$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("saved as a draft")
    axe(page)

    page.get_by_label("What kind of story is it?").select_option("blog_post")
    page.get_by_label("Summary").fill("Permits went online in a fortnight.")
    page.get_by_label("The story", exact=True).fill("## How\n\nWe used a *form builder*.")
    page.get_by_role("button", name="Save and preview").click()
    expect(page).to_have_url(re.compile("/my/stories/parking-permits-online/preview$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Parking permits online")
    expect(page.locator(".kb-prose h2")).to_have_text("How")
    expect(page.locator(".kb-prose em")).to_have_text("form builder")
    axe(page)

    page.get_by_role("button", name="Submit for review").click()
    expect(page).to_have_url(re.compile("/my/stories$"))
    expect(page.locator(".govuk-summary-card", has_text="Parking permits online")).to_contain_text("Submitted")
    axe(page)

    page.goto("/account")
    axe(page)
    page.goto("/account/password")
    axe(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have signed out")
    page.goto("/account/sign-in")
    axe(page)


def test_a_date_known_only_to_the_year_or_the_month_is_kept_and_shown_so(page, axe):
    register(page, axe, "dater@example.org")
    page.goto("/stories/new")
    when = page.get_by_role("group", name="When was it first published?")
    page.get_by_label("Title").fill("Allotments for all")
    when.get_by_label("Month").fill("3")
    page.get_by_role("button", name="Save as draft").last.click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Date first published must include a year")
    expect(when.get_by_label("Month")).to_have_value("3")  # what was typed is kept
    expect(when.locator(".govuk-input--error")).to_have_count(1)
    axe(page)
    summary.get_by_role("link", name="Date first published must include a year").click()
    expect(when.get_by_label("Year")).to_be_focused()
    when.get_by_label("Month").fill("")
    when.get_by_label("Year").fill("2019")
    page.get_by_role("button", name="Save and preview").click()

    expect(page).to_have_url(re.compile("/my/stories/allotments-for-all/preview$"))
    first_published = page.locator(".govuk-summary-list__row", has_text="First published")
    expect(first_published.locator(".govuk-summary-list__value")).to_have_text("2019")
    axe(page)
    page.goto("/my/stories/allotments-for-all/edit")
    expect(when.get_by_label("Day")).to_have_value("")
    expect(when.get_by_label("Month")).to_have_value("")
    expect(when.get_by_label("Year")).to_have_value("2019")
