"""Accounts by email: registration with a confirmation link, password reset,
and the email domains allowed to register.

Registration and reset answer the same whether or not an address has an
account: what differs goes by email to the address's owner.
"""
from __future__ import annotations

import hashlib
import re

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from kb import policy
from kb.extensions import db
from kb.models import SiteSetting, User
from kb.models.base import utcnow
from kb.services import mail, users
from kb.services.audit import record_event
from kb.errors import Invalid

RESET_SECONDS = 60 * 60
CONFIRM_SECONDS = 14 * 24 * 60 * 60
DOMAINS_KEY = "registration_domains"
DOMAIN_PATTERN = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


# Signed links -------------------------------------------------------------------

def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"kb-{purpose}")


def _password_fingerprint(user: User) -> str:
    # Changes with the password, so a reset link works once.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


def confirmation_token(user: User) -> str:
    return _serializer("confirm").dumps({"u": user.id, "e": user.email})


def reset_token(user: User) -> str:
    return _serializer("reset").dumps({"u": user.id, "p": _password_fingerprint(user)})


class LinkProblem(Exception):
    """A link that is not ours, is used up or has expired; the message says which."""


def _load(purpose: str, token: str, max_age: int) -> dict:
    try:
        payload = _serializer(purpose).loads(token or "", max_age=max_age)
    except SignatureExpired as exc:
        raise LinkProblem("expired") from exc
    except BadSignature as exc:
        raise LinkProblem("invalid") from exc
    if not isinstance(payload, dict):
        raise LinkProblem("invalid")
    return payload


# Who may register ---------------------------------------------------------------

def allowed_domains() -> list[str]:
    """The patterns an address must match to register (``*.gov.uk``, ``example.org``); empty means anyone."""
    setting = db.session.get(SiteSetting, DOMAINS_KEY)
    return list(setting.value or []) if setting else []


def domain_allowed(email: str, patterns: list[str] | None = None) -> bool:
    """``*.gov.uk`` allows any address under gov.uk (``x.gov.uk``, ``a.x.gov.uk``), not gov.uk itself;
    ``example.org`` allows exactly that domain."""
    patterns = allowed_domains() if patterns is None else patterns
    if not patterns:
        return True
    domain = users.normalise_email(email).rpartition("@")[2]
    for pattern in patterns:
        if pattern.startswith("*."):
            if domain.endswith(pattern[1:]):
                return True
        elif domain == pattern:
            return True
    return False


def parse_domains(text: str) -> list[str]:
    """Patterns from text separated by commas, spaces or lines.

    :raise Invalid: naming the patterns that are not domains.
    """
    patterns = [p.strip().lower().lstrip("@") for p in re.split(r"[\s,;]+", text or "") if p.strip()]
    bad = [p for p in patterns if not DOMAIN_PATTERN.match(p) or "." not in p.removeprefix("*.")]
    if bad:
        message = (f"{', '.join(bad[:5])} {'is not a domain' if len(bad) == 1 else 'are not domains'}: "
                   "write domains like *.gov.uk or example.org")
        raise Invalid(message, {"domains": message})
    return list(dict.fromkeys(patterns))


def set_allowed_domains(actor, text: str) -> list[str]:
    """Admins set who may register.

    :raise Forbidden: unless the actor manages users. :raise Invalid: for a malformed pattern.
    """
    policy.require(policy.can_manage_registration(actor), "Only admins can choose who may register.")
    patterns = parse_domains(text)
    setting = db.session.get(SiteSetting, DOMAINS_KEY) or SiteSetting(key=DOMAINS_KEY)
    before = list(setting.value or [])
    setting.value = patterns
    db.session.add(setting)
    if before != patterns:
        record_event(actor, "set_registration_domains", None, {"from": before, "to": patterns})
    return patterns


# Registration and confirmation ---------------------------------------------------

def register(actor, email: str, password: str, display_name: str = "") -> User | None:
    """Register a contributor and send a link to confirm the address.

    If the address already has an account nothing is created and its owner
    is told by email instead; the caller shows the same page either way.
    Returns the new user, or None.

    :raise Invalid: for a malformed address, a domain that may not register or a weak password.
    """
    email = users.normalise_email(email)
    if "@" in email and not domain_allowed(email):
        patterns = allowed_domains()
        message = f"Use a work email address ending in {_or_list(patterns)}"
        raise Invalid(message, {"email": message})
    existing = users.get_user_by_email(email)
    if existing is not None:
        users.check_password_strength(password, email=email)
        users.spend_hash_time(password)
        mail.queue_for(existing, "account", "Someone tried to register with your email address", "already_registered",
                       sign_in_url=mail.external_url("auth.sign_in"),
                       reset_url=mail.external_url("auth.password_reset"))
        return None
    user = users.create_user(actor, email, password, display_name=display_name)
    send_confirmation(user)
    return user


def _or_list(patterns: list[str]) -> str:
    shown = [p.removeprefix("*") for p in patterns]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def send_confirmation(user: User) -> None:
    """Queue the message with the link that confirms ``user``'s address."""
    mail.queue_for(user, "account", "Confirm your email address", "confirm_email",
                   confirm_url=mail.external_url("auth.confirm_email", token=confirmation_token(user)))


def resend_confirmation(actor) -> None:
    """Send the signed-in person a new confirmation link. :raise Forbidden: if nobody is signed in."""
    policy.require(policy.can_manage_own_account(actor), "Sign in to confirm your email address.")
    user = db.session.get(User, actor.id)
    if user.email_confirmed_at is None:
        send_confirmation(user)


def confirm_email(token: str) -> User:
    """Mark the address in ``token`` as confirmed (again is harmless).

    :raise LinkProblem: if the link is not ours, has expired or the account's address changed.
    """
    payload = _load("confirm", token, CONFIRM_SECONDS)
    user = db.session.get(User, payload.get("u"))
    if user is None or user.email != payload.get("e"):
        raise LinkProblem("invalid")
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        record_event(policy.SYSTEM, "confirm_email", user)
    return user


# Password reset ------------------------------------------------------------------

def request_password_reset(email: str) -> None:
    """Email a reset link if the address has an active account; do nothing otherwise.
    The caller shows the same page either way."""
    user = users.get_user_by_email(email)
    if user is None or not user.active:
        return
    mail.queue_for(user, "account", "Reset your password", "password_reset",
                   reset_url=mail.external_url("auth.password_reset_link", token=reset_token(user)),
                   minutes=RESET_SECONDS // 60, request_url=mail.external_url("auth.password_reset"))


def user_for_reset(token: str) -> User:
    """The account a reset link is for.

    :raise LinkProblem: ``expired`` after an hour, ``used`` once the password has
        changed (so the link works once), ``invalid`` if it is not ours.
    """
    payload = _load("reset", token, RESET_SECONDS)
    user = db.session.get(User, payload.get("u"))
    if user is None or not user.active:
        raise LinkProblem("invalid")
    if payload.get("p") != _password_fingerprint(user):
        raise LinkProblem("used")
    return user


def reset_password(token: str, password: str) -> User:
    """Set a new password through a reset link; every session of the account ends.
    Following the link also proves the address, so it counts as confirmed.

    :raise LinkProblem: see ``user_for_reset``. :raise Invalid: for a weak password.
    """
    user = user_for_reset(token)
    users.check_password_strength(password, email=user.email)
    users.set_password(policy.SYSTEM, user, password)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    record_event(policy.SYSTEM, "reset_password", user)
    return user
