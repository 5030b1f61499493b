"""Filing stories under the action areas from kb's suggestions: what
curators see (the suggestions of a story, the stories not yet filed, the
candidates for bulk filing) and their decisions (accept, decline, file in
bulk). The suggestions themselves are computed by ``suggestions.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from kb import classifier, policy
from kb.errors import Invalid, NotFound
from kb.extensions import db
from kb.models import ActionArea, AreaSuggestion, Story, StoryActionArea, SuggestionDecline, Tag, TagSuggestion
from kb.services import review, taxonomy
from kb.services.audit import record_event
from kb.services.listing import Page, paginate

SHOW_CONFIDENCE = classifier.SHOW_CONFIDENCE
BULK_CONFIDENCE = classifier.BULK_CONFIDENCE


# What curators see -------------------------------------------------------------

class Confident:
    """Something suggested with a ``confidence`` from 0 to 1, shown as a percentage."""

    confidence: float

    @property
    def percent(self) -> int:
        return round(self.confidence * 100)


@dataclass
class AreaOffer(Confident):
    area: ActionArea
    confidence: float
    reason: str


def _unfiled():
    return ~select(StoryActionArea.story_id).where(StoryActionArea.story_id == Story.id).exists()


def _declined_areas(story_id: int) -> set[int]:
    return set(db.session.scalars(select(SuggestionDecline.action_area_id).where(
        SuggestionDecline.story_id == story_id, SuggestionDecline.action_area_id.is_not(None))))


def area_offers(viewer, story: Story) -> list[AreaOffer]:
    """The areas kb suggests for this story that curators have neither filed nor declined.

    :raise Forbidden: unless the viewer may see suggestions.
    """
    policy.require(policy.can_view_suggestions(viewer), "Only curators can see suggestions.")
    filed = {link.action_area_id for link in story.area_links} | _declined_areas(story.id)
    rows = db.session.scalars(select(AreaSuggestion).where(
        AreaSuggestion.story_id == story.id, AreaSuggestion.confidence >= SHOW_CONFIDENCE))
    offers = [AreaOffer(r.action_area, r.confidence, r.reason) for r in rows if r.action_area_id not in filed]
    return sorted(offers, key=lambda o: o.area.position)


def tag_offers(viewer, story: Story) -> list[Tag]:
    """Tags of the vocabulary kb suggests for this story, strongest first.

    :raise Forbidden: unless the viewer may see suggestions.
    """
    policy.require(policy.can_view_suggestions(viewer), "Only curators can see suggestions.")
    held = {tag.id for tag in story.tags}
    rows = db.session.scalars(select(TagSuggestion).where(TagSuggestion.story_id == story.id)
                              .order_by(TagSuggestion.score.desc(), TagSuggestion.tag_id))
    return [row.tag for row in rows if row.tag_id not in held and row.tag.merged_into_id is None]


def unfiled_count(viewer) -> int:
    """How many published stories are filed under no area.

    :raise Forbidden: unless the viewer may see suggestions.
    """
    policy.require(policy.can_view_suggestions(viewer), "Only curators can see the stories not yet filed.")
    return db.session.scalar(select(func.count()).select_from(Story).where(
        Story.is_published, _unfiled())) or 0


@dataclass
class FilingQueue:
    page: Page
    total: int
    ready: dict[str, int]
    offers: dict[int, list[AreaOffer]]


def filing_queue(viewer, page: int = 1, per_page: int = 50) -> FilingQueue:
    """Published stories filed under no area, the most confidently suggested
    first, with per area how many are suggested at the bulk-filing confidence.

    :raise Forbidden: unless the viewer may see suggestions.
    """
    total = unfiled_count(viewer)
    best = (select(func.max(AreaSuggestion.confidence)).where(AreaSuggestion.story_id == Story.id)
            .correlate(Story).scalar_subquery())
    query = (select(Story).where(Story.is_published, _unfiled())
             .order_by(func.coalesce(best, 0).desc(), Story.id))
    result = paginate(query, page, per_page)
    ready = {area.slug: 0 for area in taxonomy.all_action_areas()}
    counted = (select(ActionArea.slug, func.count()).select_from(AreaSuggestion)
               .join(ActionArea, ActionArea.id == AreaSuggestion.action_area_id)
               .join(Story, Story.id == AreaSuggestion.story_id)
               .where(Story.is_published, _unfiled(), AreaSuggestion.confidence >= BULK_CONFIDENCE)
               .group_by(ActionArea.slug))
    ready.update(dict(db.session.execute(counted).all()))
    offers = {story.id: area_offers(viewer, story) for story in result.items}
    return FilingQueue(result, total, ready, offers)


@dataclass
class Candidate(Confident):
    story_id: int
    title: str
    slug: str
    confidence: float
    reason: str


def bulk_candidates(viewer, area_slug: str, confidence: float, story_ids: list[int]) -> list[Candidate]:
    """Among ``story_ids``, those suggested for the area at ``confidence`` or
    above and neither filed there nor declined there, most confident first.

    :raise Forbidden: unless the viewer may curate in bulk.
    :raise Invalid: for an unknown area or a confidence outside 0-1.
    """
    policy.require(policy.can_bulk_curate(viewer), "Only curators can file stories in bulk.")
    area = _area(area_slug, "area")
    if not 0 <= confidence <= 1:
        raise Invalid("Enter a confidence between 0 and 100%.", {"confidence": "Enter a confidence between 0 and 100."})
    found = []
    for start in range(0, len(story_ids), review.BULK_CHUNK):
        chunk = story_ids[start:start + review.BULK_CHUNK]
        filed = select(StoryActionArea.story_id).where(StoryActionArea.action_area_id == area.id)
        declined = select(SuggestionDecline.story_id).where(SuggestionDecline.action_area_id == area.id)
        query = (select(Story.id, Story.title, Story.slug, AreaSuggestion.confidence, AreaSuggestion.reason)
                 .join(AreaSuggestion, AreaSuggestion.story_id == Story.id)
                 .where(AreaSuggestion.action_area_id == area.id, AreaSuggestion.confidence >= confidence,
                        Story.id.in_(chunk), Story.id.not_in(filed), Story.id.not_in(declined)))
        found.extend(Candidate(*row) for row in db.session.execute(query))
    return sorted(found, key=lambda c: (-c.confidence, c.story_id))


def _area(slug: str, field: str) -> ActionArea:
    try:
        return taxonomy.get_action_area(slug)
    except NotFound:
        raise Invalid("There is no such action area.", {field: "Choose one of the four action areas."})


# Curators' decisions ------------------------------------------------------------

def accept_area(actor, story: Story, area_slug: str, reason: str) -> Story:
    """File the story under the suggested area with ``reason`` (a revision,
    an audit event and an index change, as any filing).

    :raise Forbidden: unless the actor curates stories.
    :raise Invalid: for an unknown area.
    """
    policy.require(policy.can_curate_story(actor, story), "Only curators can file stories.")
    area = _area(area_slug, "area")
    areas = [{"slug": link.action_area.slug, "reason": link.reason} for link in story.area_links
             if link.action_area_id != area.id]
    areas.append({"slug": area.slug, "reason": " ".join((reason or "").split())[:300]})
    return review.curate_story(actor, story, {"action_areas": areas}, reason=f"Filed under “{area.name}”")


def decline_area(actor, story: Story, area_slug: str, reason: str = "") -> None:
    """Decline the suggested area: it is not suggested for this story again.

    :raise Forbidden: unless the actor curates stories.
    :raise Invalid: for an unknown area.
    """
    policy.require(policy.can_curate_story(actor, story), "Only curators can decline suggestions.")
    area = _area(area_slug, "area")
    if area.id not in _declined_areas(story.id):
        db.session.add(SuggestionDecline(story_id=story.id, action_area_id=area.id, declined_by_id=getattr(actor, "id", None),
                                         reason=" ".join((reason or "").split())[:300]))
        db.session.flush()
    record_event(actor, "decline_area", story, {"area": area.slug, "reason": reason or ""})


def accept_tag(actor, story: Story, tag_id: int) -> Story:
    """Add a suggested tag of the vocabulary to the story.

    :raise Forbidden: unless the actor curates stories.
    :raise NotFound: if the tag is not suggested for the story.
    """
    policy.require(policy.can_curate_story(actor, story), "Only curators can accept suggested tags.")
    tag = next((t for t in tag_offers(actor, story) if t.id == tag_id), None)
    if tag is None:
        raise NotFound("The story has no such suggested tag.")
    tags = [t.name for t in story.tags] + [tag.name]
    return review.curate_story(actor, story, {"tags": tags}, reason=f"Accepted suggested tag “{tag.name}”")


def decline_tag(actor, story: Story, tag_id: int) -> None:
    """Decline a suggested tag: it is not suggested for this story again.

    :raise Forbidden: unless the actor curates stories.
    """
    policy.require(policy.can_curate_story(actor, story), "Only curators can decline suggestions.")
    db.session.add(SuggestionDecline(story_id=story.id, tag_id=tag_id, declined_by_id=getattr(actor, "id", None), reason=""))
    db.session.execute(delete(TagSuggestion).where(TagSuggestion.story_id == story.id,
                                                   TagSuggestion.tag_id == tag_id))
    record_event(actor, "decline_tag", story, {"tag_id": tag_id})


def file_in_bulk(actor, area_slug: str, reasons: dict[int, str]) -> review.BulkPlan:
    """File the chosen stories under the area, each with its own reason: one
    revision per story, one audit event and one index change for the batch.

    :raise Forbidden: unless the actor may curate in bulk.
    :raise Invalid: for an unknown area or no stories.
    """
    policy.require(policy.can_bulk_curate(actor), "Only curators can file stories in bulk.")
    if not reasons:
        raise Invalid("Choose at least one story to file.", {"story_ids": "Tick at least one story to file."})
    area = _area(area_slug, "area")
    return review.apply_bulk_change(actor, sorted(reasons), "add_area", area.slug,
                                    "Filed from kb's suggestions", reasons=reasons)


def suggested_for_area(viewer, area: ActionArea, limit: int = 10) -> list[Candidate]:
    """Published stories suggested for the area at the bulk-filing confidence
    that curators have neither filed there nor declined, most confident first.

    :raise Forbidden: unless the viewer may see suggestions.
    """
    policy.require(policy.can_view_suggestions(viewer), "Only curators can see suggestions.")
    filed = select(StoryActionArea.story_id).where(StoryActionArea.action_area_id == area.id)
    declined = select(SuggestionDecline.story_id).where(SuggestionDecline.action_area_id == area.id)
    query = (select(Story.id, Story.title, Story.slug, AreaSuggestion.confidence, AreaSuggestion.reason)
             .join(AreaSuggestion, AreaSuggestion.story_id == Story.id)
             .where(AreaSuggestion.action_area_id == area.id, AreaSuggestion.confidence >= BULK_CONFIDENCE,
                    Story.is_published, Story.id.not_in(filed), Story.id.not_in(declined))
             .order_by(AreaSuggestion.confidence.desc(), Story.id).limit(limit))
    return [Candidate(*row) for row in db.session.execute(query)]
