"""Attachments: documents kept under the instance folder by content hash.

A file goes through two steps. ``store_upload`` checks it (size, and a type
decided by its content, never by its name) and writes it to disk by content
hash: nothing in the database changes, so a form shown again with errors can
keep the files already chosen. ``add_attachment`` then attaches a stored file to
a story, with its text extracted for search, a revision and an index change.

What needs the app's settings (``UPLOAD_DIR``, ``MAX_UPLOAD_BYTES``,
``SECRET_KEY`` for upload tokens, the ``PDF_*`` limits) is given the app by
its caller, as search is; nothing here reads Flask's ``current_app``.
"""
from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import tempfile
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeSerializer

from kb import policy
from kb.errors import Invalid, NotFound
from kb.extensions import db
from kb.models import Attachment, Story
from kb.services.changes import record_index_change
from kb.services.revisions import record_revision

log = logging.getLogger(__name__)

PDF = "application/pdf"
TEXT = "text/plain"
EXTENSIONS = {PDF: (".pdf",), TEXT: (".txt", ".text", ".md", ".markdown", ".csv")}
# Names that promise a type: a file called one of these must really be that type.
PROMISED = {".pdf": PDF, ".txt": TEXT, ".text": TEXT, ".md": TEXT, ".markdown": TEXT, ".csv": TEXT,
            ".doc": None, ".docx": None, ".odt": None, ".rtf": None, ".html": None, ".htm": None}
MAX_EXTRACTED_CHARS = 1_000_000
MAX_PDF_PAGES = 2_000
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


@dataclass(frozen=True)
class Upload:
    """A checked file, stored on disk, not yet attached to any story."""

    sha256: str
    filename: str
    content_type: str
    size: int


def stored_path(app, sha256: str) -> Path:
    """Where the file with this content hash lives under the app's UPLOAD_DIR."""
    return Path(app.config["UPLOAD_DIR"]) / sha256[:2] / sha256


def get_attachment(viewer, attachment_id: int, *, app) -> Attachment:
    """The attachment if the viewer may see its story and its file exists.

    :raise NotFound: otherwise.
    """
    item = db.session.get(Attachment, attachment_id)
    if item is None or not policy.can_view_story(viewer, item.story) or not stored_path(app, item.sha256).exists():
        raise NotFound("There is no such document.")
    return item


# Checking and storing ------------------------------------------------------

def detect_type(data: bytes) -> str | None:
    """The content type the bytes really are (PDF or plain text), or None."""
    if b"%PDF-" in data[:1024]:
        return PDF
    sample = data[:65536]
    if b"\x00" in sample:
        return None
    try:
        # A multi-byte character may be cut at the end of the sample.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(data) <= len(sample))
    except UnicodeDecodeError:
        return None
    return TEXT


def safe_filename(name: str, content_type: str) -> str:
    """A file name safe to store and to send back: no folders, no control characters,
    at most 200 characters, ending in an extension that matches its content."""
    name = unicodedata.normalize("NFC", os.path.basename((name or "").replace("\\", "/")))
    name = _UNSAFE_NAME.sub("", name).strip(" .") or "document"
    stem, ext = os.path.splitext(name)
    if ext.lower() not in EXTENSIONS[content_type]:
        stem, ext = name, EXTENSIONS[content_type][0]
    return stem[: 200 - len(ext)] + ext.lower()


def max_upload_bytes(app) -> int:
    return int(app.config["MAX_UPLOAD_BYTES"])


def check_upload(app, filename: str, data: bytes, field: str = "attachments") -> str:
    """The content type of an acceptable upload.

    :raise Invalid: ({field: message}) if it is empty, too large, or neither a PDF
        nor plain text, or if its name promises a type its content is not.
    """
    shown = _UNSAFE_NAME.sub("", os.path.basename((filename or "").replace("\\", "/")))[:100] or "The file"
    limit = max_upload_bytes(app)
    if not data:
        message = f"“{shown}” is empty."
    elif len(data) > limit:
        message = f"“{shown}” must be smaller than {limit // (1024 * 1024)} MB."
    else:
        content_type = detect_type(data)
        promised = PROMISED.get(os.path.splitext(shown)[1].lower(), content_type)
        if content_type is not None and promised == content_type:
            return content_type
        if promised == PDF:
            message = f"“{shown}” is not a PDF: its contents are not a PDF document."
        else:
            message = f"“{shown}” must be a PDF or a plain text file."
    raise Invalid(message, {field: message})


def store_upload(app, filename: str, data: bytes, field: str = "attachments") -> Upload:
    """Check a file and keep it by content hash under UPLOAD_DIR (once per content).

    :raise Invalid: see ``check_upload``.
    """
    content_type = check_upload(app, filename, data, field)
    sha256 = hashlib.sha256(data).hexdigest()
    path = stored_path(app, sha256)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, path)
    return Upload(sha256, safe_filename(filename, content_type), content_type, len(data))


# Uploads carried through a form shown again ------------------------------

def _serializer(app) -> URLSafeSerializer:
    return URLSafeSerializer(app.config["SECRET_KEY"], salt="kb-upload")


def upload_token(actor, upload: Upload, *, app) -> str:
    """A signed token naming a stored upload, valid only for ``actor``."""
    return _serializer(app).dumps({**asdict(upload), "user": getattr(actor, "id", None)})


def upload_from_token(actor, token: str, *, app) -> Upload | None:
    """The upload a token names, if it was made for ``actor`` and the file still exists."""
    try:
        data = _serializer(app).loads(token)
        upload = Upload(data["sha256"], data["filename"], data["content_type"], int(data["size"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if data.get("user") != getattr(actor, "id", None) or not stored_path(app, upload.sha256).exists():
        return None
    return upload


# Text extraction -----------------------------------------------------------

def extract_text(app, upload: Upload) -> tuple[str, str]:
    """(text, status): status is "ok"; "failed" when no text could be had (an
    encrypted, corrupt or image-only PDF); or "over_limits" when extracting it
    took more CPU time, memory or output than allowed (the file is kept either
    way). Never raises for a bad file."""
    path = stored_path(app, upload.sha256)
    if upload.content_type == TEXT:
        return path.read_bytes().decode("utf-8", errors="replace")[:MAX_EXTRACTED_CHARS], "ok"
    return _pdf_text(path, app.config)


def _pdf_text(path: Path, config) -> tuple[str, str]:
    """Extract in a child process limited in CPU time, memory, output and wall time."""
    import subprocess
    import sys

    cpu, memory = int(config["PDF_CPU_SECONDS"]), int(config["PDF_MEMORY_BYTES"])

    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    try:
        done = subprocess.run(
            [sys.executable, "-I", str(Path(__file__).with_name("pdftext.py")), str(path),
             str(MAX_EXTRACTED_CHARS), str(MAX_PDF_PAGES)],
            capture_output=True, timeout=float(config["PDF_WALL_SECONDS"]), preexec_fn=limit)
    except subprocess.TimeoutExpired:
        log.warning("PDF text extraction of %s ran past %s s: kept without text", path.name, config["PDF_WALL_SECONDS"])
        return "", "over_limits"
    if done.returncode != 0:
        over = done.returncode < 0 or b"MemoryError" in done.stderr
        log.info("No text from PDF %s: %s", path.name, done.stderr.decode(errors="replace")[-300:])
        return "", "over_limits" if over else "failed"
    text = done.stdout[:4 * MAX_EXTRACTED_CHARS].decode("utf-8", errors="replace")[:MAX_EXTRACTED_CHARS]
    return (text, "ok") if text else ("", "failed")


# Attaching and removing ------------------------------------------------------

def _attach(app, story: Story, upload: Upload) -> Attachment:
    text, status = extract_text(app, upload)
    item = Attachment(
        filename=upload.filename,
        content_type=upload.content_type,
        size=upload.size,
        sha256=upload.sha256,
        text=text,
        text_status=status,
    )
    story.attachments.append(item)
    return item


def attach(actor, story: Story, uploads, *, app) -> list[Attachment]:
    """Attach stored uploads (under ``app``'s UPLOAD_DIR), text extracted for
    search within its PDF limits, inside a save that keeps the revision
    (``add_attachments`` or ``saving.save_story``).

    :raise Forbidden: unless the actor may edit the story.
    """
    policy.require(policy.can_edit_story(actor, story), "You cannot change this story's documents.")
    return [_attach(app, story, upload) for upload in uploads]


def detach(actor, story: Story, attachment_ids) -> list[str]:
    """Take documents off the story inside a save (the stored file stays: another
    story may share it); the names removed. Ids not on this story are ignored.

    :raise Forbidden: unless the actor may edit the story.
    """
    policy.require(policy.can_edit_story(actor, story), "You cannot change this story's documents.")
    wanted = {int(i) for i in attachment_ids if str(i).isdigit()}
    removed = [item for item in story.attachments if item.id in wanted]
    for item in removed:
        story.attachments.remove(item)
    return [item.filename for item in removed]


def add_attachments(actor, story: Story, uploads: list[Upload], *, app, reason: str = "") -> list[Attachment]:
    """Attach stored uploads to the story as a change of its own (a revision and an index change).

    :raise Forbidden: unless the actor may edit the story.
    """
    items = attach(actor, story, uploads, app=app)
    if items:
        db.session.flush()
        record_revision(actor, story, reason or f"Attached {', '.join(item.filename for item in items)}")
        record_index_change(story.id)
    return items


def add_attachment(actor, story: Story, upload: Upload, *, app) -> Attachment:
    """Attach one stored upload; see ``add_attachments``."""
    return add_attachments(actor, story, [upload], app=app)[0]


def remove_attachments(actor, story: Story, attachment_ids) -> list[str]:
    """Take documents off the story as a change of its own; see ``detach``."""
    names = detach(actor, story, attachment_ids)
    if names:
        db.session.flush()
        record_revision(actor, story, f"Removed {', '.join(names)}")
        record_index_change(story.id)
    return names
