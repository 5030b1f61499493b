"""How ideas spread: a story's adoptions (organisations that took the idea up)
and the stories "adapted from" it, read as one line from the story where the
idea started to everyone who took it up, in order of year."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import exists, func, or_, select, union_all

from kb import policy
from kb.extensions import db
from kb.models import Adoption, Organisation, Story
from kb.models.story import StoryOrganisation

MAX_STORIES = 200


@dataclass
class Step:
    """One organisation (or several, for a story) taking the idea up, or starting it."""

    organisations: list[Organisation] = field(default_factory=list)
    year: int | None = None
    story: Story | None = None  # the story that tells this step, if the reader may see it
    note: str = ""
    origin: bool = False
    from_story: Story | None = None  # whose idea was taken up, when not the origin


def _year(story: Story) -> int | None:
    return story.published_on.year if story.published_on else None


def _visible(viewer, story: Story | None) -> Story | None:
    return story if story is not None and policy.can_view_story(viewer, story) else None


def _in_a_line(story: Story) -> bool:
    """Whether ``story`` was adapted from another, or has adoptions or adapted
    stories, or is an adopter's own: one query, where following the line would
    take three to find most stories alone."""
    if story.adapted_from_id is not None:
        return True
    return bool(db.session.scalar(select(or_(
        exists().where(or_(Adoption.story_id == story.id, Adoption.adopter_story_id == story.id)),
        exists().where(Story.adapted_from_id == story.id)))))


def origin_of(viewer, story: Story) -> Story:
    """The story where the idea started: up the "adapted from" line (or, for a story
    recorded as an adopter's own, to the story it adopted), as far as the viewer may see."""
    seen = {story.id}
    while True:
        parent = story.adapted_from or db.session.scalar(
            select(Story).join(Adoption, Adoption.story_id == Story.id)
            .where(Adoption.adopter_story_id == story.id).order_by(Adoption.id).limit(1))
        parent = _visible(viewer, parent)
        if parent is None or parent.id in seen:
            return story
        seen.add(parent.id)
        story = parent


def spread_of(viewer, story: Story) -> list[Step]:
    """Where the idea of ``story`` started and who took it up: the origin first, then
    every adoption and adapted story down the line, by year (unknown years last).
    A single step (only the origin) means nobody is known to have taken it up."""
    if not _in_a_line(story):
        return [Step(list(story.organisations), _year(story), story, origin=True)]
    origin = origin_of(viewer, story)
    steps = [Step(list(origin.organisations), _year(origin), origin, origin=True)]
    queue, seen = [origin], {origin.id}
    while queue and len(seen) < MAX_STORIES:
        current = queue.pop(0)
        told = set()
        for adoption in current.adoptions:
            adopter = _visible(viewer, adoption.adopter_story)
            steps.append(Step([adoption.organisation], adoption.year or (_year(adopter) if adopter else None),
                              adopter, adoption.note, from_story=current))
            if adopter is not None:
                told.add(adopter.id)
                if adopter.id not in seen:
                    seen.add(adopter.id)
                    queue.append(adopter)
        children = db.session.scalars(select(Story).where(Story.adapted_from_id == current.id).order_by(Story.id))
        for child in children:
            if child.id in seen or _visible(viewer, child) is None:
                continue
            seen.add(child.id)
            queue.append(child)
            if child.id not in told:
                steps.append(Step(list(child.organisations), _year(child), child, from_story=current))
    first, rest = steps[0], steps[1:]
    rest.sort(key=lambda step: (step.year is None, step.year or 0))
    return [first, *rest]


def taken_up_by(organisation: Organisation) -> list[Adoption]:
    """Adoptions recorded for ``organisation``: ideas it took up (from published stories), by year."""
    query = (
        select(Adoption).join(Story, Story.id == Adoption.story_id)
        .where(Adoption.organisation_id == organisation.id, Story.is_published)
        .order_by(Adoption.year.is_(None), Adoption.year, Adoption.id)
    )
    return list(db.session.scalars(query))


def taken_from(organisation: Organisation) -> list[Adoption]:
    """Adoptions of published stories from ``organisation``: ideas others took from it, by year."""
    stories = select(StoryOrganisation.story_id).where(StoryOrganisation.organisation_id == organisation.id)
    query = (
        select(Adoption).join(Story, Story.id == Adoption.story_id)
        .where(Adoption.story_id.in_(stories), Story.is_published)
        .order_by(Adoption.year.is_(None), Adoption.year, Adoption.id)
    )
    return list(db.session.scalars(query))


def adapted_stories(organisation: Organisation, *, taken: bool) -> list[Story]:
    """Published stories adapted from another story: of ``organisation`` (``taken``: ideas it
    took up), or adapted from its stories (ideas others took from it)."""
    own = select(StoryOrganisation.story_id).where(StoryOrganisation.organisation_id == organisation.id)
    query = select(Story).where(Story.is_published, Story.adapted_from_id.is_not(None))
    query = query.where(Story.id.in_(own)) if taken else query.where(Story.adapted_from_id.in_(own))
    return list(db.session.scalars(query.order_by(Story.published_on.is_(None), Story.published_on, Story.id)))


def most_taken_up(limit: int = 50) -> list[tuple[Story, int]]:
    """Published stories whose idea was taken up most: (story, adoptions plus published
    stories adapted from it), most first, then newest."""
    adoptions = select(Adoption.story_id.label("story_id"))
    adapted = select(Story.adapted_from_id.label("story_id")).where(
        Story.adapted_from_id.is_not(None), Story.is_published)
    takers = union_all(adoptions, adapted).subquery()
    counts = (
        select(takers.c.story_id, func.count().label("n")).group_by(takers.c.story_id).subquery()
    )
    query = (
        select(Story, counts.c.n).join(counts, counts.c.story_id == Story.id)
        .where(Story.is_published)
        .order_by(counts.c.n.desc(), Story.published_on.desc().nulls_last(), Story.id.desc())
        .limit(limit)
    )
    return [(story, n) for story, n in db.session.execute(query).all()]
