"""The curators' import page: upload a file, watch its progress, read and
download the report, resume an import whose server stopped.

The job itself (its file, progress and report) is kept in the database by
``kb.importers.jobs``, so whichever worker or node serves these pages shows it.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from kb import policy
from kb.errors import NotFound
from kb.importers import FORMATS, STATUSES, FileProblem, detect_format, jobs
from kb.importers.mapping import DEFAULT as DEFAULT_MAP, FieldMap, MapProblem
from kb.models.story import PUBLISHED
from kb.web.hooks import actor, require_sign_in

bp = Blueprint("imports", __name__, url_prefix="/curate/import")


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


# Pages ---------------------------------------------------------------------------------------------

def _form(errors: dict | None = None, values: dict | None = None):
    return render_template("imports/upload.html", errors=errors or {}, values=values or {}, formats=FORMATS,
                           statuses=STATUSES, recent=jobs.recent_jobs(current_app, actor())), \
        (422 if errors else 200)


@bp.get("/")
def upload():
    """The upload form. :raise 403: unless a curator."""
    return _form(values={"format": "auto", "status": "submitted"})


@bp.post("/")
def upload_post():
    """Check the form, start the import and go to its progress page.

    The optional mapping file (``map``) is read and checked as ``kb import --map`` reads it.

    :raise 403: unless a curator. Answers 422 with the form for a missing file, a bad
        choice or a mapping file that cannot be used.
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
    field_map = DEFAULT_MAP
    map_file = request.files.get("map")
    map_data = map_file.read() if map_file else b""
    if map_data:
        try:
            field_map = FieldMap.from_file(map_data)
        except MapProblem as exc:
            errors["map"] = f"The mapping file cannot be used: {exc}"
    elif map_file and map_file.filename:
        errors["map"] = "The mapping file is empty."
    if errors:
        return _form(errors, values)
    options = {"status": values["status"], "dry_run": bool(values["dry_run"]),
               "include_private": bool(values["private"]), "field_map": field_map}
    job_id = jobs.start_import(current_app._get_current_object(), actor(), (file.filename or "upload")[:200],
                               data, fmt, **options)
    return redirect(url_for("imports.job", job_id=job_id), 303)


@bp.get("/<job_id>")
def job(job_id: str):
    """The import's progress bar while it runs, then its report.

    :raise 404: if there is no such import.
    """
    view = jobs.get_job(current_app, actor(), job_id)
    return render_template("imports/job.html", job=view, report=view.report, formats=FORMATS)


@bp.post("/<job_id>/resume")
def resume(job_id: str):
    """Run again, from its stored file, an import whose server stopped.

    :raise 404: if there is no such import. :raise 403: unless policy lets the user resume it.
    :raise 409: if it has not stopped, or someone resumed it first.
    """
    jobs.resume_job(current_app._get_current_object(), actor(), job_id)
    return redirect(url_for("imports.job", job_id=job_id), 303)


@bp.get("/<job_id>/report.<fmt>")
def download(job_id: str, fmt: str):
    """The report as CSV or JSON, to keep.

    :raise 404: if there is no such import, it has not finished, or fmt is neither csv nor json.
    """
    report = jobs.get_job(current_app, actor(), job_id).report
    if report is None or fmt not in ("csv", "json"):
        raise NotFound("There is no report for this import yet.")
    body = report.to_csv() if fmt == "csv" else json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="import-report-{job_id[:8]}.{fmt}"'})


@bp.get("/<job_id>/status.json")
def status(job_id: str):
    """How far the import has got, for the progress bar. :raise 404: if there is no such import."""
    view = jobs.get_job(current_app, actor(), job_id)
    return {"state": view.state, "done": view.done, "total": view.total}


@bp.get("/formats")
def formats_help():
    """What each import format must look like (docs/import-formats.md)."""
    from kb.config import PROJECT_ROOT

    path = PROJECT_ROOT / "docs" / "import-formats.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "The format guide is not installed here."
    return render_template("imports/formats.html", text=text)
