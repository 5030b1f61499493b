"""Signing a person in from any form (the sign-in page, or the story form when
the session has expired): failed attempts are counted per account and per
network address, and past either limit sign-in is refused, even with the
right password, until the window ends."""
from __future__ import annotations

from flask import current_app, request
from flask_login import login_user

from kb.services import attempts, users

SIGN_IN_FAILED = "Enter a correct email address and password."
TOO_MANY = "You have tried to sign in too many times. Wait 15 minutes, then try again."


def client_address() -> str:
    return request.remote_addr or "unknown"


def _limits(email: str) -> list[tuple[str, str, str]]:
    config = current_app.config
    return [
        ("sign-in-account", users.normalise_email(email), config["SIGN_IN_LIMIT"]),
        ("sign-in-address", client_address(), config["SIGN_IN_ADDRESS_LIMIT"]),
    ]


def sign_in_blocked(email: str) -> bool:
    """True if this account or this address has failed to sign in too often lately."""
    return any(attempts.over_limit(*limit) for limit in _limits(email))


def count_failure(email: str) -> None:
    for limit in _limits(email):
        attempts.count(*limit)


def attempt_sign_in(email: str, password: str, remember: bool = False) -> str | None:
    """Sign the person in; None if that worked, else the message to show them."""
    if sign_in_blocked(email):
        return TOO_MANY
    user = users.authenticate(email, password)
    if user is None:
        count_failure(email)
        return SIGN_IN_FAILED
    login_user(user, remember=remember)
    return None
