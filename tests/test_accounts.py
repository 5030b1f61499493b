"""Accounts by email, through a real SMTP server: confirming the address,
resetting a forgotten password, and the domains allowed to register."""
from __future__ import annotations

import re
import time

import pytest
from smtp_server import html_of, links_in, text_of

from kb import policy
from kb.extensions import db
from kb.models import User
from kb.services import accounts, users

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "violet harbour lantern"


def register(client, email="new@example.org", password="lilac tractor sunrise", name="Ann Example"):
    return client.post("/account/register", data={"email": email, "display_name": name, "password": password})


def sign_in(client, email, password=PASSWORD):
    return client.post("/account/sign-in", data={"email": email, "password": password})


def same_page(a: str, b: str) -> bool:
    """Two pages alike but for their CSP nonces (new on every response)."""
    strip = lambda page: re.sub(r'nonce="[^"]*"', 'nonce=""', page)  # noqa: E731
    return strip(a) == strip(b)


def link_to(message, path: str) -> str:
    [link] = [url for url in links_in(message) if path in url]
    return link.removeprefix("http://localhost")


def new_draft(client):
    return client.post("/stories/new", data={"title": "Open benches", "kind": "case_study",
                                              "summary": "Benches in every park.", "action": "submit"})


# Registration and confirmation ------------------------------------------------------

def test_registering_sends_a_confirmation_link_that_confirms_the_address(smtp_app, client, mailbox):
    response = register(client)
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    user = users.get_user_by_email("new@example.org")
    assert user.role == "contributor" and user.email_confirmed_at is None
    assert client.get("/my/stories").status_code == 302  # registering does not sign in

    [message] = mailbox.to("new@example.org")
    assert message["Subject"] == "Confirm your email address - kb"
    assert "Confirm your email address" in html_of(message)
    response = client.get(link_to(message, "/account/confirm/"))
    assert response.status_code == 303
    db.session.refresh(user)
    assert user.email_confirmed_at is not None


def test_an_unconfirmed_contributor_signs_in_and_keeps_drafts_but_cannot_submit(smtp_app, client, mailbox):
    register(client)
    assert sign_in(client, "new@example.org", "lilac tractor sunrise").status_code == 303
    response = new_draft(client)
    assert response.status_code == 303
    page = client.get("/my/stories").get_data(as_text=True)
    assert "Confirm your email address to send it for review" in page
    assert "Send the link again" in page
    user = users.get_user_by_email("new@example.org")
    [story] = user_stories(user)
    assert story.status == "draft"
    assert client.post(f"/my/stories/{story.slug}/submit").status_code == 303
    db.session.refresh(story)
    assert story.status == "draft"

    client.get(link_to(mailbox.to("new@example.org")[0], "/account/confirm/"))
    assert client.post(f"/my/stories/{story.slug}/submit").status_code == 303
    db.session.refresh(story)
    assert story.status == "submitted"


def user_stories(user):
    from kb.services import stories
    return stories.own_stories(user)


def test_policy_lets_only_confirmed_owners_submit(app, make_user, make_story):
    user = make_user()
    story = make_story(user, status="draft")
    assert policy.can_submit_story(user, story)
    user.email_confirmed_at = None
    assert not policy.can_submit_story(user, story)
    assert policy.can_edit_story(user, story)


def test_the_confirmation_link_can_be_sent_again(smtp_app, client, mailbox):
    register(client)
    sign_in(client, "new@example.org", "lilac tractor sunrise")
    assert client.post("/account/confirm", data={"next": "/my/stories"}).status_code == 303
    assert len(mailbox.to("new@example.org")) == 2


def test_a_tampered_confirmation_link_does_nothing(smtp_app, client, mailbox):
    register(client)
    link = link_to(mailbox.to("new@example.org")[0], "/account/confirm/")
    response = client.get(link[:-3] + "xyz")
    assert response.status_code == 404
    assert "This link does not work" in response.get_data(as_text=True)
    assert users.get_user_by_email("new@example.org").email_confirmed_at is None


def test_registering_a_taken_address_looks_the_same_and_tells_its_owner(smtp_app, client, mailbox, make_user):
    make_user(email="taken@example.org")
    fresh = register(client, email="fresh@example.org").get_data(as_text=True)
    taken = register(client, email="TAKEN@example.org").get_data(as_text=True)
    assert same_page(taken.replace("taken@example.org", "X"), fresh.replace("fresh@example.org", "X"))
    assert db.session.query(User).filter(User.email == "taken@example.org").count() == 1
    [message] = mailbox.to("taken@example.org")
    assert "already has one" in text_of(message)
    assert "/account/password/reset" in text_of(message)


def test_a_mail_server_that_is_down_does_not_stop_registration(app, client):
    from smtp_server import free_port

    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}?starttls=off"
    response = register(client)
    assert response.status_code == 200
    assert users.get_user_by_email("new@example.org") is not None
    from kb.models import OutboxMessage
    [row] = db.session.query(OutboxMessage).all()
    assert row.status == "pending" and row.attempts == 1


# The domain allow-list ---------------------------------------------------------------

def test_admins_set_the_domains_allowed_to_register(smtp_app, client, make_user, mailbox):
    admin = make_user("admin")
    sign_in(client, admin.email)
    page = client.get("/admin/registration")
    assert page.status_code == 200
    response = client.post("/admin/registration", data={"domains": "*.gov.uk, *.nhs.uk\n*.police.uk"})
    assert response.status_code == 303
    assert accounts.allowed_domains() == ["*.gov.uk", "*.nhs.uk", "*.police.uk"]
    client.post("/account/sign-out")

    refused = register(client, email="someone@example.org")
    assert refused.status_code == 422
    assert "ending in .gov.uk, .nhs.uk or .police.uk" in refused.get_data(as_text=True)
    assert users.get_user_by_email("someone@example.org") is None
    assert mailbox.to("someone@example.org") == []

    assert register(client, email="officer@council.gov.uk").status_code == 200
    assert users.get_user_by_email("officer@council.gov.uk") is not None
    assert mailbox.to("officer@council.gov.uk")


def test_an_empty_allow_list_lets_anyone_register(smtp_app, client, make_user):
    accounts.set_allowed_domains(policy.SYSTEM, "*.gov.uk")
    accounts.set_allowed_domains(policy.SYSTEM, "")
    assert register(client, email="anyone@example.org").status_code == 200
    assert users.get_user_by_email("anyone@example.org") is not None


def test_a_malformed_domain_is_refused_at_its_field(app, client, make_user):
    sign_in(client, make_user("admin").email)
    response = client.post("/admin/registration", data={"domains": "*.gov.uk, not a domain!"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "write domains like *.gov.uk" in page and "not a domain!" in page
    assert accounts.allowed_domains() == []


def test_only_admins_choose_who_may_register(app, client, make_user):
    sign_in(client, make_user("curator").email)
    assert client.get("/admin/registration").status_code == 403
    assert client.post("/admin/registration", data={"domains": "*.gov.uk"}).status_code == 403


@pytest.mark.parametrize("email, allowed", [
    ("a@council.gov.uk", True), ("a@x.y.gov.uk", True), ("a@gov.uk", False), ("a@notgov.uk", False),
    ("a@example.org", True), ("a@sub.example.org", False), ("a@evil-gov.uk", False),
])
def test_domain_patterns(email, allowed):
    assert accounts.domain_allowed(email, ["*.gov.uk", "example.org"]) is allowed


# Password reset ------------------------------------------------------------------------

def ask_for_reset(client, email):
    return client.post("/account/password/reset", data={"email": email})


def test_password_reset_by_email_link(smtp_app, client, mailbox, make_user):
    user = make_user(email="forgetful@example.org")
    assert client.get("/account/password/reset").status_code == 200
    response = ask_for_reset(client, "Forgetful@example.org")
    assert response.status_code == 200
    assert "If <strong>forgetful@example.org</strong> is the address of an account" in response.get_data(as_text=True)

    [message] = mailbox.to("forgetful@example.org")
    assert message["Subject"] == "Reset your password - kb"
    link = link_to(message, "/account/password/reset/")
    assert client.get(link).status_code == 200
    response = client.post(link, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 303
    assert users.authenticate(user.email, NEW_PASSWORD) is not None
    assert users.authenticate(user.email, PASSWORD) is None


def test_a_reset_link_works_once(smtp_app, client, mailbox, make_user):
    user = make_user(email="forgetful@example.org")
    ask_for_reset(client, user.email)
    link = link_to(mailbox.to(user.email)[0], "/account/password/reset/")
    client.post(link, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})

    again = client.get(link)
    assert again.status_code == 404
    assert "This link has already been used" in again.get_data(as_text=True)
    response = client.post(link, data={"new_password": "another fine password", "confirm_password": "another fine password"})
    assert response.status_code == 404
    assert users.authenticate(user.email, NEW_PASSWORD) is not None


def test_a_reset_link_expires_after_an_hour(smtp_app, client, mailbox, make_user, monkeypatch):
    user = make_user(email="forgetful@example.org")
    ask_for_reset(client, user.email)
    link = link_to(mailbox.to(user.email)[0], "/account/password/reset/")
    now = time.time()
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: now + 59 * 60)
    assert client.get(link).status_code == 200
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: now + 61 * 60)
    response = client.post(link, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 404
    assert "This link has expired" in response.get_data(as_text=True)
    assert users.authenticate(user.email, PASSWORD) is not None


def test_asking_to_reset_an_unknown_address_looks_the_same_and_sends_nothing(smtp_app, client, mailbox, make_user):
    make_user(email="known@example.org")
    known = ask_for_reset(client, "known@example.org").get_data(as_text=True)
    unknown = ask_for_reset(client, "unknown@example.org").get_data(as_text=True)
    assert same_page(known.replace("known@example.org", "X"), unknown.replace("unknown@example.org", "X"))
    assert mailbox.to("unknown@example.org") == []
    assert len(mailbox.to("known@example.org")) == 1


def test_a_password_reset_ends_every_session(smtp_app, client, app, mailbox, make_user):
    user = make_user(email="forgetful@example.org")
    other_device = app.test_client()
    assert sign_in(other_device, user.email).status_code == 303
    assert other_device.get("/account").status_code == 200

    ask_for_reset(client, user.email)
    link = link_to(mailbox.to(user.email)[0], "/account/password/reset/")
    client.post(link, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert other_device.get("/account").status_code == 302


def test_a_weak_new_password_is_refused_at_its_field(smtp_app, client, mailbox, make_user):
    user = make_user(email="forgetful@example.org")
    ask_for_reset(client, user.email)
    link = link_to(mailbox.to(user.email)[0], "/account/password/reset/")
    response = client.post(link, data={"new_password": "password123", "confirm_password": "password123"})
    assert response.status_code == 422
    assert "too common" in response.get_data(as_text=True)
    assert client.get(link).status_code == 200  # still usable


def test_password_reset_requests_are_limited_per_address(smtp_app, client, mailbox, make_user):
    make_user(email="forgetful@example.org")
    smtp_app.config.update(RATELIMIT_ENABLED=True, PASSWORD_RESET_LIMIT="2 per hour")
    assert ask_for_reset(client, "forgetful@example.org").status_code == 200
    assert ask_for_reset(client, "Forgetful@example.org").status_code == 200
    refused = ask_for_reset(client, "forgetful@example.org")
    assert refused.status_code == 429
    assert "too many password reset links" in refused.get_data(as_text=True)
    assert len(mailbox.to("forgetful@example.org")) == 2
    # The same for an address with no account: the limit reveals nothing.
    for _ in range(2):
        ask_for_reset(client, "nobody@example.org")
    assert ask_for_reset(client, "nobody@example.org").status_code == 429


def test_password_reset_requests_are_limited_per_network_address(smtp_app, client, mailbox, make_user):
    smtp_app.config.update(RATELIMIT_ENABLED=True, PASSWORD_RESET_ADDRESS_LIMIT="3 per hour")
    for n in range(3):
        assert ask_for_reset(client, f"person{n}@example.org").status_code == 200
    assert ask_for_reset(client, "person9@example.org").status_code == 429
