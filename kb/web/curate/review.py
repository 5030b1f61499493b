"""Reviewing: the queue, every story by title, one story with what changed
since a curator last saw it, and publish, request changes, reject,
unpublish and feature."""
from __future__ import annotations

from flask import render_template, request

from kb.errors import Invalid
from kb.models import KINDS, STATUSES
from kb.services import filing, review, stories, taxonomy
from kb.web.curate.common import bp, done, errors_of, form_page, page_number, story_for_curation

from kb.web.hooks import actor


# The queue -------------------------------------------------------------------

@bp.get("/")
def queue():
    """Submitted stories, oldest first, filterable by kind and submitter.

    :raise 403: unless the user is a curator.
    """
    kind = request.args.get("kind", "")
    submitter = request.args.get("submitter", type=int)
    result = review.review_queue(actor(), kind if kind in KINDS else "", submitter)
    return render_template("curate/queue.html", queue=result, kinds=KINDS, kind=kind, submitter=submitter)


@bp.get("/stories")
def all_stories():
    """Every story of any status, found by title.

    :raise 403: unless the user is a curator.
    """
    text, status = request.args.get("q", ""), request.args.get("status", "")
    page = review.find_stories(actor(), text, status, page_number())
    return render_template("curate/stories.html", page=page, q=text, status=status, statuses=STATUSES)


# One story -------------------------------------------------------------------

def review_page(story, errors: dict | None = None, values: dict | None = None):
    seen, changes = review.changes_since_seen(actor(), story)
    return form_page("curate/review.html", errors, story=story, seen=seen, changes=changes,
                     values=values or {}, areas=taxonomy.all_action_areas(),
                     area_offers=filing.area_offers(actor(), story), tag_offers=filing.tag_offers(actor(), story))


@bp.get("/stories/<int:story_id>")
def story(story_id: int):
    """The story as readers will see it, what changed since a curator last saw
    it, and the review and curation actions.

    :raise 403: unless the user is a curator. :raise 404: if there is no such story.
    """
    return review_page(story_for_curation(story_id))


@bp.post("/stories/<int:story_id>/publish")
def publish(story_id: int):
    """Publish the story; it is searchable at once.

    :raise 403: if it may not be published now.
    """
    item = story_for_curation(story_id)
    try:
        stories.publish_story(actor(), item, request.form.get("note", ""))
    except Invalid as exc:
        return review_page(item, errors_of(exc, "publish"))
    return done(f"Published “{item.title}”.", "curate.story", story_id=item.id)


def decide_with_note(story_id: int, decide, field: str, message: str, *, to_story: bool = False):
    """Make a curator's decision that needs a note, ``decide(actor, story, note)``
    with the note typed in ``field``; flash ``message`` (with ``{title}``) and go
    back to the queue (or to the story). Without a note, the review page again
    (422) saying so at the field."""
    item = story_for_curation(story_id)
    note = request.form.get(field, "")
    try:
        decide(actor(), item, note)
    except Invalid as exc:
        return review_page(item, {field: exc.message}, {field: note})
    if to_story:
        return done(message.format(title=item.title), "curate.story", story_id=item.id)
    return done(message.format(title=item.title), "curate.queue")


@bp.post("/stories/<int:story_id>/request-changes")
def request_changes(story_id: int):
    """Send the story back to its contributor with a note (required).

    :raise 403: if it cannot be reviewed now.
    """
    return decide_with_note(story_id, stories.request_changes, "note", "Asked for changes to “{title}”.")


@bp.post("/stories/<int:story_id>/reject")
def reject(story_id: int):
    """Reject the story with a reason (required).

    :raise 403: if it cannot be reviewed now.
    """
    return decide_with_note(story_id, stories.reject_story, "reason", "Rejected “{title}”.")


@bp.post("/stories/<int:story_id>/unpublish")
def unpublish(story_id: int):
    """Take a published story down, with a reason (required).

    :raise 403: if it is not published.
    """
    return decide_with_note(story_id, stories.unpublish_story, "unpublish_reason", "Unpublished “{title}”.",
                            to_story=True)


@bp.post("/stories/<int:story_id>/feature")
def feature(story_id: int):
    """Feature the story on the home page (``featured=1``) or stop featuring it."""
    item = story_for_curation(story_id)
    featured = request.form.get("featured") == "1"
    stories.set_featured(actor(), item, featured)
    return done(f"“{item.title}” is {'now' if featured else 'no longer'} featured.", "curate.story", story_id=item.id)
