"""Which emails each person gets, and one-click unsubscribing.

Account messages (confirming an address, resetting a password) always go:
they answer something the person did. Every other kind can be turned off.
"""
from __future__ import annotations

from kb import policy
from kb.extensions import db
from kb.models import SavedSearch, User


class Kind:
    """A kind of email: its label on the preferences page, what unsubscribing stops, its default."""

    def __init__(self, name: str, label: str, stopped: str, default: bool, curators_only: bool = False):
        self.name, self.label, self.stopped = name, label, stopped
        self.default, self.curators_only = default, curators_only


KINDS = {kind.name: kind for kind in (
    Kind("changes_requested", "A curator asks for changes to one of my stories (with their note)",
         "emails when a curator asks for changes to your stories", True),
    Kind("published", "One of my stories is published", "emails when your stories are published", True),
    Kind("rejected", "A curator decides not to publish one of my stories (with the reason)",
         "emails when a curator decides not to publish your stories", True),
    Kind("alerts", "New stories for my saved searches (how often is set for each search)",
         "emails about new stories for all your saved searches", True),
    Kind("digest", "A daily digest of stories submitted for review", "the daily digest of submissions", False,
         curators_only=True),
)}


def kinds_for(user) -> list[Kind]:
    """The kinds of email this person can choose."""
    return [kind for kind in KINDS.values() if not kind.curators_only or policy.is_curator(user)]


def wants(user: User, kind: str) -> bool:
    """True if ``user`` gets emails of ``kind`` (their choice, else its default)."""
    definition = KINDS[kind]
    if definition.curators_only and not policy.is_curator(user):
        return False
    return bool((user.email_preferences or {}).get(kind, definition.default))


def set_preferences(actor, chosen) -> User:
    """Turn on exactly the kinds in ``chosen`` (among those the person can choose).

    :raise Forbidden: if nobody is signed in.
    """
    policy.require(policy.can_manage_own_account(actor), "Sign in to choose your emails.")
    user = db.session.get(User, actor.id)
    chosen = set(chosen or ())
    user.email_preferences = {kind.name: kind.name in chosen for kind in kinds_for(user)}
    return user


def resume_mail(actor) -> User:
    """The person says their address works again after a bounce. :raise Forbidden: if nobody is signed in."""
    policy.require(policy.can_manage_own_account(actor), "Sign in to choose your emails.")
    user = db.session.get(User, actor.id)
    user.email_bounced_at = None
    user.email_bounce_reason = ""
    return user


def unsubscribe(payload: dict) -> str | None:
    """Act on a verified unsubscribe token's payload; what stopped, or None if
    the account or saved search no longer exists."""
    user = db.session.get(User, payload.get("u"))
    kind = payload.get("k")
    if user is None or kind not in KINDS:
        return None
    if kind == "alerts" and payload.get("s") is not None:
        saved = db.session.get(SavedSearch, payload["s"])
        if saved is None or saved.user_id != user.id:
            return None
        saved.frequency = "none"
        return f"emails about new stories for your saved search “{saved.name}”"
    user.email_preferences = {**(user.email_preferences or {}), kind: False}
    return KINDS[kind].stopped
