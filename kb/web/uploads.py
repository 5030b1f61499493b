"""The documents chosen on a story form, for every page that has one: the
files sent now and those chosen before (carried in signed tokens), stored by
content hash, and listed on the form so that a form shown again keeps them."""
from __future__ import annotations

from flask import current_app, request
from wtforms.fields.choices import SelectChoice

from kb import policy
from kb.errors import Invalid
from kb.services import attachments
from kb.web.hooks import actor


def uploaded_files(field: str) -> list:
    """The files sent in ``field``, leaving out empty file inputs."""
    return [item for item in request.files.getlist(field) if item and item.filename]


def store_files(files, field: str = "attachments") -> tuple[list[attachments.Upload], list[str]]:
    """Each file checked (content and size, as ``attachments.check_upload``) and
    stored: the uploads, and a message for each file refused."""
    uploads, problems = [], []
    for item in files:
        try:
            data = item.stream.read(attachments.max_upload_bytes(current_app) + 1)
            uploads.append(attachments.store_upload(current_app, item.filename, data, field))
        except Invalid as exc:
            problems.extend(exc.errors.values())
    return uploads, problems


def keep_uploads(form) -> tuple[list[attachments.Upload], list[str]]:
    """The files chosen now and before on ``form`` (a StoryForm), stored and listed
    on the form, and the messages for files refused (also at the field)."""
    who = actor()
    problems: list[str] = []
    tokens = form.pending_attachments.data or []
    uploads = [u for u in (attachments.upload_from_token(who, t, app=current_app) for t in tokens) if u]
    chosen = uploaded_files("attachments")
    if chosen and not policy.is_signed_in(who):
        problems.append("Choose your files again after you have signed in: "
                        "files are only kept for people who are signed in.")
        chosen = []
    stored, refused = store_files(chosen)
    uploads += stored
    problems += refused
    unique = list({(u.sha256, u.filename): u for u in uploads}.values())
    tokens = [attachments.upload_token(who, u, app=current_app) for u in unique]
    form.pending_attachments.choices = [
        SelectChoice(token, f"{u.filename} ({max(1, round(u.size / 1024))} KB)") for token, u in zip(tokens, unique)
    ]
    form.pending_attachments.data = tokens
    form.attachments.errors = list(problems)
    return unique, problems


def offer_removal(form, story):
    """``form`` offering to remove each of the story's documents."""
    form.remove_attachments.choices = [SelectChoice(str(a.id), f"Remove {a.filename}") for a in story.attachments]
    return form
