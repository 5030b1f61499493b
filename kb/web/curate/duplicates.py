"""Stories an import flagged as near-duplicates (/curate/duplicates/): the
list with its count, and for one flagged story, merging one of the two into
the other or dismissing the flag."""
from __future__ import annotations

from math import ceil

from flask import request, url_for

from kb.errors import Invalid
from kb.services import near_duplicates
from kb.web.curate.common import bp, done, errors_of, form_page, page_number
from kb.web.hooks import actor


@bp.get("/duplicates/")
def duplicates():
    """Stories flagged as near-duplicates, newest first, with how many there are.

    :raise 403: unless the user may merge stories.
    """
    total = near_duplicates.flagged_count(actor())
    page = page_number()
    return form_page("curate/story_duplicates.html", pairs=near_duplicates.flagged(actor(), page), total=total,
                     page=page, pages=max(1, ceil(total / near_duplicates.PER_PAGE)),
                     page_url=lambda number: url_for("curate.duplicates", page=number))


def _page(story, errors: dict | None = None, values: dict | None = None):
    return form_page("curate/story_duplicate.html", errors, story=story, other=story.duplicate_of,
                     values=values or {})


@bp.get("/duplicates/<int:story_id>")
def duplicate(story_id: int):
    """A flagged story beside the story it looks like, with the merge and the dismissal.

    :raise 403: unless the user may merge stories. :raise 404: if the story is not flagged.
    """
    return _page(near_duplicates.get_flagged(actor(), story_id))


@bp.post("/duplicates/<int:story_id>/merge")
def duplicate_merge(story_id: int):
    """Merge the two stories, keeping the one chosen in ``keep`` ("this" story or the "other").

    :raise 403: unless the user may merge stories. :raise 404: if the story is not flagged.
    """
    story = near_duplicates.get_flagged(actor(), story_id)
    choice = request.form.get("keep", "")
    if choice not in ("this", "other"):
        message = "Choose which story to keep."
        return _page(story, {"keep": message})
    kept, merged = (story, story.duplicate_of) if choice == "this" else (story.duplicate_of, story)
    try:
        near_duplicates.merge(actor(), kept, merged)
    except Invalid as exc:
        return _page(story, errors_of(exc, "keep"), {"keep": choice})
    return done(f"Merged “{merged.title}” into “{kept.title}”.", "curate.duplicates")


@bp.post("/duplicates/<int:story_id>/dismiss")
def duplicate_dismiss(story_id: int):
    """Take the flag off: the two are different stories.

    :raise 403: unless the user may merge stories. :raise 404: if the story is not flagged.
    """
    story = near_duplicates.dismiss(actor(), near_duplicates.get_flagged(actor(), story_id))
    return done(f"“{story.title}” is no longer flagged as a near-duplicate.", "curate.duplicates")
