"""The OpenAPI 3.1 description of /api/v1. The API checks request bodies against
these same schemas, so the document and the behaviour cannot drift apart."""
from __future__ import annotations

import copy
from functools import lru_cache

from kb import dates
from kb.models import EVIDENCE_LEVELS, GOVERNMENT_LEVELS, KINDS, SECTIONS, STAGES, STATUSES
from kb.models.story import LIMITS, LINK_RELS, MAX_ADOPTIONS, MAX_LINKS
from kb.search import FILTERS, MAX_PER_PAGE, SORTS

VERSION = "1.0.0"
MAX_PAGE = 1_000_000

TEXT = {"type": "string"}
NAMES = {"type": "array", "items": TEXT}
# Every list in a request body has a documented maximum, checked before any work.
MAX_NAMES = 50          # organisations, people, tags, suggested tags of one story
MAX_NAME_LENGTH = LIMITS["name"]
MAX_RELATED = 50
MAX_AREAS = 4
MAX_JSON_DEPTH = 8      # a story with links with tags is 4 levels deep
MAX_JSON_BYTES = 2 * 1024 * 1024
NAMES_IN = {"type": "array", "items": {"type": "string", "maxLength": MAX_NAME_LENGTH}, "maxItems": MAX_NAMES}
SLUGS_IN = {"type": "array", "items": {"type": "string", "maxLength": MAX_NAME_LENGTH}}
DATE_TEXT = "A year, a month or a day (YYYY, YYYY-MM or YYYY-MM-DD), as precise as it was given."
DATE_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}


def limited(field: str) -> dict:
    """Text no longer than the story field's limit (``LIMITS`` in kb/models/story.py)."""
    return {"type": "string", "maxLength": LIMITS[field]}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict, required=None, **extra) -> dict:
    schema = {"type": "object", "properties": properties, "required": list(required or properties),
              "additionalProperties": False}
    schema.update(extra)
    return schema


def _page_of(item: dict) -> dict:
    return _obj({
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1},
        "pages": {"type": "integer", "minimum": 1},
        "results": {"type": "array", "items": item},
    })


STORY_SUMMARY = {
    "id": {"type": "integer"},
    "slug": TEXT,
    "page_url": {"type": "string", "format": "uri"},
    "api_url": {"type": "string", "format": "uri"},
    "title": TEXT,
    "kind": {"type": "string", "enum": ["", *KINDS]},
    "summary": TEXT,
    "status": {"type": "string", "enum": list(STATUSES)},
    "published_on": {"type": ["string", "null"], "pattern": dates.ISO_OUT_PATTERN, "description": DATE_TEXT},
    "organisations": NAMES,
    "action_areas": {"type": "array", "items": TEXT, "description": "Action area slugs."},
    "tags": NAMES,
}

LINK = _obj({
    "url": {"type": "string", "description": "A full web address (http or https)."},
    "title": TEXT,
    "rel": {"type": "string", "enum": list(LINK_RELS)},
    "tags": NAMES_IN,
}, required=["url"])

LEVEL = {"type": "integer", "minimum": 0, "maximum": max(EVIDENCE_LEVELS),
         "description": "Evidence level, 0 to 5 (Nesta's Standards of Evidence): "
                        + "; ".join(f"{level} {label.split(': ')[-1].lower()}" for level, (label, _) in EVIDENCE_LEVELS.items())}
SECTION_TEXT = {name: {**limited(name), "description": f"Markdown: {hint}"}
                for name, (_, hint) in SECTIONS.items()}
ADOPTION = _obj({
    "organisation": {"type": "string", "description": "The organisation that took the idea up."},
    "year": {"type": ["integer", "null"]},
    "story": {"type": "string", "description": "Slug of the adopter's own story in kb, or empty."},
    "note": {"type": "string", "description": "How it was adapted."},
}, required=["organisation"])
CONTACT = {
    **{name: limited(name) for name in ("contact_name", "contact_role", "contact_organisation", "contact_email",
                                        "contact_url")},
    "contact_agreed": {"type": "boolean", "description": "The contact agreed to be shown to readers."},
}
PLACE = {
    "country": {"type": "string", "description": "ISO 3166-1 alpha-2 code (a country's name is read too)."},
    "authority_code": {"type": "string",
                       "description": "ONS GSS code of a UK local authority (its name is read too)."},
}

STORY_INPUT = {
    "type": "object",
    "additionalProperties": False,
    "description": "The story fields to set. Tags, action areas, related and featured are for curators; "
                   "contributors suggest with suggested_tags and suggested_areas.",
    "properties": {
        "title": {**limited("title"), "pattern": r"\S", "description": "Not blank."},
        "kind": {"type": "string", "enum": ["", *KINDS]},
        "summary": limited("summary"),
        "body": {**limited("body"), "description": "Markdown."},
        "published_on": {"type": ["string", "null"], "pattern": dates.ISO_PATTERN, "description": DATE_TEXT},
        "organisations": NAMES_IN,
        "people": NAMES_IN,
        "place": limited("place"),
        "sector": limited("sector"),
        "stage": {"type": "string", "enum": ["", *STAGES]},
        "government_level": {"type": "string", "enum": ["", *GOVERNMENT_LEVELS]},
        "methods": {**NAMES_IN, "description": "The ways of working the story used."},
        **SECTION_TEXT,
        "evidence": {"type": "string", "deprecated": True, "description": "The old name of results."},
        "evidence_level": {**LEVEL, "description": "Curators: " + LEVEL["description"]},
        "proposed_evidence_level": {"type": ["integer", "null"], "minimum": 0, "maximum": max(EVIDENCE_LEVELS),
                                    "description": "The contributor's proposed evidence level."},
        "evidence_level_reason": limited("evidence_level_reason"),
        **CONTACT,
        "contact_hidden": {"type": "boolean", "description": "Curators: hide the contact from readers."},
        **PLACE,
        "adapted_from": {"type": "string", "description": "Slug of the story this idea was adapted from."},
        "adoptions": {"type": "array", "items": ADOPTION, "maxItems": MAX_ADOPTIONS},
        "links": {"type": "array", "items": LINK, "maxItems": MAX_LINKS},
        "action_areas": {"type": "array", "maxItems": MAX_AREAS, "items": {"anyOf": [
            TEXT, _obj({"slug": TEXT, "reason": TEXT}, required=["slug"])]}},
        "tags": NAMES_IN,
        "related": {**SLUGS_IN, "maxItems": MAX_RELATED, "description": "Slugs of related stories."},
        "featured": {"type": "boolean"},
        "suggested_tags": NAMES_IN,
        "suggested_areas": {**SLUGS_IN, "maxItems": MAX_AREAS, "description": "Action area slugs."},
        "source": limited("source"),
        "source_id": limited("source_id"),
    },
}

STORY = _obj({
    **STORY_SUMMARY,
    "body": TEXT,
    "people": NAMES,
    "place": TEXT,
    "sector": TEXT,
    "stage": {"type": "string", "enum": ["", *STAGES]},
    "government_level": {"type": "string", "enum": ["", *GOVERNMENT_LEVELS]},
    "methods": NAMES,
    **{name: TEXT for name in SECTIONS},
    "evidence_level": LEVEL,
    "proposed_evidence_level": {"type": ["integer", "null"]},
    "evidence_level_reason": TEXT,
    **{name: {"type": "boolean"} if name in ("contact_agreed", "contact_hidden") else TEXT
       for name in (*CONTACT, "contact_hidden")},
    "country": TEXT,
    "authority_code": TEXT,
    "region": {"type": "string", "description": "The authority's English region, if any."},
    "nation": {"type": "string", "description": "The authority's nation, if any."},
    "adapted_from": TEXT,
    "adoptions": {"type": "array", "items": {**ADOPTION, "required": list(ADOPTION["properties"])}},
    "links": {"type": "array", "items": _obj({"url": TEXT, "title": TEXT, "rel": TEXT, "tags": NAMES})},
    "attachments": {"type": "array", "items": _obj({
        "filename": TEXT, "content_type": TEXT, "size": {"type": "integer"},
        "url": {"type": "string", "format": "uri"}})},
    "action_areas": {"type": "array", "items": _obj({"slug": TEXT, "name": TEXT, "reason": TEXT})},
    "related": {"type": "array", "items": TEXT},
    "featured": {"type": "boolean"},
    "suggested_tags": NAMES,
    "suggested_areas": NAMES,
    "source": TEXT,
    "source_id": TEXT,
    "review_note": {"type": "string", "description": "The curator's latest note; empty unless the caller "
                                                    "submitted the story or is a curator."},
    "created_at": DATE_TIME_OR_NULL,
    "updated_at": DATE_TIME_OR_NULL,
})

ACTION_AREA = {"slug": TEXT, "position": {"type": "integer"}, "name": TEXT, "wording": TEXT,
               "page_url": {"type": "string", "format": "uri"}}
TAG = {"name": TEXT, "slug": TEXT, "description": TEXT, "aliases": NAMES,
       "page_url": {"type": "string", "format": "uri"}}
ORGANISATION = {"name": TEXT, "slug": TEXT, "description": TEXT,
                "url": {"type": "string", "description": "The organisation's own website, if known."},
                "page_url": {"type": "string", "format": "uri"}}
COUNT = {"story_count": {"type": "integer", "minimum": 0}}

FACET_VALUE = _obj({"value": TEXT, "label": TEXT, "count": {"type": "integer", "minimum": 0},
                    "selected": {"type": "boolean", "description": "Whether this value filters the results."},
                    "depth": {"type": "integer", "minimum": 0, "maximum": 2,
                              "description": "In the place facet: 0 a country, 1 a nation or region, 2 an authority."}})

SCHEMAS = {
    "Error": _obj({
        "ok": {"const": False},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "error": {"type": "string", "description": "What went wrong, for a person to read."},
        "errors": {"type": "object", "additionalProperties": TEXT,
                   "description": "A message per field (or query parameter), when fields were at fault."},
    }, required=["ok", "status", "error"]),
    "StorySummary": _obj(STORY_SUMMARY),
    "Suggestions": _obj({
        "areas": {"type": "array", "description": "Areas kb suggests that curators have neither filed nor declined.",
                  "items": _obj({"slug": TEXT, "name": TEXT,
                                 "confidence": {"type": "number", "minimum": 0, "maximum": 1}, "reason": TEXT})},
        "tags": {"type": "array", "description": "Tags of the vocabulary the story's text names.",
                 "items": _obj({"name": TEXT, "slug": TEXT})},
    }),
    "Story": STORY,
    "StoryInput": STORY_INPUT,
    "StoryCreate": {**STORY_INPUT, "required": ["title"]},
    "NoteInput": _obj({"note": TEXT}, required=[]),
    "ReasonInput": _obj({"reason": TEXT}, required=[]),
    "StoryPage": _page_of(ref("StorySummary")),
    "ActionArea": _obj({**ACTION_AREA, **COUNT}),
    "ActionAreaList": _obj({"total": {"type": "integer"}, "results": {"type": "array", "items": ref("ActionArea")}}),
    "ActionAreaDetail": _obj({**ACTION_AREA, "stories": ref("StoryPage")}),
    "Tag": _obj({**TAG, **COUNT}),
    "TagPage": _page_of(ref("Tag")),
    "TagDetail": _obj({**TAG, "stories": ref("StoryPage")}),
    "Organisation": _obj({**ORGANISATION, **COUNT}),
    "OrganisationPage": _page_of(ref("Organisation")),
    "OrganisationDetail": _obj({**ORGANISATION, "stories": ref("StoryPage")}),
    "SearchResults": _obj({
        "query": TEXT,
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1},
        "pages": {"type": "integer", "minimum": 1},
        "sort": {"type": "string", "enum": list(SORTS)},
        "message": {"type": "string", "description": "A note about the query (for example how it was read)."},
        "suggestion": {"type": ["string", "null"], "description": "Did you mean: a corrected query, if any."},
        "results": {"type": "array", "items": _obj({
            **STORY_SUMMARY, "score": {"type": ["number", "null"]},
            "highlight": {"type": "string", "description": "A snippet with <mark> around matches (HTML)."}},
            required=list(STORY_SUMMARY))},
        "facets": _obj({name: {"type": "array", "items": FACET_VALUE} for name in FILTERS}, required=[]),
    }, required=["total", "page", "per_page", "pages", "results", "facets"]),
}

# Human messages for a field of the wrong type.
FIELD_TYPES = {
    "title": "text", "kind": "text", "summary": "text", "body": "text", "published_on": "YYYY, YYYY-MM or YYYY-MM-DD",
    "place": "text", "sector": "text", "stage": "text", "evidence": "text", "source": "text",
    **{name: "text" for name in (*SECTIONS, "evidence_level_reason", "contact_name", "contact_role",
                                 "contact_organisation", "contact_email", "contact_url", "country",
                                 "authority_code", "adapted_from")},
    "evidence_level": "a whole number from 0 to 5", "proposed_evidence_level": "a whole number from 0 to 5, or null",
    "contact_agreed": "true or false", "contact_hidden": "true or false",
    "adoptions": "a list of adoptions, each an object with an organisation, and optionally a year, story and note",
    "source_id": "text", "featured": "true or false", "note": "text", "reason": "text",
    "links": "a list of links, each an object with a url, and optionally a title, rel and tags",
    "action_areas": "a list of action area slugs, or of objects with slug and reason",
}


def field_message(field: str, keyword: str) -> str:
    """What to tell the caller about ``field`` failing the schema keyword ``keyword``."""
    if keyword in ("pattern", "minLength") and field != "published_on":
        return f"Enter a {field}." if field == "title" else f"{field} must not be blank."
    if keyword == "maxLength":
        return f"{field} is too long."
    if keyword == "maxItems":
        return f"{field} has too many items."
    if keyword == "enum":
        return f"{field} is not one of the allowed values."
    return f"{field} must be {FIELD_TYPES.get(field, 'a list of text')}."


@lru_cache(maxsize=None)
def _resolved(name: str) -> dict:
    schema = copy.deepcopy(SCHEMAS[name])

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(copy.deepcopy(SCHEMAS[node["$ref"].rsplit("/", 1)[1]]))
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(schema)


def resolved_schema(name: str) -> dict:
    """The component schema ``name`` with its references filled in."""
    return _resolved(name)


# Operations ---------------------------------------------------------------------------

def _param(name: str, where: str, schema: dict, description: str, required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema,
            "description": description}


PAGE = _param("page", "query", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
              "Page number, from 1.")
PER_PAGE = _param("per_page", "query", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20},
                  "Results per page.")
SLUG = _param("slug", "path", {"type": "string", "pattern": "^[^/]+$"}, "The slug in the page's address.")


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


ERRORS = {
    "400": _error("The request is malformed: its body is not valid JSON or is nested too deeply, "
                  "or its address holds a character that cannot be used (NUL)."),
    "401": _error("A token was needed, or the token sent is not valid."),
    "403": _error("The caller may not do this."),
    "404": _error("There is no such thing, or the caller may not see it."),
    "415": _error("The body is not sent as application/json (multipart/form-data for documents)."),
    "422": _error("A field or parameter is not acceptable; `errors` says which."),
}


def _ok(schema: str, description: str, status: str = "200") -> dict:
    return {status: {"description": description, "content": {"application/json": {"schema": ref(schema)}}}}


def _errors(*codes: str) -> dict:
    """The error responses of an operation: any request can be malformed (400)."""
    return {code: ERRORS[code] for code in ("400", *codes)}


READ_SECURITY = [{}, {"bearerAuth": []}]
WRITE_SECURITY = [{"bearerAuth": []}]


def _read(op_id: str, summary: str, schema: str, params: list, errors: tuple) -> dict:
    return {"get": {"operationId": op_id, "summary": summary, "tags": [op_id.split("_")[0]],
                    "parameters": params, "security": READ_SECURITY,
                    "responses": {**_ok(schema, summary), **_errors("401", *errors)}}}


def _body(schema: str, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": ref(schema)}}}


def _transition(op_id: str, summary: str, body: str | None = None) -> dict:
    operation = {"operationId": op_id, "summary": summary, "tags": ["stories"], "parameters": [SLUG],
                 "security": WRITE_SECURITY,
                 "responses": {**_ok("Story", "The story after the change."),
                               **_errors("400", "401", "403", "404", "415", "422")}}
    if body:
        operation["requestBody"] = _body(body, required=False)
    return {"post": operation}


FILTER = {"type": "array", "items": {"type": "string"},
          "description": "Repeat the parameter for several values; the first 10 are used."}
SEARCH_PARAMS = [
    _param("q", "query", {"type": "string"}, "Words to search for; quotes, AND, OR, NOT and field:value work too."),
    _param("area", "query", FILTER, "Action area slugs (repeat the parameter for several)."),
    _param("kind", "query", FILTER, "Kinds of story."),
    _param("tag", "query", FILTER, "Tag slugs (an alias or a merged tag's slug works too)."),
    _param("org", "query", FILTER, "Organisation slugs."),
    _param("year", "query", FILTER, "Years first published."),
    _param("stage", "query", FILTER, "Stages."),
    _param("evidence", "query", FILTER, "An evidence level, 0 to 5: keeps the stories at that level or above."),
    _param("place", "query", FILTER, "A country code (GB), a UK nation or English region (Scotland, North West), "
                                     "or a local authority's ONS code (E08000038)."),
    _param("sort", "query", {"type": "string", "enum": list(SORTS)},
           "Order of results: relevance, newest, or evidence (the highest evidence level first)."),
    PAGE,
    PER_PAGE,
]


def paths() -> dict:
    return {
        "/search": _read("search", "Search published stories, with facet counts over the whole result set.",
                         "SearchResults", SEARCH_PARAMS, ("422",)),
        "/stories": {
            **_read("stories_list", "Published stories, newest first.", "StoryPage", [PAGE, PER_PAGE], ("422",)),
            "post": {"operationId": "stories_create", "summary": "Create a draft story owned by the caller.",
                     "tags": ["stories"], "security": WRITE_SECURITY, "requestBody": _body("StoryCreate"),
                     "responses": {**_ok("Story", "The new draft.", "201"),
                                   **_errors("400", "401", "403", "415", "422")}},
        },
        "/stories/{slug}": {
            **_read("stories_get", "One story: published, the caller's own, or any for a curator.",
                    "Story", [SLUG], ("404",)),
            "patch": {"operationId": "stories_update", "summary": "Change the fields sent.",
                      "tags": ["stories"], "parameters": [SLUG], "security": WRITE_SECURITY,
                      "requestBody": _body("StoryInput"),
                      "responses": {**_ok("Story", "The story after the change."),
                                    **_errors("400", "401", "403", "404", "415", "422")}},
        },
        "/stories/{slug}/suggestions": {"get": {
            "operationId": "stories_suggestions", "summary": "kb's filing suggestions for a story (curators).",
            "tags": ["stories"], "parameters": [SLUG], "security": WRITE_SECURITY,
            "responses": {**_ok("Suggestions", "Suggested areas and tags, not yet reviewed."),
                          **_errors("401", "403", "404")}}},
        "/stories/{slug}/attachments": {"post": {
            "operationId": "stories_attach", "summary": "Attach documents (PDF or plain text) to a story.",
            "description": "Each file is checked by its content and size, as on the story form; "
                           "all of them are attached in one revision.",
            "tags": ["stories"], "parameters": [SLUG], "security": WRITE_SECURITY,
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "array", "items": {"type": "string", "format": "binary"},
                                        "description": "One or more files, each in a field named file."}}}}}},
            "responses": {**_ok("Story", "The story with its documents.", "201"),
                          **_errors("401", "403", "404", "415", "422")}}},
        "/stories/{slug}/submit": _transition("stories_submit", "Send the caller's story for review."),
        "/stories/{slug}/withdraw": _transition("stories_withdraw", "Take the caller's story out of review."),
        "/stories/{slug}/publish": _transition("stories_publish", "Publish a story (curators).", "NoteInput"),
        "/stories/{slug}/request-changes": _transition(
            "stories_request_changes", "Send a story back to its contributor with a note (curators).", "NoteInput"),
        "/stories/{slug}/reject": _transition("stories_reject", "Reject a story with a reason (curators).",
                                              "ReasonInput"),
        "/action-areas": _read("areas_list", "The four action areas.", "ActionAreaList", [], ()),
        "/action-areas/{slug}": _read("areas_get", "One action area with a page of its published stories.",
                                      "ActionAreaDetail", [SLUG, PAGE, PER_PAGE], ("404", "422")),
        "/tags": _read("tags_list", "The tag vocabulary.", "TagPage", [PAGE, PER_PAGE], ("422",)),
        "/tags/{slug}": _read("tags_get", "One tag (an alias or merged tag gives its survivor) with its stories.",
                              "TagDetail", [SLUG, PAGE, PER_PAGE], ("404", "422")),
        "/organisations": _read("organisations_list", "Organisations.", "OrganisationPage", [PAGE, PER_PAGE],
                                ("422",)),
        "/organisations/{slug}": _read("organisations_get", "One organisation with its published stories.",
                                       "OrganisationDetail", [SLUG, PAGE, PER_PAGE], ("404", "422")),
    }


def document(server_url: str) -> dict:
    """The whole OpenAPI 3.1 document, with ``server_url`` as its server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kb API",
            "version": VERSION,
            "description": "Public-sector innovation stories. Reads are open; writes need a personal API "
                           "token from the account page, sent as `Authorization: Bearer <token>`. Every error "
                           "has one shape: `{\"ok\": false, \"status\": N, \"error\": \"...\", "
                           "\"errors\": {field: message}}` (`errors` only when fields were at fault).",
        },
        "servers": [{"url": server_url}],
        "paths": paths(),
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "A personal API token (kb_...)."}},
        },
    }
