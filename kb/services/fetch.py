"""Reading one row by its id for a service that has already asked policy."""
from __future__ import annotations

from kb.errors import NotFound
from kb.extensions import db


def by_id(model, ident: int, missing: str):
    """The ``model`` row with this id.

    :raise NotFound: (with ``missing`` as its message) if there is none.
    """
    row = db.session.get(model, ident)
    if row is None:
        raise NotFound(missing)
    return row
