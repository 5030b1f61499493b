"""Long search texts named by a short key.

A result page links to itself many times (each filter value, the pages, the
sort orders, every story's way back to the search). A query of thousands of
characters repeated in each link made pages of hundreds of kilobytes, so a
query longer than ``LINK_QUERY_CHARS`` travels in links as ``qt=<key>``: the
key is a digest of the text, which is kept once in the database (every worker
and node reads the same), and the search box still holds the whole text.
"""
from __future__ import annotations

import hashlib

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from kb.extensions import db
from kb.models import SearchText

LINK_QUERY_CHARS = 300


def key_for(text: str) -> str:
    """The key that names ``text`` in links, keeping the text if it is new
    (in a transaction of its own, so a page that only reads writes nothing else)."""
    key = hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()
    if db.session.get(SearchText, key) is None:
        try:
            with db.engine.begin() as connection:
                connection.execute(insert(SearchText).values(key=key, text=text, created_at=db.func.now()))
        except IntegrityError:  # another request kept the same text first
            pass
    return key


def text_for(key: str | None) -> str:
    """The text a key names ("" for an unknown key)."""
    if not key or len(key) > 32:
        return ""
    found = db.session.get(SearchText, key)
    return found.text if found else ""
