"""Stories an import flagged as near-duplicates of another (the same title and
organisations once normalised, ``kb.likeness.title_key``): the curators' list,
merging one story into the other, and dismissing the flag.

A merge keeps the kept story's own fields and carries over from the merged one
what the kept story lacks: its source and source id, links (by normalised
address), tags, action areas and related stories. The merged story is
withdrawn and points at the kept one, whose address its old address leads to;
stories flagged as looking like it are flagged as looking like the kept one.
Both get a revision, an audit event and an index change.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from kb import policy
from kb.errors import Invalid, NotFound
from kb.extensions import db
from kb.models import Link, Story, StoryActionArea
from kb.services.audit import record_event
from kb.services.changes import record_index_change
from kb.services.fetch import by_id
from kb.services.revisions import record_revision
from kb.services.sources import normalise_url

PER_PAGE = 50


@dataclass
class MergePlan:
    """What merging ``merged`` into ``kept`` carries over."""
    kept: Story
    merged: Story
    source: bool
    links: list[Link]
    tags: list
    areas: list[StoryActionArea]
    related: list[Story]

    @property
    def carries(self) -> bool:
        return bool(self.source or self.links or self.tags or self.areas or self.related)


def _require(viewer) -> None:
    policy.require(policy.can_merge_stories(viewer), "Only curators can merge stories.")


def flagged_count(viewer) -> int:
    """How many stories are flagged as near-duplicates.

    :raise Forbidden: unless the viewer may merge stories.
    """
    _require(viewer)
    return db.session.scalar(select(func.count()).select_from(Story).where(Story.duplicate_of_id.is_not(None))) or 0


def flagged(viewer, page: int = 1) -> list[tuple[Story, Story]]:
    """(flagged story, the story it looks like) for a page of flagged stories, newest first.

    :raise Forbidden: unless the viewer may merge stories.
    """
    _require(viewer)
    original = aliased(Story)
    query = (select(Story, original).join(original, Story.duplicate_of_id == original.id)
             .order_by(Story.id.desc()).limit(PER_PAGE).offset((max(page, 1) - 1) * PER_PAGE))
    return [(story, other) for story, other in db.session.execute(query)]


def get_flagged(viewer, story_id: int) -> Story:
    """The flagged story with this id.

    :raise Forbidden: unless the viewer may merge stories.
    :raise NotFound: if there is no such story, or it is not flagged.
    """
    _require(viewer)
    story = by_id(Story, story_id, "There is no such story.")
    if story.duplicate_of_id is None:
        raise NotFound("This story is not flagged as a near-duplicate.")
    return story


def plan_merge(viewer, kept: Story, merged: Story) -> MergePlan:
    """What merging ``merged`` into ``kept`` would carry over.

    :raise Forbidden: unless the viewer may merge stories.
    :raise Invalid: if the two are one story, or either was merged already.
    """
    _require(viewer)
    if kept.id == merged.id:
        raise Invalid("A story cannot be merged into itself.", {"keep": "Choose the other story to keep."})
    for story in (kept, merged):
        if story.merged_into_id is not None:
            message = f"“{story.title}” was merged into another story already."
            raise Invalid(message, {"keep": message})
    addresses = {normalise_url(link.url) for link in kept.links}
    links = [link for link in merged.links if normalise_url(link.url) not in addresses]
    areas = {link.action_area_id for link in kept.area_links}
    return MergePlan(
        kept=kept, merged=merged,
        source=bool(merged.source_id and not kept.source_id),
        links=list({normalise_url(link.url): link for link in links}.values()),
        tags=[tag for tag in merged.tags if tag not in kept.tags],
        areas=[link for link in merged.area_links if link.action_area_id not in areas],
        related=[story for story in merged.related if story not in kept.related and story.id != kept.id],
    )


def merge(actor, kept: Story, merged: Story) -> Story:
    """Merge ``merged`` into ``kept`` (see the module's docstring); returns ``kept``.

    :raise Forbidden: unless the actor may merge stories.
    :raise Invalid: if the two are one story, or either was merged already.
    """
    plan = plan_merge(actor, kept, merged)
    if plan.source:
        kept.source, kept.source_id = merged.source, merged.source_id
    for link in plan.links:
        kept.links.append(Link(url=link.url, title=link.title, rel=link.rel, tags=list(link.tags or [])))
    kept.tags.extend(plan.tags)
    for link in plan.areas:
        kept.area_links.append(StoryActionArea(action_area_id=link.action_area_id, reason=link.reason))
    kept.related.extend(plan.related)
    if kept.duplicate_of_id == merged.id:
        kept.duplicate_of_id = None
    merged.duplicate_of_id, merged.merged_into_id = None, kept.id
    merged.status = "withdrawn"
    db.session.flush()
    # Stories flagged as looking like the merged one now look like the kept one.
    db.session.execute(update(Story).where(Story.duplicate_of_id == merged.id, Story.id != kept.id)
                       .values(duplicate_of_id=kept.id).execution_options(synchronize_session="fetch"))
    record_revision(actor, kept, f"Merged “{merged.title}” into this story")
    record_revision(actor, merged, f"Merged into “{kept.title}”")
    record_event(actor, "merge", merged, {"into": kept.slug, "into_id": kept.id, "status": "withdrawn"})
    record_index_change(kept.id, merged.id)
    return kept


def dismiss(actor, story: Story) -> Story:
    """Take the near-duplicate flag off ``story``: the two are different stories.

    :raise Forbidden: unless the actor may merge stories.
    """
    _require(actor)
    other = story.duplicate_of
    story.duplicate_of_id = None
    db.session.flush()
    record_event(actor, "dismiss_duplicate", story, {"not_duplicate_of": other.slug if other else ""})
    return story


def merged_into(viewer, slug: str) -> Story | None:
    """The story that the story at ``slug`` was merged into (through a chain of
    merges), if there is one and the viewer may see it; None otherwise."""
    story = db.session.scalar(select(Story).where(Story.slug == slug))
    if story is None or story.merged_into_id is None:
        return None
    seen = {story.id}
    while story.merged_into_id is not None and story.merged_into_id not in seen:
        story = story.merged_into
        seen.add(story.id)
    return story if policy.can_view_story(viewer, story) else None
