"""Staying informed in a real browser: follow a search, save it with a weekly
email alert, get the alert (written as an .eml file by the live app), and
unsubscribe from its link without signing in. Every page passes axe."""
from __future__ import annotations

import re

from kb import database
from kb.policy import SYSTEM
from kb.services import alerts, stories, users

from .inbox import link_in, messages_to

PASSWORD = "correct horse battery staple"


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def test_save_a_search_with_a_weekly_alert_then_unsubscribe(page, axe, seeded_app):
    users.create_user(SYSTEM, "reader@example.org", PASSWORD, display_name="Reader")
    database.commit(seeded_app)

    page.goto("/search?q=council")
    page.get_by_role("link", name="Follow this search").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Follow this search")
    expect(page.get_by_label("Feed address")).to_have_value(re.compile(r"/search\.atom\?q=council$"))
    axe(page)
    page.get_by_role("button", name="Sign in to get emails").click()
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Save this search")
    axe(page)
    page.get_by_label("Name").fill("Park benches")
    page.get_by_label("Once a week").check()
    page.get_by_role("button", name="Save search").click()
    expect(page).to_have_url(re.compile("/my/searches$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("once a week")
    card = page.locator(".govuk-summary-card", has_text="Park benches")
    expect(card).to_contain_text("Once a week")
    axe(page)

    card.get_by_role("link", name="Edit").click()
    axe(page)
    page.get_by_label("Name").fill("Benches in parks")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".govuk-summary-card", has_text="Benches in parks")).to_be_visible()
    page.goto("/account/email")
    axe(page)

    story = stories.create_story(SYSTEM, {"title": "Benches in every park", "kind": "case_study",
                                          "summary": "The council put benches in every park."})
    stories.publish_story(SYSTEM, story)
    database.commit(seeded_app)
    run = alerts.send_alerts(lambda: database.commit(seeded_app))
    assert [(email, name) for email, name, _ in run.sent] == [("reader@example.org", "Benches in parks")]

    page.get_by_role("button", name="Sign out").click()
    [message] = messages_to(seeded_app, "reader@example.org")
    page.goto(link_in(message, "/account/email/unsubscribe/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribe")
    axe(page)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You have unsubscribed")
    expect(page.locator("main")).to_contain_text("Benches in parks")
    axe(page)

    page.goto("/account/sign-in")
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/my/searches")
    expect(page.locator(".govuk-summary-card", has_text="Benches in parks")).to_contain_text("No emails")
