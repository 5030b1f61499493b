"""Appending to the index change log (search/sync.py applies it after commit)."""
from flask_sqlalchemy.session import Session
from sqlalchemy import event, text

from kb import unit_of_work
from kb.extensions import db
from kb.models import IndexChange

# Any constant: the transaction-scoped advisory lock that orders appends.
_LOG_LOCK_KEY = 7_220_419


def record_index_change(*story_ids: int) -> None:
    """Note that these stories' search documents must be rebuilt.

    On PostgreSQL the appends of concurrent transactions are serialised by an
    advisory lock held until commit, so change ids become visible in order and
    a reader that has seen change N has seen every change below N.
    """
    ids = sorted({i for i in story_ids if i is not None})
    if not ids:
        return
    session = db.session
    if session.get_bind().dialect.name == "postgresql" and not unit_of_work.holds_log_lock(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOG_LOCK_KEY})
        unit_of_work.note_log_lock(session)
    session.add_all(IndexChange(story_id=story_id) for story_id in ids)
    unit_of_work.mark_index_dirty(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_log_lock(session, transaction) -> None:
    """The advisory lock ends with the transaction, however it ends (even a
    commit made outside kb.database), so the next transaction takes it again."""
    if transaction.parent is None:
        unit_of_work.forget_log_lock(session)
