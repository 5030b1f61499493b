"""Restoring a revision: the story's content made what it was, as a new revision."""
from __future__ import annotations

from sqlalchemy import select

from kb import policy
from kb.extensions import db
from kb.models import Attachment, Revision, Story
from kb.services import stories
from kb.services.audit import record_event
from kb.services.revisions import RESTORABLE_FIELDS, get_revision


def restore_revision(actor, story: Story, number: int) -> Revision:
    """Make the story's content what it was at revision ``number``, as a new
    revision (the status and address stay as they are now).

    Documents removed since then come back only if the same file is still kept
    for some story; the others are left out.

    :raise Forbidden: unless the actor may restore revisions.
    :raise NotFound: if there is no such revision.
    """
    policy.require(policy.can_restore_revision(actor, story), "Only curators can restore revisions.")
    revision = get_revision(actor, story, number)
    data = {field: revision.snapshot[field] for field in RESTORABLE_FIELDS if field in revision.snapshot}
    if "attachments" in revision.snapshot:
        _restore_attachments(story, revision.snapshot["attachments"])
    stories.update_story(actor, story, data, reason=f"Restored revision {number}")
    record_event(actor, "restore_revision", story, {"revision": number})
    return db.session.scalar(
        select(Revision).where(Revision.story_id == story.id).order_by(Revision.number.desc()).limit(1)
    )


def _restore_attachments(story: Story, items: list[dict]) -> None:
    current = {a.sha256: a for a in story.attachments}
    wanted = []
    for item in items:
        sha = item.get("sha256")
        if sha in current:
            wanted.append(current.pop(sha))
            continue
        kept = db.session.scalar(select(Attachment).where(Attachment.sha256 == sha).limit(1))
        if kept is not None:
            wanted.append(Attachment(
                filename=item.get("filename") or kept.filename, content_type=kept.content_type,
                size=kept.size, sha256=sha, text=kept.text, text_status=kept.text_status,
            ))
    story.attachments = wanted
