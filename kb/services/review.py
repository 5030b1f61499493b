"""Curators' work: the review queue, what changed since a curator last saw a
story, curating a story, bulk changes to many stories, and the audit log."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from kb import policy
from kb.errors import Invalid, NotFound
from kb.extensions import db
from kb.models import KINDS, STATUSES, AuditEvent, Revision, Story, StoryActionArea, Tag, User
from kb.models.story import PUBLISHED, StoryOrganisation, StoryPerson
from kb.services import revisions, saving, taxonomy
from kb.services.audit import record_event
from kb.services.changes import record_index_change
from kb.services.fetch import by_id
from kb.services.listing import Page, paginate
from kb.services.story_input import clean_text

BULK_CHUNK = 500


# The queue -------------------------------------------------------------------

@dataclass
class Queue:
    items: list[Story]
    total: int
    by_kind: dict[str, int]
    by_submitter: list[tuple[User, int]]
    waiting_on_contributors: int


def review_queue(viewer, kind: str = "", submitter_id: int | None = None) -> Queue:
    """Submitted stories, oldest submission first, optionally of one kind or
    one submitter, with counts over the whole queue.

    :raise Forbidden: unless the viewer may see the queue.
    """
    policy.require(policy.can_view_queue(viewer), "Only curators can see the review queue.")
    submitted = select(Story).where(Story.status == "submitted")
    query = submitted
    if kind:
        query = query.where(Story.kind == kind)
    if submitter_id:
        query = query.where(Story.submitted_by_id == submitter_id)
    query = query.order_by(Story.submitted_at.asc().nulls_last(), Story.id)
    by_kind = dict(db.session.execute(
        select(Story.kind, func.count()).where(Story.status == "submitted").group_by(Story.kind)
    ).all())
    submitters = db.session.execute(
        select(User, func.count(Story.id)).join(Story, Story.submitted_by_id == User.id)
        .where(Story.status == "submitted").group_by(User.id).order_by(User.display_name)
    ).all()
    waiting = db.session.scalar(select(func.count()).where(Story.status == "changes_requested"))
    return Queue(
        items=list(db.session.scalars(query)),
        total=sum(by_kind.values()),
        by_kind={k: by_kind[k] for k in KINDS if k in by_kind},
        by_submitter=[(user, count) for user, count in submitters],
        waiting_on_contributors=waiting or 0,
    )


def find_stories(viewer, text: str = "", status: str = "", page: int = 1, per_page: int = 50) -> Page:
    """Every story (any status) whose title contains ``text``, newest change first.

    :raise Forbidden: unless the viewer curates stories.
    """
    policy.require(policy.can_curate_story(viewer), "Only curators can list every story.")
    query = select(Story)
    text = " ".join((text or "").split())
    if text:
        query = query.where(func.lower(Story.title).like(f"%{text.lower()}%") | (Story.slug == text))
    if status in STATUSES:
        query = query.where(Story.status == status)
    return paginate(query.order_by(Story.updated_at.desc(), Story.id.desc()), page, per_page)


def get_story_for_curation(viewer, story_id: int) -> Story:
    """A story of any status, for a curator.

    :raise Forbidden: unless the viewer curates stories.
    :raise NotFound: if there is no such story.
    """
    policy.require(policy.can_curate_story(viewer), "Only curators can curate stories.")
    return by_id(Story, story_id, "There is no such story.")


# What changed since the curator last saw it -----------------------------------

def last_seen_revision(viewer, story: Story) -> Revision | None:
    """For a resubmitted story, the revision recorded when a curator last
    asked for changes (the version they saw); None for a first submission.

    :raise Forbidden: unless the viewer may see the story's history.
    """
    history = list(reversed(revisions.list_revisions(viewer, story)))  # oldest first
    seen = None
    for previous, current in zip([None] + history, history):
        was = previous.snapshot.get("status") if previous else None
        if current.snapshot.get("status") == "changes_requested" and was != "changes_requested":
            seen = current
    return seen


def changes_since_seen(viewer, story: Story) -> tuple[Revision | None, list[revisions.FieldChange]]:
    """(the revision the curator last saw, what differs between it and the
    story now), ignoring the status; (None, []) for a first submission."""
    seen = last_seen_revision(viewer, story)
    if seen is None:
        return None, []
    return seen, revisions.diff_snapshots(seen.snapshot, revisions.snapshot(story), ignore=("status",))


# Curating one story ---------------------------------------------------------

def curate_story(actor, story: Story, data: dict, reason: str = "") -> Story:
    """Edit any field of any story as a curator, keeping a revision and an audit event.

    :raise Forbidden: unless the actor curates stories.
    :raise Invalid: with a message per field.
    """
    return saving.save_story(actor, story, data, reason=reason, curating=True)


def accept_suggested_tag(actor, story: Story, name: str) -> Story:
    """Add a contributor's suggested tag (creating it if new) and drop the suggestion.

    :raise NotFound: if the story has no such suggestion.
    """
    policy.require(policy.can_curate_story(actor, story), "Only curators can accept suggested tags.")
    suggestions = list(story.suggested_tags or [])
    match = next((s for s in suggestions if s.casefold() == taxonomy.clean_name(name).casefold()), None)
    if match is None:
        raise NotFound("The story has no such suggested tag.")
    tag = taxonomy.find_or_create_tag(actor, match)
    tags = [t.name for t in story.tags] + ([tag.name] if tag not in story.tags else [])
    data = {"tags": tags, "suggested_tags": [s for s in suggestions if s != match]}
    return curate_story(actor, story, data, reason=f"Accepted suggested tag “{tag.name}”")


def dismiss_suggested_tag(actor, story: Story, name: str) -> Story:
    """Drop a contributor's suggested tag without adding it."""
    policy.require(policy.can_curate_story(actor, story), "Only curators can dismiss suggested tags.")
    suggestions = [s for s in (story.suggested_tags or []) if s.casefold() != taxonomy.clean_name(name).casefold()]
    return curate_story(actor, story, {"suggested_tags": suggestions}, reason=f"Dismissed suggested tag “{name}”")


# Bulk changes ----------------------------------------------------------------

BULK_OPERATIONS = {
    "add_tag": "Add the tag",
    "remove_tag": "Remove the tag",
    "add_area": "Add the action area",
    "remove_area": "Remove the action area",
}


@dataclass
class BulkPlan:
    operation: str
    value: str
    label: str
    selected: int
    changing: list[int] = field(default_factory=list)
    reason: str = ""

    @property
    def description(self) -> str:
        return f"{BULK_OPERATIONS[self.operation]} “{self.label}”"


def search_result_ids(viewer, q: str, filters: dict, statuses=()) -> list[int]:
    """Every story id the search page lists for this query and these filters
    (published stories, or the given statuses), best first.

    :raise Forbidden: unless the viewer may curate in bulk.
    """
    from kb import search

    policy.require(policy.can_bulk_curate(viewer), "Only curators can change stories in bulk.")
    statuses = tuple(s for s in statuses if s in STATUSES) or (PUBLISHED,)
    return search.all_story_ids(current_app, q, filters, statuses=statuses)


def plan_bulk_change(actor, story_ids, operation: str, value: str, reason: str = "") -> BulkPlan:
    """What a bulk change would do: which of the selected stories it changes.

    :raise Forbidden: unless the actor may curate in bulk.
    :raise Invalid: for an unknown operation, an empty selection, or an unknown area.
    """
    policy.require(policy.can_bulk_curate(actor), "Only curators can change stories in bulk.")
    ids = sorted({int(i) for i in story_ids})
    errors = {}
    if operation not in BULK_OPERATIONS:
        errors["operation"] = "Choose what to change."
    if not ids:
        errors["story"] = "Select at least one story."
    value = taxonomy.clean_name(value)
    if operation in BULK_OPERATIONS and not value:
        # Only once the change is chosen is it known whether a tag or an area is missing.
        verb = "add" if operation.startswith("add") else "remove"
        errors["value"] = f"Enter the tag to {verb}." if operation.endswith("tag") else f"Choose the action area to {verb}."
    if errors:
        raise Invalid("There is a problem with the bulk change.", errors)
    reason = clean_text(reason)[:300]
    if operation.endswith("area"):
        return _plan_area(ids, operation, value, reason)
    return _plan_tag(actor, ids, operation, value, reason)


def _plan_tag(actor, ids, operation, value, reason) -> BulkPlan:
    tag = taxonomy.find_tag(value)
    if tag is None and operation == "add_tag":
        policy.require(policy.can_create_tag(actor), "Only curators can create tags.")
    with_tag = set() if tag is None else _ids_with(ids, lambda chunk: select(Story.id).join(Story.tags).where(
        Tag.id == tag.id, Story.id.in_(chunk)))
    existing = _existing(ids)
    changing = sorted(existing - with_tag) if operation == "add_tag" else sorted(with_tag)
    return BulkPlan(operation, value, tag.name if tag else value, len(existing), changing, reason)


def _plan_area(ids, operation, value, reason) -> BulkPlan:
    try:
        area = taxonomy.get_action_area(value)
    except NotFound:
        raise Invalid("There is no such action area.", {"value": "Choose one of the four action areas."})
    in_area = _ids_with(ids, lambda chunk: select(StoryActionArea.story_id).where(
        StoryActionArea.action_area_id == area.id, StoryActionArea.story_id.in_(chunk)))
    existing = _existing(ids)
    changing = sorted(existing - in_area) if operation == "add_area" else sorted(in_area)
    return BulkPlan(operation, area.slug, area.name, len(existing), changing, reason)


def _ids_with(ids, make_query) -> set[int]:
    found = set()
    for start in range(0, len(ids), BULK_CHUNK):
        found.update(db.session.scalars(make_query(ids[start:start + BULK_CHUNK])))
    return found


def _existing(ids) -> set[int]:
    return _ids_with(ids, lambda chunk: select(Story.id).where(Story.id.in_(chunk)))


def apply_bulk_change(actor, story_ids, operation: str, value: str, reason: str = "",
                      reasons: dict[int, str] | None = None) -> BulkPlan:
    """Make a bulk change: each changed story gets a revision and an index
    change; the whole change is one audit event. Returns the plan carried out.
    ``reasons`` gives a story's own reason for an added area (else ``reason``).

    :raise Forbidden: unless the actor may curate in bulk.
    :raise Invalid: as ``plan_bulk_change``.
    """
    plan = plan_bulk_change(actor, story_ids, operation, value, reason)
    if not plan.changing:
        return plan
    target = _bulk_target(actor, plan)
    note = plan.reason or f"Bulk change: {plan.description}"
    for start in range(0, len(plan.changing), BULK_CHUNK):
        batch = _load_for_snapshot(plan.changing[start:start + BULK_CHUNK])
        for story in batch:
            _bulk_apply_one(story, plan.operation, target, (reasons or {}).get(story.id, plan.reason)[:300])
        revisions.record_revisions(actor, batch, note)
        record_index_change(*(story.id for story in batch))
    record_event(actor, "bulk_" + plan.operation, None, {
        "value": plan.label, "stories": len(plan.changing), "story_ids": plan.changing[:2000],
        "reason": plan.reason,
    })
    return plan


def story_titles(viewer, story_ids) -> list[tuple[int, str]]:
    """(id, title) of the stories, in the order of ``story_ids``, for a bulk confirmation.

    :raise Forbidden: unless the viewer may curate in bulk.
    """
    policy.require(policy.can_bulk_curate(viewer), "Only curators can change stories in bulk.")
    titles = {}
    for start in range(0, len(story_ids), BULK_CHUNK):
        chunk = story_ids[start:start + BULK_CHUNK]
        titles.update(db.session.execute(select(Story.id, Story.title).where(Story.id.in_(chunk))).all())
    return [(story_id, titles[story_id]) for story_id in story_ids if story_id in titles]


def _bulk_target(actor, plan: BulkPlan):
    if plan.operation == "add_tag":
        return taxonomy.find_or_create_tag(actor, plan.value)
    if plan.operation == "remove_tag":
        return taxonomy.find_tag(plan.value)
    return taxonomy.get_action_area(plan.value)


def _bulk_apply_one(story: Story, operation: str, target, reason: str) -> None:
    if operation == "add_tag" and target not in story.tags:
        story.tags.append(target)
    elif operation == "remove_tag" and target in story.tags:
        story.tags.remove(target)
    elif operation == "add_area" and all(link.action_area_id != target.id for link in story.area_links):
        story.area_links.append(StoryActionArea(action_area=target, reason=reason))
    elif operation == "remove_area":
        story.area_links = [link for link in story.area_links if link.action_area_id != target.id]


def _load_for_snapshot(ids) -> list[Story]:
    """The stories with everything a snapshot reads, in a few queries."""
    query = select(Story).where(Story.id.in_(ids)).order_by(Story.id).options(
        selectinload(Story.organisation_links).joinedload(StoryOrganisation.organisation),
        selectinload(Story.person_links).joinedload(StoryPerson.person),
        selectinload(Story.area_links).joinedload(StoryActionArea.action_area),
        selectinload(Story.links), selectinload(Story.attachments), selectinload(Story.tags),
        selectinload(Story.related), selectinload(Story.adoptions), selectinload(Story.adapted_from),
    )
    return list(db.session.scalars(query))


# The audit log ---------------------------------------------------------------

@dataclass
class AuditFilters:
    actor_id: int | None = None
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None


def audit_log(viewer, filters: AuditFilters, page: int = 1, per_page: int = 50) -> Page:
    """Audit events, newest first, by actor, action and date (inclusive, UTC).

    :raise Forbidden: unless the viewer may read the audit log.
    """
    policy.require(policy.can_view_audit_log(viewer), "Only curators can read the audit log.")
    query = select(AuditEvent).options(selectinload(AuditEvent.actor))
    if filters.actor_id:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.date_from:
        query = query.where(AuditEvent.created_at >= datetime.combine(filters.date_from, time.min, timezone.utc))
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, timezone.utc)
        query = query.where(AuditEvent.created_at < end)
    return paginate(query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()), page, per_page)


def audit_choices(viewer) -> tuple[list[User], list[str]]:
    """The users who acted and the actions recorded, for the log's filters."""
    policy.require(policy.can_view_audit_log(viewer), "Only curators can read the audit log.")
    actor_ids = select(AuditEvent.actor_id).where(AuditEvent.actor_id.is_not(None)).distinct()
    users = list(db.session.scalars(select(User).where(User.id.in_(actor_ids)).order_by(User.display_name)))
    actions = list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
    return users, actions
