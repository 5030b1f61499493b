"""Accounts in a real browser, with the emails the app writes: reset a
forgotten password, and an admin choosing who may register. Every page on the
way passes the accessibility check. (Registering and confirming the address
is the start of every contributor journey.)"""
from __future__ import annotations

import re

from kb import database
from kb.policy import SYSTEM
from kb.services import users

from .inbox import link_in, messages_to

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "violet harbour lantern"


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def sign_in(page, email, password):
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_reset_a_forgotten_password_by_the_emailed_link(page, axe, seeded_app):
    users.create_user(SYSTEM, "forgetful@example.org", PASSWORD, display_name="Forgetful")
    database.commit(seeded_app)

    page.goto("/account/sign-in")
    page.get_by_role("link", name="Forgotten your password?").click()
    expect(page).to_have_url(re.compile("/account/password/reset$"))
    axe(page)
    page.get_by_label("Email address").fill("forgetful@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    axe(page)

    [message] = messages_to(seeded_app, "forgetful@example.org")
    link = link_in(message, "/account/password/reset/")
    page.goto(link)
    axe(page)
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("Confirm new password").fill("short")
    page.get_by_role("button", name="Change password").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("10 characters or more")
    axe(page)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(re.compile("/account/sign-in$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your password has been changed")
    axe(page)
    sign_in(page, "forgetful@example.org", NEW_PASSWORD)

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has already been used")
    axe(page)


def test_an_admin_lets_only_government_addresses_register(page, axe, seeded_app):
    users.create_user(SYSTEM, "admin@example.org", PASSWORD, display_name="Admin", role="admin")
    database.commit(seeded_app)
    page.goto("/account/sign-in")
    sign_in(page, "admin@example.org", PASSWORD)
    page.goto("/admin/registration")
    axe(page)
    page.get_by_label("Email domains allowed to register").fill("*.gov.uk, not a domain!")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("write domains like *.gov.uk")
    axe(page)
    page.get_by_label("Email domains allowed to register").fill("*.gov.uk, *.nhs.uk")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Only addresses ending in .gov.uk, .nhs.uk")
    page.get_by_role("button", name="Sign out").click()

    page.goto("/account/register")
    expect(page.locator("main")).to_contain_text("ending in .gov.uk or .nhs.uk")
    page.get_by_label("Email address").fill("someone@example.org")
    page.get_by_label("Your name").fill("Someone")
    page.get_by_label("Create a password").fill("lilac tractor sunrise")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Use a work email address ending in .gov.uk or .nhs.uk")
    axe(page)
