"""Saving a story as one change: the use case behind the contributor's form,
the curator's edit page and the API. The fields are set (a new story is made),
documents are taken off and attached, and the story is sent for review if asked:
one revision, one index change, whatever the save held."""
from __future__ import annotations

from kb import policy
from kb.models import Story
from kb.services import attachments, revisions, stories
from kb.services.audit import record_event
from kb.services.story_input import clean_text


def save_story(actor, story: Story | None, data: dict, *, uploads=(), app=None, remove=(), submit: bool = False,
               reason: str = "", curating: bool = False) -> Story:
    """Create (``story`` None) or change a story with ``data``; take off the
    attachments with the ids in ``remove``; attach the stored ``uploads`` (kept
    under ``app``'s UPLOAD_DIR: ``app`` is needed with uploads); send
    it for review if ``submit``. ``curating`` is a curator's edit: any story,
    every field, with an audit event naming the fields changed and ``reason``.

    :raise Forbidden: if the actor may not make, change, curate or submit it.
    :raise Invalid: with a message per field.
    """
    reason = clean_text(reason)
    if curating:
        policy.require(policy.can_curate_story(actor, story), "Only curators can curate stories.")
        before = revisions.snapshot(story)
    if story is None:
        story, steps = stories.new_story(actor, data), ["Created"]
    else:
        story, steps = stories.change_story(actor, story, data), ["Edited by a curator" if curating else "Edited"]
    removed = attachments.detach(actor, story, remove)
    added = attachments.attach(actor, story, uploads, app=app)
    if submit:
        stories.mark_submitted(actor, story)
    steps += [f"removed {', '.join(removed)}"] * bool(removed)
    steps += [f"attached {', '.join(item.filename for item in added)}"] * bool(added)
    steps += ["submitted"] * submit
    stories.record_save(actor, story, reason or "; ".join(steps))
    if curating:
        changed = [c.field for c in revisions.diff_snapshots(before, revisions.snapshot(story))]
        record_event(actor, "edit_story", story, {"fields": changed, "reason": reason})
    return story
