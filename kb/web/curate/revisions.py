"""Revisions of one story: the list, one revision, a comparison, restoring."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from kb.errors import Invalid, NotFound
from kb.services import revisions
from kb.services.restore import restore_revision
from kb.web.curate.common import bp, done, story_for_curation

from kb.web.hooks import actor


@bp.get("/stories/<int:story_id>/revisions")
def history(story_id: int):
    """Every revision: who, when, what changed and why.

    :raise 403: unless the user is a curator.
    """
    item = story_for_curation(story_id)
    return render_template("curate/revisions.html", story=item, history=revisions.history(actor(), item))


@bp.get("/stories/<int:story_id>/revisions/compare")
def compare(story_id: int):
    """The field-level difference between revisions ``from`` and ``to``.

    :raise 404: if either revision does not exist.
    """
    item = story_for_curation(story_id)
    older, newer = request.args.get("from", type=int), request.args.get("to", type=int)
    if older is None or newer is None:
        raise NotFound("Choose two revisions to compare.")
    changes = revisions.compare(actor(), item, older, newer)
    return render_template("curate/compare.html", story=item, older=older, newer=newer, changes=changes,
                           numbers=[r.number for r in revisions.list_revisions(actor(), item)])


@bp.get("/stories/<int:story_id>/revisions/<int:number>")
def revision(story_id: int, number: int):
    """One revision as it was, with the option to restore it.

    :raise 404: if there is no such revision.
    """
    item = story_for_curation(story_id)
    found = revisions.get_revision(actor(), item, number)
    changes = revisions.diff_snapshots(found.snapshot, revisions.snapshot(item))
    return render_template("curate/revision.html", story=item, revision=found, changes=changes,
                           labels=revisions.FIELD_LABELS)


@bp.post("/stories/<int:story_id>/revisions/<int:number>/restore")
def restore(story_id: int, number: int):
    """Restore revision ``number`` as a new revision.

    :raise 404: if there is no such revision.
    """
    item = story_for_curation(story_id)
    try:
        restore_revision(actor(), item, number)
    except Invalid as exc:
        flash(f"Revision {number} cannot be restored: {'; '.join(exc.errors.values()) or exc.message}")
        return redirect(url_for("curate.revision", story_id=item.id, number=number), 303)
    return done(f"Restored revision {number}.", "curate.history", story_id=item.id)
