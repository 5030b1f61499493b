"""Ending a session ends every copy of it: sign-out, a password change and an
admin's deactivation, for session cookies and remember-me cookies alike."""
from __future__ import annotations

import pytest

from kb import database
from kb.policy import SYSTEM
from kb.services import users

PASSWORD = "correct horse battery staple"


def signed_in_copies(app, email):
    """A client signed in with "remember me", and two copies of its cookies:
    the session cookie alone, and the remember-me cookie alone."""
    client = app.test_client()
    response = client.post("/account/sign-in", data={"email": email, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 303
    session_copy, remember_copy = app.test_client(), app.test_client()
    session_copy.set_cookie("session", client.get_cookie("session").value)
    remember_copy.set_cookie("remember_token", client.get_cookie("remember_token").value)
    for copy in (session_copy, remember_copy):
        assert copy.get("/account").status_code == 200
    return client, [session_copy, app.test_client(), remember_copy]


def still_open(copies) -> list[int]:
    copies[1].set_cookie("session", copies[0].get_cookie("session").value)
    return [n for n, copy in enumerate(copies) if copy.get("/account").status_code == 200]


def test_signing_out_ends_every_copy_of_the_session_and_remember_cookie(app, make_user):
    user = make_user()
    client, copies = signed_in_copies(app, user.email)
    session_before = copies[0].get_cookie("session").value
    assert client.post("/account/sign-out").status_code == 303
    copies[0].set_cookie("session", session_before)
    assert still_open(copies) == []


def test_changing_the_password_ends_every_other_copy(app, make_user):
    user = make_user()
    client, copies = signed_in_copies(app, user.email)
    response = client.post("/account/password", data={"current_password": PASSWORD,
                                                      "new_password": "violet harbour lantern",
                                                      "confirm_password": "violet harbour lantern"})
    assert response.status_code == 303
    assert client.get("/account").status_code == 200
    assert still_open(copies) == []


def test_an_admin_deactivating_a_user_ends_their_sessions(app, make_user):
    user = make_user()
    _, copies = signed_in_copies(app, user.email)
    users.set_active(SYSTEM, users.get_user_by_email(user.email), False)
    database.commit(app)
    assert still_open(copies) == []


def test_signing_out_without_a_session_is_harmless(app):
    assert app.test_client().post("/account/sign-out").status_code == 303
