"""Long search texts named by a short key.

A result page links to itself many times (each filter value, the pages, the
sort orders, every story's way back to the search). A query of thousands of
characters repeated in each link made pages of hundreds of kilobytes, so a
query longer than ``LINK_QUERY_CHARS`` travels in links as ``qt=<key>``: the
key is a digest of the text, which is kept once in the database (every worker
and node reads the same), and the search box still holds the whole text.

Anyone can add texts (each up to the query limit of 10,000 characters), so at
most ``SEARCH_TEXTS_KEEP`` are kept: adding one past that deletes the oldest.
A link naming a deleted text gets a page that says the search is not known.
"""
from __future__ import annotations

import hashlib
import logging

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from kb import database
from kb.extensions import db
from kb.models import SearchText

log = logging.getLogger(__name__)

LINK_QUERY_CHARS = 300
# How long keeping a new text may wait for the database's write lock (an import
# holding it, on SQLite) before the page is made with the text in its links.
KEEP_WAIT_MS = 250


def key_for(query: str, keep: int) -> str | None:
    """The key that names ``query`` in links, keeping the text if it is new (in a
    transaction of its own, so a page that only reads writes nothing else), and
    at most ``keep`` texts in all; None when it cannot be kept now, and the links
    carry the text itself."""
    key = hashlib.blake2b(query.encode("utf-8"), digest_size=12).hexdigest()
    if db.session.get(SearchText, key) is not None:
        return key
    try:
        with db.engine.begin() as connection:
            _wait_briefly(connection, KEEP_WAIT_MS)
            try:
                connection.execute(insert(SearchText).values(key=key, text=query, created_at=db.func.now()))
                _keep_newest(connection, keep, key)
            finally:
                _wait_briefly(connection, None)
    except IntegrityError:  # another request kept the same text first
        pass
    except SQLAlchemyError as exc:
        log.warning("A long search text was not kept for its links, which carry it whole: %s", exc)
        return None
    return key


def _keep_newest(connection, keep: int, added: str) -> None:
    """Delete the oldest texts past the newest ``keep`` (never the one just added)."""
    count = connection.scalar(select(func.count()).select_from(SearchText))
    if count > keep:
        oldest = (select(SearchText.key).where(SearchText.key != added)
                  .order_by(SearchText.created_at, SearchText.key).limit(count - max(keep, 1)))
        connection.execute(delete(SearchText).where(SearchText.key.in_(oldest)))


def _wait_briefly(connection, ms: int | None) -> None:
    """Wait at most ``ms`` for locks on this connection (None: as configured again)."""
    if connection.dialect.name == "sqlite":
        connection.execute(text(f"PRAGMA busy_timeout={ms if ms is not None else database.SQLITE_BUSY_MS}"))
    elif ms is not None:  # PostgreSQL: for this transaction only
        connection.execute(text(f"SET LOCAL lock_timeout = {int(ms)}"))


def text_for(key: str | None) -> str:
    """The text a key names ("" for an unknown key)."""
    if not key or len(key) > 32:
        return ""
    found = db.session.get(SearchText, key)
    return found.text if found else ""
