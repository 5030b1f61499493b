"""The API's JSON representations of stories, areas, tags and organisations."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import jsonify, url_for

from kb import policy, reference
from kb.models import SECTIONS
from kb.services.revisions import snapshot
from kb.web.api.reading import api_actor


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
        "published_on": story.published.iso() if story.published else None,
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
