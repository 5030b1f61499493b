"""The JSON API under /api/v1: the same services and policy as the pages.

Reads are open to everyone (published stories only, plus a signed-in user's
own drafts). Writes need a personal API token, sent as
``Authorization: Bearer kb_...``; the session cookie is never used here, so
the API is exempt from CSRF without opening a cross-site hole. Every error is
the one JSON shape of kb/web/errors.py: ``{"ok": false, "status", "error",
"errors"}``.
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request, url_for

from kb import policy, search
from kb.errors import Invalid, NotFound
from kb.extensions import csrf, login_manager
from kb.models import Organisation
from kb.services import catalogue, filing, listing, saving, stories, taxonomy, tokens
from kb.web import openapi
from kb.web.api.bodies import (
    area_body,
    organisation_body,
    page_body,
    story_response,
    story_summary,
    tag_body,
)
from kb.web.api.reading import Unauthorized, UnsupportedMediaType, api_actor, json_body, paging
from kb.web.params import bounded_search, search_args
from kb.web.uploads import store_files, uploaded_files

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

# Who is calling ----------------------------------------------------------------

@bp.before_request
def authenticate() -> None:
    """Resolve the bearer token, if any, into the acting user.

    :raise 401: if a token is sent but is not a live token of an active user.
    """
    header = request.headers.get("Authorization", "")
    g.api_user = login_manager.anonymous_user()
    if not header:
        return
    scheme, _, credentials = header.partition(" ")
    user = tokens.user_for_token(credentials.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise Unauthorized("The API token is not valid: it may have been revoked. "
                           "Send Authorization: Bearer followed by a token from your account page.")
    g.api_user = user


@bp.after_request
def challenge(response):
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="kb"'
    response.headers.setdefault("Cache-Control", "no-store" if request.headers.get("Authorization") else "no-cache")
    return response


def require_token():
    """The signed-in caller.

    :raise 401: if the request carries no token.
    """
    actor = api_actor()
    if not policy.is_signed_in(actor):
        raise Unauthorized("This needs a personal API token: send Authorization: Bearer followed by the token.")
    return actor


# The description of the API ------------------------------------------------------------

@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 document of this API."""
    return jsonify(openapi.document(url_for("api.openapi_document", _external=True).rsplit("/", 1)[0]))


# Search -------------------------------------------------------------------------------------

@bp.get("/search")
def search_results():
    """Search published stories: the same search, parameters and facets as the /search page.

    :raise 422: if page, per_page or sort is out of range.
    """
    args = search_args()
    page, per_page = paging()
    if args["sort"] not in search.SORTS:
        message = f"sort must be one of {', '.join(search.SORTS)}."
        raise Invalid(message, {"sort": message})
    with bounded_search(args["q"]):
        found = search.search_stories(current_app, args["q"], args["filters"], args["sort"], page, per_page=per_page)
    return jsonify({
        "query": found.query, "total": found.total, "page": found.page, "per_page": found.per_page,
        "pages": found.pages, "sort": found.sort, "message": found.message, "suggestion": found.suggestion,
        "results": [{**story_summary(story), "score": hit.score, "highlight": str(hit.snippet or "")}
                    for story, hit in listing.search_hits(found)],
        "facets": {name: [{"value": f.value, "label": f.label, "count": f.count, "selected": f.selected,
                           "depth": f.depth}
                          for f in values] for name, values in found.facets.items()},
    })


# Stories --------------------------------------------------------------------------------

@bp.get("/stories")
def story_list():
    """Published stories, newest first.

    :raise 422: if page or per_page is out of range.
    """
    page, per_page = paging()
    result = listing.paginate(listing.newest_first(listing.published()), page, per_page)
    return jsonify(page_body(result, story_summary))


@bp.get("/stories/<slug>")
def story_detail(slug: str):
    """One story: a published one, or the caller's own draft, or any for a curator.

    :raise 404: if there is no such story the caller may see.
    """
    return story_response(stories.get_story(api_actor(), slug))


@bp.get("/stories/<slug>/suggestions")
def story_suggestions(slug: str):
    """kb's suggested areas (neither filed nor declined) and tags of one story.

    :raise 401: without a token. :raise 403: unless the caller is a curator.
    :raise 404: if there is no such story.
    """
    actor = require_token()
    story = stories.get_story(actor, slug)
    return jsonify({
        "areas": [{"slug": o.area.slug, "name": o.area.name, "confidence": o.confidence, "reason": o.reason}
                  for o in filing.area_offers(actor, story)],
        "tags": [{"name": tag.name, "slug": tag.slug} for tag in filing.tag_offers(actor, story)],
    })


@bp.post("/stories")
def story_create():
    """Create a draft owned by the caller.

    :raise 401: without a token. :raise 403: if a contributor sets curated fields.
    :raise 415, 400, 422: for a body that is not a JSON story.
    """
    actor = require_token()
    data = json_body("StoryCreate")
    return story_response(stories.create_story(actor, data, reason="Created through the API"), 201)


@bp.patch("/stories/<slug>")
def story_update(slug: str):
    """Change the fields sent.

    :raise 401: without a token. :raise 403: if the caller may not edit it.
    :raise 404: if there is no such story the caller may see. :raise 422: for bad fields.
    """
    actor = require_token()
    story = stories.get_story(actor, slug)
    data = json_body("StoryInput")
    return story_response(stories.update_story(actor, story, data, reason="Edited through the API"))


@bp.post("/stories/<slug>/attachments")
def story_attach(slug: str):
    """Attach documents, sent as multipart/form-data in ``file`` (one or more):
    PDF or plain text, checked by content and size as on the story form; one
    revision for them all.

    :raise 401: without a token. :raise 403: if the caller may not edit it.
    :raise 404: if there is no such story the caller may see.
    :raise 415: if the body is not multipart/form-data.
    :raise 422: if no file was sent, or a file is empty, too large or of another type.
    """
    actor = require_token()
    story = stories.get_story(actor, slug)
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("Send the documents as multipart/form-data, each in a field named file.")
    files = uploaded_files("file")
    if not files:
        raise Invalid("Send at least one document in a field named file.", {"file": "Choose a file to attach."})
    policy.require(policy.can_edit_story(actor, story), "You cannot change this story's documents.")
    uploads, problems = store_files(files, "file")
    if problems:
        raise Invalid("There is a problem with the documents sent.", {"file": " ".join(problems)})
    return story_response(saving.save_story(actor, story, {}, uploads=uploads, app=current_app), 201)


def _transition(slug: str, change, schema_name: str | None = None, field: str | None = None):
    actor = require_token()
    story = stories.get_story(actor, slug)
    data = json_body(schema_name, optional=True) if schema_name else {}
    if field:
        return story_response(change(actor, story, data.get(field, "")))
    return story_response(change(actor, story))


@bp.post("/stories/<slug>/submit")
def story_submit(slug: str):
    """Send the caller's draft for review.

    :raise 401, 403, 404: as for editing. :raise 422: if the story lacks what review needs.
    """
    return _transition(slug, stories.submit_story)


@bp.post("/stories/<slug>/withdraw")
def story_withdraw(slug: str):
    """Take the caller's story out of review. :raise 401, 403, 404."""
    return _transition(slug, stories.withdraw_story)


@bp.post("/stories/<slug>/publish")
def story_publish(slug: str):
    """Publish a story (curators), with an optional note. :raise 401, 403, 404, 422."""
    return _transition(slug, stories.publish_story, "NoteInput", "note")


@bp.post("/stories/<slug>/request-changes")
def story_request_changes(slug: str):
    """Send a story back to its contributor with a note (curators). :raise 401, 403, 404, 422."""
    return _transition(slug, stories.request_changes, "NoteInput", "note")


@bp.post("/stories/<slug>/reject")
def story_reject(slug: str):
    """Reject a story with a reason (curators). :raise 401, 403, 404, 422."""
    return _transition(slug, stories.reject_story, "ReasonInput", "reason")


# Action areas, tags, organisations -----------------------------------------------------------

@bp.get("/action-areas")
def area_list():
    """The four action areas, each with its count of published stories."""
    counts = listing.published_counts_by_area()
    areas = taxonomy.all_action_areas()
    return jsonify({"total": len(areas), "results": [area_body(a, counts.get(a.id, 0)) for a in areas]})


@bp.get("/action-areas/<slug>")
def area_detail(slug: str):
    """One action area and a page of its published stories. :raise 404, 422."""
    area = taxonomy.get_action_area(slug)
    page, per_page = paging()
    return jsonify({**area_body(area), "stories": page_body(listing.stories_in_area(area, page, per_page), story_summary)})


@bp.get("/tags")
def tag_list():
    """The tag vocabulary by name, with counts of published stories. :raise 422."""
    page, per_page = paging()
    return jsonify(page_body(catalogue.tags_with_counts(page, per_page), lambda row: tag_body(*row)))


@bp.get("/tags/<slug>")
def tag_detail(slug: str):
    """One tag (an alias or a merged tag gives its survivor) and a page of its stories.

    :raise 404, 422.
    """
    tag = taxonomy.find_tag(slug)
    if tag is None:
        raise NotFound("There is no such tag.")
    page, per_page = paging()
    return jsonify({**tag_body(tag), "stories": page_body(listing.stories_with_tag(tag, page, per_page), story_summary)})


@bp.get("/organisations")
def organisation_list():
    """Organisations by name, with counts of published stories. :raise 422."""
    page, per_page = paging()
    result = catalogue.organisations_with_counts(page, per_page)
    return jsonify(page_body(result, lambda row: organisation_body(*row)))


@bp.get("/organisations/<slug>")
def organisation_detail(slug: str):
    """One organisation and a page of its published stories. :raise 404, 422."""
    organisation = taxonomy.get_by_slug(Organisation, slug)
    page, per_page = paging()
    result = listing.stories_of_organisation(organisation, page, per_page)
    return jsonify({**organisation_body(organisation), "stories": page_body(result, story_summary)})
