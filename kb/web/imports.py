"""The curators' import page: upload a file, watch its progress, read and
download the report.

The import runs beside the request, in a thread of its own with its own app
context, and commits in batches through the pipeline; its state is a small JSON
file under the instance folder, so whichever worker serves the report page
can show the progress bar and, at the end, the report.
"""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from pathlib import Path

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from kb import policy
from kb.errors import NotFound
from kb.extensions import db
from kb.models.story import PUBLISHED
from kb.importers import FORMATS, STATUSES, FileProblem, Report, detect_format, import_file
from kb.web.hooks import actor, require_sign_in

log = logging.getLogger(__name__)

bp = Blueprint("imports", __name__, url_prefix="/curate/import")

_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
_threads: dict[str, threading.Thread] = {}
PROGRESS_EVERY = 25


@bp.before_request
def require_curator():
    """Anonymous visitors sign in first; others need policy.can_import.

    :raise 403: for a signed-in user who may not import.
    """
    gate = require_sign_in()
    if gate is not None:
        return gate
    policy.require(policy.can_import(actor()), "Only curators can import stories.")
    return None


# Jobs -------------------------------------------------------------------------------------------

def jobs_dir() -> Path:
    return Path(current_app.instance_path) / "imports"


def _job_path(job_id: str) -> Path:
    if not _JOB_ID.match(job_id or ""):
        raise NotFound("There is no such import.")
    return jobs_dir() / f"{job_id}.json"


def write_job(folder: Path, job: dict) -> None:
    """Replace the job's state file whole, so a reader never sees half of it."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp", encoding="utf-8") as handle:
        json.dump(job, handle)
    os.replace(handle.name, folder / f"{job['id']}.json")


def read_job(job_id: str) -> dict:
    """The state of an import.

    :raise NotFound: if there is no such import.
    """
    path = _job_path(job_id)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise NotFound("There is no such import.") from None


def _run(app, job: dict, data: bytes, options: dict) -> None:
    folder = Path(app.instance_path) / "imports"
    started = time.perf_counter()

    def on_rows(total: int) -> None:
        job["total"] = total
        write_job(folder, job)

    def progress(step: int) -> None:
        job["done"] += step
        if job["done"] % PROGRESS_EVERY == 0:
            write_job(folder, job)

    with app.app_context():
        try:
            from kb.models import User

            user = db.session.get(User, job["user_id"])
            report = import_file(user, data, job["format"], app=app, progress=progress, on_rows=on_rows, **options)
            report.seconds = time.perf_counter() - started
            job.update(state="done", report=report.to_dict())
        except FileProblem as exc:
            job.update(state="failed", error=str(exc))
        except Exception:  # the page must say the import stopped, whatever stopped it
            log.exception("Import %s stopped", job["id"])
            job.update(state="failed", error="The import stopped because of an error on the server. "
                                             "Stories imported before it are kept; run it again to add the rest.")
        finally:
            db.session.remove()
        write_job(folder, job)


def start_import(user, filename: str, data: bytes, fmt: str, options: dict) -> str:
    """Start importing ``data`` in a thread; returns the job id."""
    job = {"id": secrets.token_hex(16), "user_id": user.id, "filename": filename, "format": fmt,
           "options": options, "state": "running", "done": 0, "total": 0, "report": None, "error": ""}
    write_job(jobs_dir(), job)
    app = current_app._get_current_object()
    thread = threading.Thread(target=_run, args=(app, dict(job), data, options), daemon=True,
                              name=f"import-{job['id'][:8]}")
    _threads[job["id"]] = thread
    thread.start()
    return job["id"]


def wait_for(job_id: str, timeout: float | None = None) -> None:
    """Wait for an import started in this process to end (for tests and scripts)."""
    thread = _threads.get(job_id)
    if thread is not None:
        thread.join(timeout)


# Pages ---------------------------------------------------------------------------------------------

def _form(errors: dict | None = None, values: dict | None = None):
    return render_template("imports/upload.html", errors=errors or {}, values=values or {}, formats=FORMATS,
                           statuses=STATUSES), (422 if errors else 200)


@bp.get("/")
def upload():
    """The upload form. :raise 403: unless a curator."""
    return _form(values={"format": "auto", "status": "submitted"})


@bp.post("/")
def upload_post():
    """Check the form, start the import and go to its progress page.

    :raise 403: unless a curator. Answers 422 with the form for a missing file or bad choice.
    """
    values = {key: request.form.get(key, "") for key in ("format", "status", "dry_run", "private")}
    file = request.files.get("file")
    data = file.read() if file else b""
    errors = {}
    if not data:
        errors["file"] = "Choose a file to import."
    if values["format"] not in ("auto", *FORMATS):
        errors["format"] = "Choose the file's format."
    if values["status"] not in STATUSES:
        errors["status"] = "Choose what the imported stories become."
    elif values["status"] == PUBLISHED and not policy.can_publish_imported(actor()):
        errors["status"] = "Only curators can import stories as published."
    fmt = values["format"]
    if not errors and fmt == "auto":
        try:
            fmt = detect_format(file.filename or "", data)
        except FileProblem as exc:
            errors["format"] = str(exc)
    if errors:
        return _form(errors, values)
    options = {"status": values["status"], "dry_run": bool(values["dry_run"]),
               "include_private": bool(values["private"])}
    job_id = start_import(actor(), (file.filename or "upload")[:200], data, fmt, options)
    return redirect(url_for("imports.job", job_id=job_id), 303)


@bp.get("/<job_id>")
def job(job_id: str):
    """The import's progress bar while it runs, then its report.

    :raise 404: if there is no such import.
    """
    state = read_job(job_id)
    report = Report.from_dict(state["report"]) if state.get("report") else None
    return render_template("imports/job.html", job=state, report=report, formats=FORMATS)


@bp.get("/<job_id>/report.<fmt>")
def download(job_id: str, fmt: str):
    """The report as CSV or JSON, to keep.

    :raise 404: if there is no such import, it has not finished, or fmt is neither csv nor json.
    """
    state = read_job(job_id)
    if not state.get("report") or fmt not in ("csv", "json"):
        raise NotFound("There is no report for this import yet.")
    report = Report.from_dict(state["report"])
    body = report.to_csv() if fmt == "csv" else json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="import-report-{job_id[:8]}.{fmt}"'})


@bp.get("/<job_id>/status.json")
def status(job_id: str):
    """How far the import has got, for the progress bar. :raise 404: if there is no such import."""
    state = read_job(job_id)
    return {"state": state["state"], "done": state["done"], "total": state["total"]}


@bp.get("/formats")
def formats_help():
    """What each import format must look like (docs/import-formats.md)."""
    from kb.config import PROJECT_ROOT

    path = PROJECT_ROOT / "docs" / "import-formats.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "The format guide is not installed here."
    return render_template("imports/formats.html", text=text)
