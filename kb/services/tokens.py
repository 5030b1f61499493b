"""Personal API tokens: created and revoked by their owner, kept only as a hash.

A token reads ``kb_<prefix>_<secret>``. The prefix is stored as it is, so the
account page can tell tokens apart; the whole token is stored as its SHA-256
(a token has 256 bits of randomness, so a slow password hash adds nothing).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from kb import policy
from kb.errors import Invalid, NotFound
from kb.extensions import db
from kb.models import ApiToken, User
from kb.models.base import utcnow
from kb.services.audit import record_event

TOKEN_PREFIX = "kb_"
MAX_NAME = 100
MAX_TOKENS = 20
# Writing last_used_at on every call would turn each API read into a write.
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def list_tokens(actor, user: User) -> list[ApiToken]:
    """The user's tokens that are not revoked, newest first."""
    policy.require(policy.can_view_api_tokens(actor, user))
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(db.session.scalars(query))


def create_token(actor, name: str) -> tuple[ApiToken, str]:
    """A new token for the actor; returns it and its plaintext, which is never kept.

    :raise Invalid: if the name is empty or too long, or the actor has too many tokens.
    :raise Forbidden: if the actor is not signed in.
    """
    policy.require(policy.can_create_api_token(actor), "Sign in to create an API token.")
    name = " ".join(str(name or "").split())
    if not name:
        raise Invalid("Enter a name for the token.", {"name": "Enter a name for the token."})
    if len(name) > MAX_NAME:
        message = f"Name must be {MAX_NAME} characters or fewer."
        raise Invalid(message, {"name": message})
    if len(list_tokens(actor, actor)) >= MAX_TOKENS:
        message = f"You can have at most {MAX_TOKENS} tokens. Revoke one you no longer use."
        raise Invalid(message, {"name": message})
    prefix = secrets.token_hex(4)
    plaintext = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(user_id=actor.id, name=name, token_hash=hash_token(plaintext), prefix=prefix)
    db.session.add(token)
    db.session.flush()
    record_event(actor, "create_api_token", token, {"prefix": prefix})
    return token, plaintext


def get_token(actor, token_id: int) -> ApiToken:
    """The token ``token_id`` if the actor may manage it.

    :raise NotFound: if there is no such live token, or it is someone else's.
    """
    token = db.session.get(ApiToken, token_id)
    if token is None or token.revoked_at is not None or not policy.can_manage_api_token(actor, token):
        raise NotFound("There is no such token.")
    return token


def revoke_token(actor, token_id: int) -> ApiToken:
    """Revoke a token: it stops working at once.

    :raise NotFound: if there is no such live token the actor may manage.
    """
    token = get_token(actor, token_id)
    token.revoked_at = utcnow()
    record_event(actor, "revoke_api_token", token, {"prefix": token.prefix})
    return token


def user_for_token(plaintext: str) -> User | None:
    """The active user a live token belongs to, or None. Notes when it was used."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plaintext)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    last = token.last_used_at
    if last is not None and last.tzinfo is None:  # SQLite keeps no time zone
        last = last.replace(tzinfo=now.tzinfo)
    if last is None or now - last > LAST_USED_PRECISION:
        token.last_used_at = now
    return token.user
