"""The JSON API under /api/v1: the same services and policy as the pages.

Reads are open to everyone (published stories only, plus a signed-in user's
own drafts). Writes need a personal API token, sent as
``Authorization: Bearer kb_...``; the session cookie is never used here, so
the API is exempt from CSRF without opening a cross-site hole. Every error is
the one JSON shape of kb/web/errors.py: ``{"ok": false, "status", "error",
"errors"}``.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, current_app, g, jsonify, request, url_for
from jsonschema import Draft202012Validator

from kb import policy, reference, search
from kb.errors import DomainError, Invalid, NotFound
from kb.extensions import csrf, login_manager
from kb.models import SECTIONS, Organisation
from kb.services import catalogue, filing, listing, stories, taxonomy, tokens
from kb.services.revisions import snapshot
from kb.web import openapi
from kb.web.params import bounded_search, search_args

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

class Unauthorized(DomainError):
    status = 401


class UnsupportedMediaType(DomainError):
    status = 415


class BadRequest(DomainError):
    status = 400


class RequestEntityTooLarge(DomainError):
    status = 413


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


def api_actor():
    return g.api_user


def require_token():
    """The signed-in caller.

    :raise 401: if the request carries no token.
    """
    actor = api_actor()
    if not policy.is_signed_in(actor):
        raise Unauthorized("This needs a personal API token: send Authorization: Bearer followed by the token.")
    return actor


# Reading the request -----------------------------------------------------------

def int_arg(name: str, default: int, maximum: int) -> int:
    """A whole-number query parameter between 1 and ``maximum``.

    :raise Invalid: (422) if it is not.
    """
    raw = request.args.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= maximum:
        message = f"{name} must be a whole number from 1 to {maximum:,}."
        raise Invalid(message, {name: message})
    return value


def paging() -> tuple[int, int]:
    return (int_arg("page", 1, openapi.MAX_PAGE),
            int_arg("per_page", current_app.config["PAGE_SIZE"], search.MAX_PER_PAGE))


def _has_surrogate(value) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, list):
        return any(_has_surrogate(item) for item in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    return False


_TOO_DEEP = object()


def _depth(value, limit: int = 64) -> int:
    """How deeply lists and objects nest in ``value`` (counting stops past ``limit``)."""
    if limit <= 0 or not isinstance(value, (list, dict)):
        return 0
    items = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(item, limit - 1) for item in items), default=0)


def json_body(schema_name: str, *, optional: bool = False) -> dict:
    """The request's JSON object, checked against the OpenAPI schema ``schema_name``.

    :raise UnsupportedMediaType: (415) if the body is not sent as application/json.
    :raise BadRequest: (400) if it is not valid JSON or nests deeper than MAX_JSON_DEPTH.
    :raise RequestEntityTooLarge: (413) if it is larger than MAX_JSON_BYTES.
    :raise Invalid: (422) with a message per field if it does not fit the schema.
    """
    if optional and not request.get_data(cache=True):
        return {}
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON, with Content-Type: application/json.")
    if (request.content_length or 0) > openapi.MAX_JSON_BYTES:
        raise RequestEntityTooLarge(f"A JSON body may be up to {openapi.MAX_JSON_BYTES // 1024 // 1024} MB.")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested far too deeply for the parser
        data = _TOO_DEEP
    if data is _TOO_DEEP or _depth(data) > openapi.MAX_JSON_DEPTH:
        raise BadRequest(f"The JSON body is nested more than {openapi.MAX_JSON_DEPTH} levels deep.")
    if data is None and request.get_data(cache=True).strip() != b"null":
        raise BadRequest("The body is not valid JSON.")
    if not isinstance(data, dict):
        raise Invalid("Send a JSON object.", {"body": "Send a JSON object."})
    if _has_surrogate(data):
        raise Invalid("Text must be valid Unicode.", {"body": "Text must be valid Unicode."})
    errors = schema_errors(schema_name, data)
    if errors:
        raise Invalid("There is a problem with what was sent.", errors)
    return data


def schema_errors(schema_name: str, data: dict) -> dict[str, str]:
    """A message per top-level field of ``data`` that does not fit the schema."""
    validator = Draft202012Validator(openapi.resolved_schema(schema_name))
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        if error.validator == "additionalProperties":
            for field in sorted(set(data) - set(error.schema.get("properties", {}))):
                errors.setdefault(field, f"{field} is not a field this accepts.")
            continue
        if error.validator == "required":
            for field in error.validator_value:
                if field not in data:
                    errors.setdefault(field, f"Enter {field}.")
            continue
        field = str(error.path[0]) if error.path else "body"
        errors.setdefault(field, openapi.field_message(field, error.validator))
    return errors


# Representations -----------------------------------------------------------------

def iso(value) -> str | None:
    """ISO 8601; a time always with its offset (SQLite hands back UTC times without one)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat() if value is not None else None


def story_summary(story) -> dict:
    """The short form of a story, as lists and search results show it."""
    return {
        "id": story.id,
        "slug": story.slug,
        "page_url": url_for("public.story", slug=story.slug, _external=True),
        "api_url": url_for("api.story_detail", slug=story.slug, _external=True),
        "title": story.title,
        "kind": story.kind or "",
        "summary": story.summary or "",
        "status": story.status,
        "published_on": iso(story.published_on),
        "organisations": [o.name for o in story.organisations],
        "action_areas": [area.slug for area in story.action_areas],
        "tags": [tag.name for tag in story.tags],
    }


CONTACT_FIELDS = ("contact_name", "contact_role", "contact_organisation", "contact_email", "contact_url",
                  "contact_agreed", "contact_hidden")
SNAPSHOT_FIELDS = ("body", "people", "place", "sector", "stage", "government_level", "methods", *SECTIONS, "evidence_level",
                   "proposed_evidence_level", "evidence_level_reason", *CONTACT_FIELDS, "country",
                   "authority_code", "adapted_from", "adoptions", "links", "featured", "suggested_tags",
                   "suggested_areas")


def story_detail_body(story) -> dict:
    """Every field of a story, in the domain's field names."""
    actor = api_actor()
    body = story_summary(story)
    fields = snapshot(story)
    body.update({key: fields[key] for key in SNAPSHOT_FIELDS})
    if not policy.can_see_contact(actor, story):
        # Readers do not learn a contact who did not agree, or whom a curator hid.
        body.update({key: "" for key in CONTACT_FIELDS[:5]}, contact_agreed=False, contact_hidden=False)
    found = reference.authority(story.authority_code)
    body["region"], body["nation"] = (found.region, found.nation) if found else ("", "")
    body.update({
        "attachments": [
            {"filename": item.filename, "content_type": item.content_type, "size": item.size,
             "url": url_for("public.attachment", attachment_id=item.id, filename=item.filename, _external=True)}
            for item in story.attachments
        ],
        "action_areas": [
            {"slug": link.action_area.slug, "name": link.action_area.name, "reason": link.reason or ""}
            for link in sorted(story.area_links, key=lambda link: link.action_area.position)
        ],
        "related": [s.slug for s in policy.visible_related(actor, story)],
        "source": story.source or "",
        "source_id": story.source_id or "",
        "review_note": (story.review_note or "") if policy.can_view_revisions(actor, story) else "",
        "created_at": iso(story.created_at),
        "updated_at": iso(story.updated_at),
    })
    return body


def page_body(page, represent) -> dict:
    return {"total": page.total, "page": page.page, "per_page": page.per_page, "pages": page.pages,
            "results": [represent(item) for item in page.items]}


def area_body(area, count: int | None = None) -> dict:
    body = {"slug": area.slug, "position": area.position, "name": area.name, "wording": area.wording,
            "page_url": url_for("public.area", slug=area.slug, _external=True)}
    if count is not None:
        body["story_count"] = count
    return body


def tag_body(tag, count: int | None = None) -> dict:
    body = {"name": tag.name, "slug": tag.slug, "description": tag.description or "",
            "aliases": [alias.name for alias in tag.aliases],
            "page_url": url_for("public.tag", slug=tag.slug, _external=True)}
    if count is not None:
        body["story_count"] = count
    return body


def organisation_body(organisation, count: int | None = None) -> dict:
    body = {"name": organisation.name, "slug": organisation.slug,
            "description": organisation.description or "", "url": organisation.url or "",
            "page_url": url_for("public.organisation", slug=organisation.slug, _external=True)}
    if count is not None:
        body["story_count"] = count
    return body


def story_response(story, status: int = 200):
    response = jsonify(story_detail_body(story))
    response.status_code = status
    if status == 201:
        response.headers["Location"] = url_for("api.story_detail", slug=story.slug, _external=True)
    return response


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
