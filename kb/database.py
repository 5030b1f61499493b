"""Creating and upgrading the database schema with Alembic (``kb init``)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from sqlalchemy import event

from kb import unit_of_work
from kb.extensions import db

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade() -> tuple[str | None, str]:
    """Bring the database to the newest schema, keeping its data.

    Returns (revision before, revision after).
    """
    with db.engine.begin() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(alembic_config(connection), "head")
        after = MigrationContext.configure(connection).get_current_revision()
    return before, after


def head_revisions() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def on_dialect(dialect: str):
    """Alembic's ``include_object`` for a database of ``dialect``: leaves out what
    the models make only on another (an index with ``ddl_if(dialect=...)``),
    which autogenerate would otherwise compare as missing."""
    def include(obj, name, type_, reflected, compare_to) -> bool:
        condition = getattr(obj, "_ddl_if", None)
        return reflected or condition is None or condition.dialect in (None, dialect)

    return include


def commit(app, *, sync: bool = True, index_wait: float | None = None) -> None:
    """End the unit of work: commit, then bring the search index up to date.

    The one place a transaction is committed, for a request, a CLI command or an
    import. A failing sync is logged and retried later, never reported as a failed save;
    so is mail the unit of work queued (it waits in the outbox).
    ``sync=False`` (an import between its index batches) leaves the index for a
    later commit of the same session. ``index_wait``: seconds to wait for the
    index's write lock (a request waits INDEX_REQUEST_WAIT, not behind an
    import's indexing; the change then waits in the log for the next sync).
    """
    session = db.session
    dirty = unit_of_work.take_index_dirty(session)
    unit_of_work.forget_log_lock(session)
    queued_mail = unit_of_work.take_queued_mail(session)
    session.commit()
    if dirty and not sync:
        unit_of_work.mark_index_dirty(session)
    elif dirty:
        from kb import search

        search.sync_quietly(app, index_wait)
    if queued_mail:
        from kb.services import mail

        mail.deliver_quietly(app, queued_mail)


def rollback() -> None:
    session = db.session
    unit_of_work.forget(session)
    session.rollback()


def init_app(app) -> None:
    """Tune each SQLite connection for several processes: readers do not wait
    for a writer (WAL), and a writer waits for another rather than failing."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)


# How long a SQLite write waits for another's lock before failing.
SQLITE_BUSY_MS = 15000


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.close()
