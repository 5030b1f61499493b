"""Stories: create, edit, and move through review. Every save keeps a
revision, every status change an audit event, every change an index change."""
from __future__ import annotations

from sqlalchemy import select

from kb import policy, reference
from kb.errors import Invalid, NotFound
from kb.extensions import db
from kb.models import SECTIONS, Adoption, Link, Organisation, Person, Story, StoryActionArea
from kb.models.base import utcnow
from kb.models.story import PUBLISHED
from kb.services import notifications, taxonomy
from kb.services.audit import record_event
from kb.services.changes import record_index_change
from kb.services.revisions import record_revision
from kb.services.story_input import CONTACT_FIELDS, SOURCE_FIELDS, clean_story_input, clean_text, review_errors
from kb.services.suggestions import refresh_story as refresh_suggestions

CURATED_FIELDS = ("tags", "action_areas", "featured", "related", "evidence_level", "contact_hidden")
# Set as they come (after cleaning) on the story's own columns.
PLAIN_FIELDS = (
    "title", "kind", "summary", "body", "place", "sector", "stage", *SECTIONS, "featured",
    "suggested_tags", "suggested_areas", *SOURCE_FIELDS, "evidence_level", "proposed_evidence_level",
    "evidence_level_reason", *CONTACT_FIELDS, "contact_email", "contact_url", "contact_agreed",
    "contact_hidden", "country", "authority_code", "methods", "government_level",
)
EDITABLE_FIELDS = (
    *PLAIN_FIELDS, "published_on", "organisations", "people", "links", "action_areas", "tags", "related", "adoptions",
    "adapted_from",
    "evidence",  # the old name of ``results``, still read
)


# Reading -------------------------------------------------------------------

def get_story(viewer, slug: str) -> Story:
    """The story at ``slug`` if the viewer may see it; NotFound otherwise
    (a draft is as absent as a story that never existed)."""
    story = db.session.scalar(select(Story).where(Story.slug == slug))
    if story is None or not policy.can_view_story(viewer, story):
        raise NotFound("There is no story at this address.")
    return story


def get_own_story(actor, slug: str) -> Story:
    """The story at ``slug`` if ``actor`` submitted it; NotFound otherwise, so that
    nobody learns which drafts of others exist."""
    story = db.session.scalar(select(Story).where(Story.slug == slug))
    if story is None or not policy.is_owner(actor, story):
        raise NotFound("You have no story at this address.")
    return story


def own_stories(actor) -> list[Story]:
    """Every story ``actor`` submitted, most recently changed first."""
    if not policy.is_signed_in(actor) or getattr(actor, "id", None) is None:
        return []
    query = select(Story).where(Story.submitted_by_id == actor.id).order_by(Story.updated_at.desc(), Story.id.desc())
    return list(db.session.scalars(query))


def existing_slugs(slugs) -> set[str]:
    """Which of ``slugs`` are the addresses of stories."""
    return set(db.session.scalars(select(Story.slug).where(Story.slug.in_(list(slugs)))))


# Writing -------------------------------------------------------------------

def apply_fields(actor, story: Story, fields: dict, *, imported: bool = False, names=taxonomy) -> None:
    """Set ``fields`` on ``story``; tags, organisations and people found or
    made through ``names`` (``taxonomy``, or an import's ``importing.Lookup``).
    An imported story keeps the address it was given."""
    if any(field in fields for field in CURATED_FIELDS):
        policy.require(policy.can_curate_story(actor, story), "Only curators can set tags, action areas and features.")
    if not imported and any(fields.get(field) != getattr(story, field) for field in SOURCE_FIELDS if field in fields):
        policy.require(policy.can_set_story_source(actor, story),
                       "Only curators can set where a story came from (source and source id).")
    for field in PLAIN_FIELDS:
        if field in fields:
            setattr(story, field, fields[field])
    if "published_on" in fields:
        story.published = fields["published_on"]
    if not (story.country or story.authority_code) and story.place:
        # The free text says where, as far as a known country or authority name goes.
        story.country, story.authority_code = reference.place_from_text(story.place)
    if "title" in fields and not imported and not story.is_published \
            and story.slug != taxonomy.make_slug(fields["title"]):
        # A published story's address is stable; a draft's follows its title.
        story.slug = taxonomy.unique_slug(Story, fields["title"], exclude_id=story.id)
    if "organisations" in fields:
        story.organisations = names.find_or_create_named(Organisation, fields["organisations"])
    if "people" in fields:
        story.people = names.find_or_create_named(Person, fields["people"])
    if "links" in fields:
        story.links = [Link(**link) for link in fields["links"]]
    if "tags" in fields:
        story.tags = names.find_or_create_tags(actor, fields["tags"])
    if "action_areas" in fields:
        by_slug = {area.slug: area for area in taxonomy.all_action_areas()}
        story.area_links = [
            StoryActionArea(action_area=by_slug[item["slug"]], reason=item["reason"])
            for item in fields["action_areas"]
        ]
    if "related" in fields:
        related = db.session.scalars(select(Story).where(Story.slug.in_(fields["related"]))).all()
        story.related = [s for s in related if s.id != story.id]
    if "adapted_from" in fields:
        story.adapted_from = _story_by_slug(fields["adapted_from"], story, "adapted_from")
    if "adoptions" in fields:
        story.adoptions = [
            Adoption(organisation=taxonomy.find_or_create_organisation(item["organisation"]), year=item["year"],
                     adopter_story=_story_by_slug(item["story"], story, "adoptions"), note=item["note"])
            for item in fields["adoptions"]
        ]


def _story_by_slug(slug: str, story: Story, field: str) -> Story | None:
    """The other story at ``slug`` (None for no slug); Invalid if there is none, or it is this one."""
    if not slug:
        return None
    other = db.session.scalar(select(Story).where(Story.slug == slug))
    if other is None or other.id == story.id:
        message = f"There is no other story at “{slug}”."
        raise Invalid("There is a problem with the story.", {field: message})
    return other


def new_story(actor, data: dict) -> Story:
    """A new draft of ``actor`` with ``data`` set; its revision is the caller's (``record_save``)."""
    policy.require(policy.can_create_story(actor), "Sign in to submit a story.")
    fields = clean_story_input({"title": "", **data}, complete=False)
    story = Story(
        status="draft",
        kind="",
        title=fields["title"],
        slug=taxonomy.unique_slug(Story, fields["title"]),
        submitted_by_id=getattr(actor, "id", None),
    )
    db.session.add(story)
    # An id now, so that a title shared with another story keeps the slug made for it.
    db.session.flush()
    apply_fields(actor, story, fields)
    return story


def change_story(actor, story: Story, data: dict) -> Story:
    """Set the editable fields present in ``data``; the revision is the caller's (``record_save``)."""
    policy.require(policy.can_edit_story(actor, story), "You cannot edit this story.")
    fields = clean_story_input({k: v for k, v in data.items() if k in EDITABLE_FIELDS}, complete=False)
    apply_fields(actor, story, fields)
    return story


def record_save(actor, story: Story, reason: str) -> None:
    """What every save keeps: one revision, one index change, fresh filing suggestions."""
    db.session.flush()
    record_revision(actor, story, reason)
    record_index_change(story.id)
    refresh_suggestions(story)


def create_story(actor, data: dict, *, reason: str = "Created") -> Story:
    """A new draft story submitted by ``actor``."""
    story = new_story(actor, data)
    record_save(actor, story, reason)
    return story


def update_story(actor, story: Story, data: dict, *, reason: str = "Edited") -> Story:
    """Change the fields present in ``data``."""
    change_story(actor, story, data)
    record_save(actor, story, reason)
    return story


def _change_status(actor, story: Story, status: str, action: str, note: str = "") -> Story:
    story.status = status
    if note or action in ("publish", "submit"):
        story.review_note = note
    db.session.flush()
    record_revision(actor, story, note or action.replace("_", " ").capitalize())
    record_event(actor, action, story, {"status": status, "note": note} if note else {"status": status})
    record_index_change(story.id)
    return story


def check_complete(story: Story) -> None:
    """Raise Invalid unless the story has what review needs (see ``review_errors``)."""
    errors = review_errors({"title": story.title, "kind": story.kind, "summary": story.summary,
                            "links": list(story.links)})
    if errors:
        raise Invalid("The story is not ready for review yet.", errors)


def submit_story(actor, story: Story) -> Story:
    policy.require(policy.can_submit_story(actor, story), "This story cannot be submitted now.")
    check_complete(story)
    story.submitted_at = utcnow()
    return _change_status(actor, story, "submitted", "submit")


def mark_submitted(actor, story: Story) -> None:
    """Send the story for review with its audit event, inside a save that keeps
    the revision (``saving.save_story``)."""
    policy.require(policy.can_submit_story(actor, story), "This story cannot be submitted now.")
    check_complete(story)
    story.submitted_at, story.status, story.review_note = utcnow(), "submitted", ""
    record_event(actor, "submit", story, {"status": "submitted"})


def withdraw_story(actor, story: Story) -> Story:
    policy.require(policy.can_withdraw_story(actor, story), "This story cannot be withdrawn now.")
    return _change_status(actor, story, "withdrawn", "withdraw")


def publish_story(actor, story: Story, note: str = "") -> Story:
    policy.require(policy.can_publish_story(actor, story), "Only curators can publish stories.")
    check_complete(story)
    if story.first_published_at is None:
        story.first_published_at = utcnow()
    return _decide(actor, story, PUBLISHED, "publish", clean_text(note))


def _decide(actor, story: Story, status: str, action: str, note: str) -> Story:
    """A curator's decision on the story, which its contributor is told of by email."""
    _change_status(actor, story, status, action, note)
    notifications.story_decided(actor, story, status, note)
    return story


def _require_note(note: str, field: str, message: str) -> str:
    note = clean_text(note)
    if not note:
        raise Invalid(message, {field: message})
    return note


def request_changes(actor, story: Story, note: str) -> Story:
    policy.require(policy.can_request_changes(actor, story), "Changes cannot be requested for this story now.")
    note = _require_note(note, "note", "Enter a note telling the contributor what to change.")
    return _decide(actor, story, "changes_requested", "request_changes", note)


def reject_story(actor, story: Story, reason: str) -> Story:
    policy.require(policy.can_reject_story(actor, story), "This story cannot be rejected now.")
    reason = _require_note(reason, "reason", "Enter the reason for rejecting the story.")
    return _decide(actor, story, "rejected", "reject", reason)


def unpublish_story(actor, story: Story, reason: str) -> Story:
    policy.require(policy.can_unpublish_story(actor, story), "Only curators can unpublish stories.")
    reason = _require_note(reason, "reason", "Enter the reason for unpublishing the story.")
    return _change_status(actor, story, "withdrawn", "unpublish", reason)


def set_featured(actor, story: Story, featured: bool) -> Story:
    policy.require(policy.can_curate_story(actor, story), "Only curators can feature stories.")
    story.featured = bool(featured)
    db.session.flush()
    record_revision(actor, story, "Featured" if featured else "No longer featured")
    record_event(actor, "feature" if featured else "unfeature", story)
    record_index_change(story.id)
    return story
