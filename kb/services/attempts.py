"""Counting attempts where every worker and node sees them: failed sign-ins,
registrations, password-reset requests.

    from kb.services import attempts
    if attempts.over_limit("sign-in-account", email, "10 per 15 minutes"): ...
    attempts.count("sign-in-account", email, "10 per 15 minutes")

Counts live in the database (table ``attempts``, a sliding window), or in
Flask-Limiter's storage when ``KB_RATELIMIT_STORAGE_URI`` names one (Redis),
never in a worker's memory. A count is written in a transaction of its own, so
it stays when the request that made it fails and rolls back.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from limits import parse
from sqlalchemy import delete, func, insert, select

from kb.extensions import db, limiter
from kb.models import Attempt
from kb.models.base import utcnow

MAX_KEY = 320


def limiting() -> bool:
    """False when the app runs with ``RATELIMIT_ENABLED`` off (tests)."""
    return bool(current_app.config.get("RATELIMIT_ENABLED"))


def _shared_storage() -> bool:
    uri = str(current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    return not uri.startswith("memory://") and limiter.initialized


def over_limit(scope: str, key: str, limit: str) -> bool:
    """True if ``key`` has used up ``limit`` (e.g. "10 per 15 minutes") in ``scope``."""
    if not limiting():
        return False
    item = parse(limit)
    key = str(key)[:MAX_KEY]
    if _shared_storage():
        return not limiter.limiter.test(item, scope, key)
    since = utcnow() - timedelta(seconds=item.get_expiry())
    counted = db.session.scalar(
        select(func.count()).select_from(Attempt)
        .where(Attempt.scope == scope, Attempt.key == key, Attempt.at > since))
    return (counted or 0) >= item.amount


def count(scope: str, key: str, limit: str) -> None:
    """Count one attempt of ``key`` in ``scope`` (committed at once, on its own)."""
    if not limiting():
        return
    item = parse(limit)
    key = str(key)[:MAX_KEY]
    if _shared_storage():
        limiter.limiter.hit(item, scope, key)
        return
    now = utcnow()
    with db.engine.begin() as connection:
        connection.execute(delete(Attempt).where(
            Attempt.scope == scope, Attempt.key == key, Attempt.at <= now - timedelta(seconds=item.get_expiry())))
        connection.execute(insert(Attempt).values(scope=scope, key=key, at=now))
