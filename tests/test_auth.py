"""Accounts: register, sign in and out, remember me, change password, rate limits."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import g

from kb import create_app, database
from kb.errors import Invalid
from kb.extensions import db, limiter
from kb.models import User
from kb.services import users

PASSWORD = "correct horse battery staple"


def register(client, email="new@example.org", password="lilac tractor sunrise", name="Ann Example", **extra):
    return client.post("/account/register", data={"email": email, "display_name": name, "password": password, **extra})


def sign_in_form(client, email, password=PASSWORD, **extra):
    return client.post("/account/sign-in", data={"email": email, "password": password, **extra})


def test_registering_creates_a_contributor(app, client):
    response = register(client)
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    user = users.get_user_by_email("new@example.org")
    assert (user.role, user.display_name) == ("contributor", "Ann Example")
    assert user.password_hash.startswith("$argon2id$")
    assert sign_in_form(client, "new@example.org", "lilac tractor sunrise").status_code == 303
    assert client.get("/my/stories").status_code == 200


@pytest.mark.parametrize(
    "password, message",
    [("short pw", "10 characters or more"), ("password123", "too common"), ("qwertyuiop", "too common"),
     ("aaaaaaaaaaaa", "too common")],
)
def test_short_and_common_passwords_are_refused(app, client, password, message):
    response = register(client, password=password)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and "There is a problem" in page
    assert 'value="new@example.org"' in page  # what was typed is kept, except the password
    assert password not in page
    assert users.get_user_by_email("new@example.org") is None


def test_password_that_is_the_email_address_is_refused():
    assert "email address" in users.password_problem("ann.example@example.org", email="ann.example@example.org")


def test_registering_an_email_twice_makes_no_second_account(app, client, make_user):
    make_user(email="taken@example.org")
    response = register(client, email="TAKEN@example.org")
    assert response.status_code == 200
    assert "already exists" not in response.get_data(as_text=True)
    assert db.session.query(User).filter(User.email == "taken@example.org").count() == 1


def test_registering_with_a_malformed_email_is_refused(app, client):
    response = register(client, email="not-an-email")
    assert response.status_code == 422
    assert "correct format" in response.get_data(as_text=True)


def test_sign_in_goes_back_to_where_the_reader_was_going(app, client, make_user):
    user = make_user()
    first = client.get("/stories/new")
    assert first.status_code == 302
    assert first.headers["Location"] == "/account/sign-in?next=/stories/new"
    response = sign_in_form(client, user.email, next="/stories/new")
    assert response.status_code == 303
    assert response.headers["Location"] == "/stories/new"


@pytest.mark.parametrize("path", ["/curate/stories?q=a%26b&status=draft", "/curate/import/?x=1&y=2",
                                  "/admin/users?q=a&role=admin", "/account/tokens/?a=1&b=2", "/my/stories?a=1&b=2"])
def test_every_gate_sends_an_anonymous_visitor_to_sign_in_and_back_with_the_whole_address(app, client, path):
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/account/sign-in"
    assert parse_qs(location.query) == {"next": [path]}


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)",
                                    "http:/evil.example"])
def test_sign_in_never_sends_anyone_to_another_site(app, client, make_user, target):
    user = make_user()
    response = sign_in_form(client, user.email, next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/my/stories"


def test_wrong_password_is_refused_with_a_message_that_does_not_reveal_the_account(app, client, make_user):
    user = make_user()
    wrong = sign_in_form(client, user.email, password="not the password")
    unknown = sign_in_form(client, "nobody@example.org", password="not the password")
    assert wrong.status_code == unknown.status_code == 422
    assert "Enter a correct email address and password" in wrong.get_data(as_text=True)
    assert "Enter a correct email address and password" in unknown.get_data(as_text=True)
    assert client.get("/my/stories").status_code == 302


def test_deactivated_account_cannot_sign_in(app, client, make_user):
    user = make_user()
    user.active = False
    database.commit(app)
    assert sign_in_form(client, user.email).status_code == 422


def test_session_cookie_is_httponly_and_samesite_lax(app, client, make_user):
    user = make_user()
    response = sign_in_form(client, user.email)
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "remember_token" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_remember_me_sets_a_long_lived_httponly_cookie(app, client, make_user):
    user = make_user()
    response = sign_in_form(client, user.email, remember="y")
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("remember_token="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie


def test_cookies_are_secure_in_production(app_config, monkeypatch):
    monkeypatch.setenv("KB_SECRET_KEY", "a-real-secret-for-the-test-only-32-bytes")
    production = create_app({**app_config, "ENV_NAME": "production"})
    assert production.config["SESSION_COOKIE_SECURE"] is True
    assert production.config["REMEMBER_COOKIE_SECURE"] is True
    with production.app_context():
        db.engine.dispose()


def test_sign_out_is_a_post_and_ends_the_session(app, client, make_user, sign_in):
    sign_in(make_user())
    assert client.get("/account/sign-out").status_code == 405
    response = client.post("/account/sign-out")
    assert response.status_code == 303
    assert client.get("/my/stories").status_code == 302


def test_account_page_shows_the_account_and_changes_the_name(app, client, make_user, sign_in):
    user = sign_in(make_user(email="me@example.org"))
    page = client.get("/account").get_data(as_text=True)
    assert "me@example.org" in page and "Contributor" in page
    assert client.post("/account", data={"display_name": "  New   Name "}).status_code == 303
    assert db.session.get(User, user.id).display_name == "New Name"
    assert client.post("/account", data={"display_name": ""}).status_code == 422


def test_changing_the_password_ends_every_other_session(app, make_user):
    user = make_user()
    here, elsewhere = app.test_client(), app.test_client()
    sign_in_form(here, user.email)
    sign_in_form(elsewhere, user.email)
    response = here.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "violet ladder morning", "confirm_password": "violet ladder morning"})
    assert response.status_code == 303
    assert here.get("/my/stories").status_code == 200
    # The test app context outlives requests; Flask-Login caches the user in it.
    g.pop("_login_user", None)
    assert elsewhere.get("/my/stories").status_code == 302
    assert users.authenticate(user.email, "violet ladder morning") is not None
    assert users.authenticate(user.email, PASSWORD) is None


@pytest.mark.parametrize(
    "form, field_message",
    [({"current_password": "wrong password!", "new_password": "violet ladder morning",
       "confirm_password": "violet ladder morning"}, "current password is not right"),
     ({"current_password": PASSWORD, "new_password": "1234567890", "confirm_password": "1234567890"}, "too common"),
     ({"current_password": PASSWORD, "new_password": "violet ladder morning", "confirm_password": "violet ladder"},
      "do not match")],
)
def test_password_change_problems_are_shown_at_their_fields(app, client, make_user, sign_in, form, field_message):
    sign_in(make_user())
    response = client.post("/account/password", data=form)
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)


def test_change_password_service_needs_the_current_password(app, make_user):
    user = make_user()
    with pytest.raises(Invalid) as caught:
        users.change_password(user, "wrong", "violet ladder morning")
    assert "current_password" in caught.value.errors


@pytest.fixture
def limited_app(app_config):
    """An app with rate limiting on (the ``app`` fixture turns it off)."""
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True, "SIGN_IN_LIMIT": "3 per 15 minutes",
                          "SIGN_IN_ADDRESS_LIMIT": "5 per 15 minutes"})
    with limited.app_context():
        limiter.reset()
        yield limited
        limiter.reset()
        db.session.remove()
        db.engine.dispose()


def test_sign_in_is_limited_per_account(limited_app):
    from kb.policy import SYSTEM

    user = users.create_user(SYSTEM, "limited@example.org", PASSWORD)
    database.commit(limited_app)
    client = limited_app.test_client()
    for n in range(3):
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n}"
        assert sign_in_form(client, user.email, password="wrong password").status_code == 422
    client.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    blocked = sign_in_form(client, user.email)  # even the right password, from a new address
    assert blocked.status_code == 429
    assert "tried to sign in too many times" in blocked.get_data(as_text=True)
    assert client.get("/my/stories").status_code == 302


def test_sign_in_is_limited_per_address(limited_app):
    from kb.policy import SYSTEM

    user = users.create_user(SYSTEM, "victim@example.org", PASSWORD)
    database.commit(limited_app)
    client = limited_app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    for n in range(5):
        assert sign_in_form(client, f"guess{n}@example.org", password="wrong password").status_code == 422
    assert sign_in_form(client, user.email).status_code == 429
    other = limited_app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.8"
    assert sign_in_form(other, user.email).status_code == 303


def test_successful_sign_ins_do_not_count_against_the_limit(limited_app):
    from kb.policy import SYSTEM

    user = users.create_user(SYSTEM, "often@example.org", PASSWORD)
    database.commit(limited_app)
    client = limited_app.test_client()
    for _ in range(6):
        assert sign_in_form(client, user.email).status_code == 303
        client.post("/account/sign-out")


def test_registrations_from_one_address_are_limited(app_config):
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True, "REGISTER_ADDRESS_LIMIT": "3 per hour"})
    with limited.app_context():
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = "198.51.100.4"
        assert [register(client, email=f"n{n}@example.org", password="short").status_code for n in range(3)] == [422] * 3
        refused = register(client, email="n9@example.org")
        assert refused.status_code == 429 and "Too many accounts" in refused.get_data(as_text=True)
        other = limited.test_client()
        other.environ_base["REMOTE_ADDR"] = "198.51.100.5"
        assert register(other, email="n9@example.org").status_code == 200  # the "check your email" page
        db.session.remove()
        db.engine.dispose()


def test_a_failed_sign_in_is_counted_even_though_its_request_rolls_back(limited_app):
    from kb.models import Attempt

    client = limited_app.test_client()
    assert sign_in_form(client, "nobody@example.org", password="wrong password").status_code == 422
    db.session.remove()
    assert db.session.query(Attempt).filter_by(scope="sign-in-account", key="nobody@example.org").count() == 1
