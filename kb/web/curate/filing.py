"""Filing under the action areas from kb's suggestions (/curate/filing/):
the stories not yet filed, and accepting or declining a suggested area or
tag on one story. Bulk filing goes through the bulk
confirmation of /curate/bulk.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from kb.errors import Invalid
from kb.services import filing, taxonomy
from kb.web.curate.common import bp, page_number, story_for_curation
from kb.web.hooks import actor


@bp.get("/filing/")
def filing_queue():
    """Published stories filed under no area, most confidently suggested first,
    with how many are ready to file in bulk per area.

    :raise 403: unless the user is a curator.
    """
    return render_template("curate/filing.html", queue=filing.filing_queue(actor(), page_number()),
                           areas=taxonomy.all_action_areas(), bulk_confidence=filing.BULK_CONFIDENCE,
                           page_url=lambda number: url_for("curate.filing_queue", page=number))


def _back(story_id: int):
    """Back to the suggestions on the story's review page."""
    return redirect(url_for("curate.story", story_id=story_id) + "#suggestions", 303)


@bp.post("/filing/stories/<int:story_id>/areas/<slug>")
def area_decision(story_id: int, slug: str):
    """Accept (``decision=accept``, with the reason as edited) or decline
    (with an optional reason) one suggested area of one story.

    :raise 403: unless the user is a curator. :raise 404: if there is no such story.
    """
    story = story_for_curation(story_id)
    reason = request.form.get("reason", "")
    try:
        if request.form.get("decision") == "accept":
            filing.accept_area(actor(), story, slug, reason)
            flash(f"Filed “{story.title}” under {slug_name(slug)}.", "success")
        else:
            filing.decline_area(actor(), story, slug, reason)
            flash(f"Declined {slug_name(slug)} for “{story.title}”; it will not be suggested again.", "success")
    except Invalid as exc:
        flash(exc.message)
    return _back(story.id)


@bp.post("/filing/stories/<int:story_id>/tags/<int:tag_id>")
def tag_decision(story_id: int, tag_id: int):
    """Accept (``decision=accept``) or decline one suggested tag of the vocabulary.

    :raise 403: unless the user is a curator. :raise 404: if the tag is not suggested.
    """
    story = story_for_curation(story_id)
    if request.form.get("decision") == "accept":
        filing.accept_tag(actor(), story, tag_id)
        flash("Added the suggested tag.", "success")
    else:
        filing.decline_tag(actor(), story, tag_id)
        flash("Declined the suggested tag; it will not be suggested again.", "success")
    return _back(story.id)


def slug_name(slug: str) -> str:
    return next((f"“{a.name}”" for a in taxonomy.all_action_areas() if a.slug == slug), "the area")
