"""Revisions: every state a story has been in, the differences between them, restoring one."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from sqlalchemy import func, select

from kb import policy
from kb.errors import NotFound
from kb.extensions import db
from kb.models import SECTIONS, Revision, Story
from kb.services.taxonomy import make_slug


def snapshot(story: Story) -> dict:
    """Everything a revision keeps of a story, in the domain's field names."""
    return {
        "title": story.title,
        "slug": story.slug,
        "kind": story.kind,
        "summary": story.summary or "",
        "body": story.body or "",
        "status": story.status,
        "published_on": story.published.iso() if story.published else None,
        "organisations": [o.name for o in story.organisations],
        "people": [p.name for p in story.people],
        "place": story.place or "",
        "sector": story.sector or "",
        "stage": story.stage or "",
        "government_level": story.government_level or "",
        "methods": list(story.methods or []),
        **{name: getattr(story, name) or "" for name in SECTIONS},
        "evidence_level": story.evidence_level or 0,
        "proposed_evidence_level": story.proposed_evidence_level,
        "evidence_level_reason": story.evidence_level_reason or "",
        "contact_name": story.contact_name or "",
        "contact_role": story.contact_role or "",
        "contact_organisation": story.contact_organisation or "",
        "contact_email": story.contact_email or "",
        "contact_url": story.contact_url or "",
        "contact_agreed": bool(story.contact_agreed),
        "contact_hidden": bool(story.contact_hidden),
        "country": story.country or "",
        "authority_code": story.authority_code or "",
        "adapted_from": story.adapted_from.slug if story.adapted_from else "",
        "adoptions": [
            {"organisation": item.organisation.name, "year": item.year,
             "story": item.adopter_story.slug if item.adopter_story else "", "note": item.note or ""}
            for item in story.adoptions
        ],
        "links": [
            {"url": link.url, "title": link.title, "rel": link.rel, "tags": list(link.tags or [])}
            for link in story.links
        ],
        "attachments": [
            {"filename": a.filename, "sha256": a.sha256, "size": a.size, "content_type": a.content_type}
            for a in story.attachments
        ],
        "action_areas": [
            {"slug": link.action_area.slug, "reason": link.reason or ""}
            for link in sorted(story.area_links, key=lambda link: link.action_area.position)
        ],
        "tags": [t.name for t in story.tags],
        "related": [s.slug for s in story.related],
        "featured": bool(story.featured),
        "suggested_tags": list(story.suggested_tags or []),
        "suggested_areas": list(story.suggested_areas or []),
    }


def record_revision(actor, story: Story, reason: str) -> Revision:
    """Keep the story's state as it is now, as its next revision."""
    db.session.flush()
    last = db.session.scalar(select(func.max(Revision.number)).where(Revision.story_id == story.id))
    revision = Revision(
        story_id=story.id,
        number=(last or 0) + 1,
        user_id=getattr(actor, "id", None),
        reason=reason,
        snapshot=snapshot(story),
    )
    db.session.add(revision)
    return revision


def record_revisions(actor, stories: list[Story], reason: str) -> None:
    """``record_revision`` for many stories at once (bulk changes), in one query."""
    if not stories:
        return
    db.session.flush()
    ids = [story.id for story in stories]
    last = dict(db.session.execute(
        select(Revision.story_id, func.max(Revision.number)).where(Revision.story_id.in_(ids)).group_by(Revision.story_id)
    ).all())
    user_id = getattr(actor, "id", None)
    db.session.add_all(
        Revision(story_id=story.id, number=(last.get(story.id) or 0) + 1, user_id=user_id, reason=reason,
                 snapshot=snapshot(story))
        for story in stories
    )


# History, differences and restoring ------------------------------------------

FIELD_LABELS = {
    "title": "Title",
    "slug": "Address",
    "kind": "Kind",
    "status": "Status",
    "summary": "Summary",
    "body": "Body",
    "published_on": "Date first published",
    "organisations": "Organisations",
    "people": "People",
    "place": "Place",
    "sector": "Sector",
    "stage": "Stage",
    "government_level": "Level of government",
    "methods": "Methods",
    **{name: heading for name, (heading, _) in SECTIONS.items()},
    "evidence_level": "Evidence level",
    "proposed_evidence_level": "Proposed evidence level",
    "evidence_level_reason": "Reason for the proposed level",
    "contact_name": "Contact's name",
    "contact_role": "Contact's role",
    "contact_organisation": "Contact's organisation",
    "contact_email": "Contact's email address",
    "contact_url": "Contact's web address",
    "contact_agreed": "Contact agreed to be named",
    "contact_hidden": "Contact hidden by a curator",
    "country": "Country",
    "authority_code": "Local authority",
    "adapted_from": "Adapted from",
    "adoptions": "Taken up by",
    "links": "Links",
    "attachments": "Documents",
    "action_areas": "Action areas",
    "tags": "Tags",
    "related": "Related stories",
    "featured": "Featured",
    "suggested_tags": "Suggested tags",
    "suggested_areas": "Suggested action areas",
}
LONG_TEXT_FIELDS = ("summary", "body", *SECTIONS, "evidence_level_reason", "evidence")
# Fields whose order means nothing: compared as sets of things, each known by
# its identity (a name's slug, an area's slug), so a reordering is no change.
SET_FIELDS = ("organisations", "people", "tags", "action_areas", "suggested_tags", "suggested_areas", "related",
              "methods")
RESTORABLE_FIELDS = (
    "title", "kind", "summary", "body", "published_on", "organisations", "people", "place", "sector",
    "stage", "government_level", "methods", *SECTIONS, "links", "action_areas", "tags", "related", "featured",
    "suggested_tags",
    "suggested_areas", "evidence_level", "proposed_evidence_level", "evidence_level_reason", "contact_name",
    "contact_role", "contact_organisation", "contact_email", "contact_url", "contact_agreed", "contact_hidden",
    "country", "authority_code", "adapted_from", "adoptions",
    "evidence",  # revisions saved before the sections
)


@dataclass
class FieldChange:
    """How one field differs between two snapshots.

    ``kind`` says how to show it: "text" (``lines`` of (sign, line), sign one of
    "-", "+", " "), "list" (``removed`` and ``added`` items) or "value"
    (``before`` and ``after``).
    """

    field: str
    label: str
    kind: str
    before: object = None
    after: object = None
    removed: list = dataclass_field(default_factory=list)
    added: list = dataclass_field(default_factory=list)
    lines: list = dataclass_field(default_factory=list)


def _item_text(field: str, item) -> str:
    if field == "links" and isinstance(item, dict):
        tags = f" [{', '.join(item.get('tags') or [])}]" if item.get("tags") else ""
        return f"{item.get('title') or item.get('url')} <{item.get('url')}> ({item.get('rel', 'related')}){tags}"
    if field == "action_areas" and isinstance(item, dict):
        return f"{item.get('slug')}: {item['reason']}" if item.get("reason") else str(item.get("slug"))
    if field == "adoptions" and isinstance(item, dict):
        return " ".join(part for part in (item.get("organisation"), str(item.get("year") or ""),
                                          item.get("story") and f"<{item['story']}>", item.get("note")) if part)
    if field == "attachments" and isinstance(item, dict):
        return f"{item.get('filename')} ({str(item.get('sha256', ''))[:12]})"
    return str(item)


def _text_lines(before: str, after: str) -> list[tuple[str, str]]:
    lines = []
    for line in difflib.ndiff((before or "").splitlines(), (after or "").splitlines()):
        sign = line[:1]
        if sign in ("-", "+", " "):
            lines.append((sign, line[2:]))
    return lines


def _identity(field: str, item):
    """What makes two items of a set field the same thing."""
    if field == "action_areas" and isinstance(item, dict):
        return ("area", item.get("slug"), item.get("reason") or "")
    return make_slug(str(item)) or str(item)


def _set_change(field: str, label: str, before, after) -> FieldChange | None:
    old = {_identity(field, item): item for item in before or []}
    new = {_identity(field, item): item for item in after or []}
    removed = [_item_text(field, item) for key, item in old.items() if key not in new]
    added = [_item_text(field, item) for key, item in new.items() if key not in old]
    if not removed and not added:
        return None
    return FieldChange(field, label, "list", before, after, removed=removed, added=added)


def field_change(field: str, before, after) -> FieldChange | None:
    """The difference in one field, or None when it is the same."""
    if before == after:
        return None
    label = FIELD_LABELS.get(field, field.replace("_", " ").capitalize())
    if field in LONG_TEXT_FIELDS:
        return FieldChange(field, label, "text", before, after, lines=_text_lines(before, after))
    if field in SET_FIELDS:
        return _set_change(field, label, before, after)
    if isinstance(before, list) or isinstance(after, list):
        old = [_item_text(field, item) for item in before or []]
        new = [_item_text(field, item) for item in after or []]
        removed = [item for item in old if item not in new]
        added = [item for item in new if item not in old]
        if not removed and not added:  # only the order changed
            removed, added = old, new
        return FieldChange(field, label, "list", before, after, removed=removed, added=added)
    return FieldChange(field, label, "value", before, after)


def diff_snapshots(before: dict | None, after: dict, ignore: tuple[str, ...] = ()) -> list[FieldChange]:
    """Every field that differs from ``before`` to ``after``, in reading order."""
    before = before or {}
    fields = list(FIELD_LABELS) + sorted((set(before) | set(after)) - set(FIELD_LABELS))
    changes = []
    for field in fields:
        if field in ignore:
            continue
        change = field_change(field, before.get(field), after.get(field))
        if change is not None:
            changes.append(change)
    return changes


def list_revisions(viewer, story: Story) -> list[Revision]:
    """The story's revisions, newest first.

    :raise Forbidden: if the viewer may not see the story's history.
    """
    policy.require(policy.can_view_revisions(viewer, story), "You cannot see this story's history.")
    return list(db.session.scalars(
        select(Revision).where(Revision.story_id == story.id).order_by(Revision.number.desc())
    ))


def history(viewer, story: Story) -> list[tuple[Revision, list[FieldChange]]]:
    """Each revision, newest first, with what changed since the one before it."""
    revisions = list_revisions(viewer, story)
    out = []
    for index, revision in enumerate(revisions):
        previous = revisions[index + 1].snapshot if index + 1 < len(revisions) else None
        out.append((revision, diff_snapshots(previous, revision.snapshot)))
    return out


def get_revision(viewer, story: Story, number: int) -> Revision:
    """One revision of the story.

    :raise Forbidden: if the viewer may not see the story's history.
    :raise NotFound: if the story has no revision with this number.
    """
    policy.require(policy.can_view_revisions(viewer, story), "You cannot see this story's history.")
    revision = db.session.scalar(
        select(Revision).where(Revision.story_id == story.id, Revision.number == number)
    )
    if revision is None:
        raise NotFound("This story has no such revision.")
    return revision


def compare(viewer, story: Story, older: int, newer: int) -> list[FieldChange]:
    """The field-level difference between two of the story's revisions.

    :raise NotFound: if either revision does not exist.
    """
    return diff_snapshots(get_revision(viewer, story, older).snapshot, get_revision(viewer, story, newer).snapshot)
