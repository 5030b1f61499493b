"""Tags and action areas of one story, and a contributor's suggested tags."""
from __future__ import annotations

from flask import request

from kb.errors import Invalid
from kb.services import review, taxonomy
from kb.web.curate.common import bp, done, errors_of, form_page, story_for_curation

from kb.web.hooks import actor


def classify_values(story) -> dict:
    return {
        "tags": "\n".join(t.name for t in story.tags),
        "action_areas": {link.action_area.slug: link.reason for link in story.area_links},
        "reason": "",
    }


def classify_from_form(form) -> dict:
    chosen = form.getlist("action_areas")
    return {
        "tags": form.get("tags", ""),
        "action_areas": {slug: form.get(f"reason-{slug}", "") for slug in chosen},
        "reason": form.get("reason", ""),
    }


def classify_page(story, values: dict, errors: dict | None = None):
    return form_page("curate/classify.html", errors, story=story, values=values,
                     areas=taxonomy.all_action_areas())


@bp.route("/stories/<int:story_id>/classify", methods=["GET", "POST"])
def classify(story_id: int):
    """Set the story's tags (from the vocabulary; curators may add new ones)
    and action areas, each with an optional one-line reason.

    :raise 403: unless the user is a curator.
    """
    item = story_for_curation(story_id)
    if request.method == "GET":
        return classify_page(item, classify_values(item))
    values = classify_from_form(request.form)
    data = {
        "tags": values["tags"],
        "action_areas": [{"slug": s, "reason": r} for s, r in values["action_areas"].items()],
    }
    try:
        review.curate_story(actor(), item, data, values["reason"] or "Tags and action areas")
    except Invalid as exc:
        return classify_page(item, values, errors_of(exc, "tags"))
    return done("Saved the tags and action areas.", "curate.story", story_id=item.id)


@bp.post("/stories/<int:story_id>/suggestions")
def suggestion(story_id: int):
    """Accept (``decision=accept``) or dismiss a contributor's suggested tag."""
    item = story_for_curation(story_id)
    name = request.form.get("tag", "")
    if request.form.get("decision") == "accept":
        review.accept_suggested_tag(actor(), item, name)
        return done(f"Added the tag “{name}”.", "curate.story", story_id=item.id)
    review.dismiss_suggested_tag(actor(), item, name)
    return done(f"Dismissed the suggested tag “{name}”.", "curate.story", story_id=item.id)
