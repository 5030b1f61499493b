"""What a unit of work carries in its session until it ends.

Services note things here while they change data; ``kb.database.commit`` and
``rollback`` read and clear them. These keys live in one place so that no
module has to know another's spelling of them.
"""
from __future__ import annotations

_INDEX_DIRTY = "kb_index_dirty"   # the index change log gained rows: sync after commit
_LOG_LOCKED = "kb_log_locked"     # this transaction holds the change log's advisory lock
_MAIL_QUEUED = "kb_mail_queued"   # outbox rows to deliver after commit


def mark_index_dirty(session) -> None:
    session.info[_INDEX_DIRTY] = True


def take_index_dirty(session) -> bool:
    """Whether the index must follow, forgetting it."""
    return bool(session.info.pop(_INDEX_DIRTY, False))


def holds_log_lock(session) -> bool:
    return bool(session.info.get(_LOG_LOCKED))


def note_log_lock(session) -> None:
    session.info[_LOG_LOCKED] = True


def forget_log_lock(session) -> None:
    """The lock ended with its transaction (or savepoint): the next one takes it again."""
    session.info.pop(_LOG_LOCKED, None)


def queue_mail(session, outbox_id: int) -> None:
    session.info.setdefault(_MAIL_QUEUED, []).append(outbox_id)


def take_queued_mail(session) -> list[int]:
    return session.info.pop(_MAIL_QUEUED, None) or []


def forget(session) -> None:
    """The unit of work was rolled back: nothing it noted still holds."""
    for key in (_INDEX_DIRTY, _LOG_LOCKED, _MAIL_QUEUED):
        session.info.pop(key, None)
