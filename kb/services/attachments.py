"""Attachments: documents kept under the instance folder by content hash."""
from __future__ import annotations

from pathlib import Path

from flask import current_app

from kb import policy
from kb.extensions import db
from kb.models import Attachment
from kb.services.errors import NotFound


def stored_path(sha256: str) -> Path:
    """Where the file with this content hash lives."""
    return Path(current_app.config["UPLOAD_DIR"]) / sha256[:2] / sha256


def get_attachment(viewer, attachment_id: int) -> Attachment:
    item = db.session.get(Attachment, attachment_id)
    if item is None or not policy.can_view_story(viewer, item.story) or not stored_path(item.sha256).exists():
        raise NotFound("There is no such document.")
    return item
