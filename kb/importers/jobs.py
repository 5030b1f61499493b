"""Upload imports as jobs kept in the database (``kb.models.ImportJob``).

A job's file, options, progress and report are rows, not files of one
instance folder, so every worker and every node on the same database shows
the same progress. The process that accepts a job runs it in a thread of its
own with its own app context (the import commits in batches through the
pipeline); beside it a heartbeat thread writes the progress and the time
every ``IMPORT_HEARTBEAT_SECONDS``. A job whose heartbeat is older than
``IMPORT_STALE_SECONDS`` lost its process: it is shown as failed and may be
resumed, which runs the stored file again; the import skips the records an
earlier run saved (their source id or address is already in kb), so each
record is added once.

Job rows are written through connections of their own, never through the
session of the request or of the import, so a job's state is never committed
or rolled back with anything else.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import defer

from kb import policy
from kb.errors import Conflict, NotFound
from kb.extensions import db
from kb.importers.formats import FileProblem
from kb.importers.mapping import DEFAULT as DEFAULT_MAP, FieldMap
from kb.importers.pipeline import import_file
from kb.importers.report import Report
from kb.models import ImportJob, User
from kb.models.base import utcnow
from kb.models.story import PUBLISHED
from kb.services.mail import aware

log = logging.getLogger(__name__)

_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
_threads: dict[str, threading.Thread] = {}
SERVER_ERROR = ("The import stopped because of an error on the server. "
                "Stories imported before it are kept; resume it to add the rest.")
DIED = ("The import stopped: the server running it stopped answering. "
        "Stories imported before it are kept; resume it to add the rest.")


@dataclass
class JobView:
    """What a page shows of a job: ``state`` is "failed" for a job whose process died."""

    id: str
    filename: str
    format: str
    state: str
    done: int
    total: int
    error: str
    report: Report | None
    can_resume: bool
    started_by: str
    created_at: datetime


# Reading ---------------------------------------------------------------------------------------

def stale_before(config) -> datetime:
    """Jobs that still run have a heartbeat newer than this."""
    return utcnow() - timedelta(seconds=float(config["IMPORT_STALE_SECONDS"]))


def _died(job: ImportJob, config) -> bool:
    beat = aware(job.heartbeat_at)
    return job.state in ("queued", "running") and (beat is None or beat < stale_before(config))


def _find(job_id: str) -> ImportJob:
    job = db.session.get(ImportJob, job_id, populate_existing=True) if _JOB_ID.match(job_id or "") else None
    if job is None:
        raise NotFound("There is no such import.")
    return job


def _view(job: ImportJob, actor, config, with_report: bool = True) -> JobView:
    died = _died(job, config)
    return JobView(id=job.id, filename=job.filename, format=job.format, state="failed" if died else job.state,
                   done=job.done, total=job.total, error=DIED if died else job.error,
                   report=Report.from_dict(job.report) if with_report and job.report else None,
                   can_resume=(died or (job.state == "failed" and job.resumable))
                   and policy.can_resume_import_job(actor, job),
                   started_by=job.user.display_name if job.user else "", created_at=aware(job.created_at))


def get_job(app, actor, job_id: str) -> JobView:
    """The job as its page shows it.

    :raise NotFound: if there is no such job. :raise Forbidden: unless policy lets ``actor`` see it.
    """
    job = _find(job_id)
    policy.require(policy.can_view_import_job(actor, job), "Only curators can see imports.")
    return _view(job, actor, app.config)


def recent_jobs(app, actor, limit: int = 10) -> list[JobView]:
    """The newest jobs ``actor`` may see, without their reports."""
    query = select(ImportJob).options(defer(ImportJob.report)).order_by(ImportJob.created_at.desc()).limit(limit)
    return [_view(job, actor, app.config, with_report=False) for job in db.session.scalars(query)
            if policy.can_view_import_job(actor, job)]


# Starting and resuming ------------------------------------------------------------------------

def _where() -> dict:
    return {"host": socket.gethostname()[:255], "pid": os.getpid()}


def start_import(app, actor, filename: str, data: bytes, fmt: str, *, status: str = "submitted",
                 dry_run: bool = False, include_private: bool = False, field_map: FieldMap = DEFAULT_MAP) -> str:
    """Keep ``data`` (with the mapping's text) as a queued job and start running it
    in this process; returns its id.

    :raise Forbidden: unless ``actor`` may import (as published, if ``status`` is published).
    """
    policy.require(policy.can_import(actor), "Only curators can import stories.")
    if status == PUBLISHED:
        policy.require(policy.can_publish_imported(actor), "Only curators can import stories as published.")
    job_id = secrets.token_hex(16)
    with db.engine.begin() as connection:
        connection.execute(insert(ImportJob).values(
            id=job_id, user_id=actor.id, filename=filename[:200], format=fmt, status=status, dry_run=dry_run,
            include_private=include_private, data=data, field_map=field_map.text, state="queued", done=0, total=0, error="",
            resumable=False, run=1, heartbeat_at=utcnow(), created_at=utcnow(), **_where()))
    _start_thread(app, job_id, 1, actor.id)
    return job_id


def resume_job(app, actor, job_id: str) -> None:
    """Run again, from its stored file, a job that failed for a reason a rerun may cure.

    :raise NotFound: if there is no such job. :raise Forbidden: unless policy lets ``actor`` resume it.
    :raise Conflict: if the job is running, done, or was resumed by someone else meanwhile.
    """
    job = _find(job_id)
    policy.require(policy.can_resume_import_job(actor, job), "Only curators can resume imports.")
    if job.status == PUBLISHED:
        policy.require(policy.can_publish_imported(actor), "Only curators can import stories as published.")
    if not (_died(job, app.config) or (job.state == "failed" and job.resumable)):
        raise Conflict("This import has not stopped, so it cannot be resumed.")
    run = job.run + 1
    with db.engine.begin() as connection:
        # Only the first of two people resuming at once wins; the other's run number is stale.
        resumed = connection.execute(
            update(ImportJob)
            .where(ImportJob.id == job.id, ImportJob.run == job.run,
                   or_(ImportJob.state == "failed", ImportJob.heartbeat_at.is_(None),
                       ImportJob.heartbeat_at < stale_before(app.config)))
            .values(state="queued", run=run, done=0, total=0, report=None, error="", resumable=False,
                    heartbeat_at=utcnow(), finished_at=None, **_where()))
    if resumed.rowcount != 1:
        raise Conflict("Someone else has resumed this import already.")
    _start_thread(app, job.id, run, actor.id)


def wait_for(job_id: str, timeout: float | None = None) -> None:
    """Wait for a job's run started in this process to end (for tests and scripts)."""
    thread = _threads.get(job_id)
    if thread is not None:
        thread.join(timeout)


def _start_thread(app, job_id: str, run: int, actor_id: int) -> None:
    thread = threading.Thread(target=run_job, args=(app, job_id, run, actor_id), daemon=True,
                              name=f"import-{job_id[:8]}")
    _threads[job_id] = thread
    thread.start()


# Running ---------------------------------------------------------------------------------------

class Heartbeat:
    """Counts progress in memory and writes it, with the time, every ``interval``
    seconds from a thread of its own, so a batch being written never waits for it."""

    def __init__(self, engine, job_id: str, run: int, interval: float) -> None:
        self.engine, self.job_id, self.run, self.interval = engine, job_id, run, interval
        self.done = self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name=f"import-beat-{job_id[:8]}")

    def set_total(self, total: int) -> None:
        self.total = total

    def advance(self, step: int) -> None:
        self.done += step

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                write(self.engine, self.job_id, self.run, only_running=True, done=self.done, total=self.total,
                      heartbeat_at=utcnow())
            except Exception:  # a missed beat is retried at the next; the import goes on
                log.warning("Import %s: could not write its progress", self.job_id, exc_info=True)


def write(engine, job_id: str, run: int, *, only_running: bool = False, **values) -> bool:
    """Write a job's columns, if ``run`` is still its run; True if written."""
    query = update(ImportJob).where(ImportJob.id == job_id, ImportJob.run == run)
    if only_running:
        query = query.where(ImportJob.state == "running")
    with engine.begin() as connection:
        return connection.execute(query.values(**values)).rowcount == 1


def run_job(app, job_id: str, run: int, actor_id: int) -> None:
    """Run one job's import to its end and write how it ended (its report, or why it failed)."""
    with app.app_context():
        engine = db.engine
        if not write(engine, job_id, run, state="running", started_at=utcnow(), heartbeat_at=utcnow(), **_where()):
            return
        with engine.connect() as connection:
            job = connection.execute(select(ImportJob.data, ImportJob.format, ImportJob.status, ImportJob.dry_run,
                                            ImportJob.include_private, ImportJob.field_map)
                                     .where(ImportJob.id == job_id)).one()
        beat = Heartbeat(engine, job_id, run, float(app.config["IMPORT_HEARTBEAT_SECONDS"]))
        beat.start()
        try:
            field_map = FieldMap.from_json(job.field_map) if job.field_map else DEFAULT_MAP
            report = import_file(db.session.get(User, actor_id), job.data, job.format, status=job.status,
                                 dry_run=job.dry_run, include_private=job.include_private, app=app,
                                 progress=beat.advance, on_rows=beat.set_total, field_map=field_map)
            ending = {"state": "done", "report": report.to_dict()}
        except FileProblem as exc:
            ending = {"state": "failed", "error": str(exc)}
        except Exception:  # the page must say the import stopped, whatever stopped it
            log.exception("Import %s stopped", job_id)
            ending = {"state": "failed", "error": SERVER_ERROR, "resumable": True}
        finally:
            beat.stop()
            db.session.remove()
        if not ending.get("resumable"):
            ending["data"] = b""  # the file is kept only while a resume may need it
        write(engine, job_id, run, done=beat.done, total=beat.total, heartbeat_at=utcnow(),
              finished_at=utcnow(), **ending)
