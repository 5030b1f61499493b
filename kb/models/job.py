"""Upload imports as jobs: their file, options, progress and report are kept in
the database, so whichever process or node serves a page shows them, and a job
whose process died can be run again from its stored file."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.extensions import db
from kb.models.base import utcnow
from kb.models.user import User

JOB_STATES = ("queued", "running", "done", "failed")


class ImportJob(db.Model):
    """One uploaded file being imported (or imported) by one person."""

    __tablename__ = "import_jobs"

    # Random, so that a job's address cannot be guessed from another's.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(20))
    # What the stories become (submitted, published, ...), the dry run, private bookmarks.
    status: Mapped[str] = mapped_column(String(20))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    include_private: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # The field mapping file's text, checked when uploaded ("": the defaults).
    field_map: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text, default="")
    # A failure that running the file again may cure (not a file kb cannot read).
    resumable: Mapped[bool] = mapped_column(Boolean, default=False)
    # Each run (the first and every resume) has its number; a runner writes only its own.
    run: Mapped[int] = mapped_column(Integer, default=1)
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User | None] = relationship()
