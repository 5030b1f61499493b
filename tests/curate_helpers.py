"""Helpers for the curators' tests."""
from __future__ import annotations

from flask import g


def switch_user(sign_in, user):
    """Sign ``user`` in on the test client, forgetting whoever was signed in before.

    The tests' requests share the test's app context, where Flask-Login keeps
    the current user in ``g``; without this the previous user stays signed in.
    """
    g.pop("_login_user", None)
    return sign_in(user) if user is not None else None


def sign_out(client):
    g.pop("_login_user", None)
    with client.session_transaction() as session:
        session.clear()
