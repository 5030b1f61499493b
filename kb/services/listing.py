"""What readers browse: published stories by area, tag and organisation."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from math import ceil

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from kb import search
from kb.extensions import db
from kb.models import ActionArea, Organisation, Person, Story, StoryActionArea, Tag
from kb.models.story import StoryOrganisation, StoryPerson, story_tags


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


# What a story's card shows (areas, organisations, tags), as loader options:
# three queries for a list of stories, instead of two or three for each story.
CARD = (selectinload(Story.area_links), selectinload(Story.organisation_links), selectinload(Story.tags))


def with_cards(stories: list[Story]) -> list[Story]:
    """``stories``, with what a story's card shows (areas, organisations, tags)
    loaded in three queries for the lot, instead of two or three for each story."""
    ids = [story.id for story in stories]
    if ids:
        list(db.session.scalars(select(Story).where(Story.id.in_(ids)).options(*CARD)))
    return stories



def published():
    return select(Story).where(Story.is_published)


def newest_first(query):
    return query.order_by(Story.published_on.desc().nulls_last(), Story.id.desc())


def paginate(query, page: int, per_page: int) -> Page:
    page = max(1, page)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = with_cards(list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page))))
    return Page(items, total or 0, page, per_page)


def stories_in_area(area: ActionArea, page: int, per_page: int) -> Page:
    query = published().join(StoryActionArea).where(StoryActionArea.action_area_id == area.id)
    return paginate(newest_first(query), page, per_page)


def stories_with_tag(tag, page: int, per_page: int) -> Page:
    query = published().join(story_tags).where(story_tags.c.tag_id == tag.id)
    return paginate(newest_first(query), page, per_page)


def stories_of_organisation(organisation, page: int, per_page: int) -> Page:
    query = published().join(StoryOrganisation).where(StoryOrganisation.organisation_id == organisation.id)
    return paginate(newest_first(query), page, per_page)


def published_counts_by_area() -> dict[int, int]:
    rows = db.session.execute(
        select(StoryActionArea.action_area_id, func.count())
        .join(Story, Story.id == StoryActionArea.story_id)
        .where(Story.is_published)
        .group_by(StoryActionArea.action_area_id)
    )
    return dict(rows.all())


@dataclass(frozen=True)
class FrontPage:
    """What the home page shows that needs every published story read: which
    stories are featured and latest (ids), and how many are published per area."""

    featured: list[Story]
    latest: list[Story]
    counts: dict[int, int]


_FRONT_PAGE = "kb_front_page"


def front_page(featured: int = 3, latest: int = 6) -> FrontPage:
    """The home page's featured and latest stories and its counts per area.

    Which stories, and the counts, are kept by each process for the app, with
    the newest id of the index change log they were read at (one indexed query
    a request): every change to what decides them (a story's status, date,
    source, featuring or areas) appends to that log in its own transaction, so
    the first request after such a write commits reads them again. No staleness
    is allowed. The stories themselves (titles, cards) are read fresh each time,
    in one query and its card loads."""
    from kb.search.sync import latest_change

    version = latest_change()
    kept = current_app.extensions.get(_FRONT_PAGE)
    if kept is None or kept[0] != version:
        featured_ids = list(db.session.scalars(
            newest_first(published().where(Story.featured.is_(True))).with_only_columns(Story.id).limit(featured)))
        kept = (version, featured_ids, latest_story_ids(latest, exclude=featured_ids), published_counts_by_area())
        current_app.extensions[_FRONT_PAGE] = kept
    _, featured_ids, latest_ids, counts = kept
    rows = _with_card(featured_ids + latest_ids)
    return FrontPage([rows[i] for i in featured_ids if i in rows], [rows[i] for i in latest_ids if i in rows],
                     dict(counts))


def _with_card(ids: list[int]) -> dict[int, Story]:
    """The stories of ``ids`` by id, with what their cards show."""
    if not ids:
        return {}
    return {story.id: story for story in db.session.scalars(select(Story).where(Story.id.in_(ids)).options(*CARD))}


# The newest published stories read to choose the home page's latest from.
LATEST_CANDIDATES = 120


def latest_stories(limit: int = 6, exclude: list[int] = (), per_source: int = 2) -> list[Story]:
    """The newest published stories, at most ``per_source`` from each source
    (an import's origin; stories written here count as one source), topped up
    with the newest of the rest when there are too few sources; newest first."""
    ids = latest_story_ids(limit, exclude, per_source)
    rows = _with_card(ids)
    return [rows[i] for i in ids if i in rows]


def latest_story_ids(limit: int = 6, exclude: list[int] = (), per_source: int = 2) -> list[int]:
    """The ids of ``latest_stories``, newest first.

    Chosen from the ``LATEST_CANDIDATES`` newest (ids and sources only: a
    fraction of the cost of ranking every story by source); only when those
    hold too few sources does the database rank them all."""
    query = published().where(Story.id.not_in(exclude)) if exclude else published()
    wanted = max(LATEST_CANDIDATES, limit)
    candidates = db.session.execute(
        newest_first(query.with_only_columns(Story.id, Story.source, Story.published_on)).limit(wanted)).all()
    when = {row.id: row.published_on for row in candidates}
    ids: list[int] = []
    taken: Counter = Counter()
    for story_id, source, _ in candidates:
        if len(ids) == limit:
            break
        if taken[source or ""] < per_source:
            taken[source or ""] += 1
            ids.append(story_id)
    if len(ids) < limit and len(candidates) == wanted:
        # Sources with fewer than ``per_source`` among the candidates have their
        # next stories further down, older than every candidate.
        older = []
        for source in db.session.scalars(select(func.coalesce(Story.source, "")).distinct()):
            if taken[source] < per_source:
                match = Story.source.is_(None) | (Story.source == "") if source == "" else Story.source == source
                older += db.session.execute(newest_first(query.with_only_columns(
                    Story.id, Story.published_on).where(match)).limit(per_source)).all()
        older.sort(key=lambda row: (row.published_on is not None, row.published_on, row.id), reverse=True)
        for row in older:
            if row.id not in ids and len(ids) < limit:
                ids.append(row.id)
                when[row.id] = row.published_on
    if len(ids) < limit:
        rest = [story_id for story_id, _, _ in candidates if story_id not in ids]
        if len(rest) < limit - len(ids) and len(candidates) == wanted:
            rows = db.session.execute(newest_first(query.where(Story.id.not_in(ids))).with_only_columns(
                Story.id, Story.published_on).limit(limit - len(ids))).all()
            when.update((row.id, row.published_on) for row in rows)
            rest = [row.id for row in rows]
        ids += rest[:limit - len(ids)]
    return sorted(ids, key=lambda i: (when[i] is not None, when[i], i), reverse=True)


def stories_of_person(person, page: int, per_page: int) -> Page:
    query = published().join(StoryPerson).where(StoryPerson.person_id == person.id)
    return paginate(newest_first(query), page, per_page)


# A to Z indexes of organisations, tags and people ------------------------------

OTHER_INITIAL = "0-9"  # names that do not start with a letter A to Z
LETTERS = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + (OTHER_INITIAL,)
_LINKS = {
    "organisations": (Organisation, StoryOrganisation.organisation_id, StoryOrganisation.story_id),
    "people": (Person, StoryPerson.person_id, StoryPerson.story_id),
    "tags": (Tag, story_tags.c.tag_id, story_tags.c.story_id),
}


@dataclass
class DirectoryPage(Page):
    letters: frozenset = frozenset()  # the initials that have at least one entry


def directory(kind: str, text: str = "", letter: str = "", page: int = 1, per_page: int = 60) -> DirectoryPage:
    """Organisations, people or tags (``kind``) with published stories, A to Z,
    each as (item, number of published stories); ``text`` keeps names that
    contain it, ``letter`` those starting with it (``OTHER_INITIAL``: no letter).
    Merged tags are left out (their stories are their survivor's)."""
    model, entity_id, story_id = _LINKS[kind]
    count = func.count(func.distinct(Story.id))
    query = (select(model, count).select_from(model).join(entity_id.table, entity_id == model.id)
             .join(Story, Story.id == story_id)
             .where(Story.is_published).group_by(model.id))
    if model is Tag:
        query = query.where(Tag.merged_into_id.is_(None))
    initial = func.upper(func.substr(model.name, 1, 1))
    letters = frozenset(_initial(i) for i in db.session.scalars(query.with_only_columns(initial).distinct()))
    if text.strip():
        escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(model.name.ilike(f"%{escaped}%", escape="\\"))
    if letter == OTHER_INITIAL:
        query = query.where(initial.not_in(LETTERS[:-1]))
    elif letter in LETTERS:
        query = query.where(initial == letter)
    page = max(1, page)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(query.order_by(func.lower(model.name), model.id)
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return DirectoryPage([tuple(row) for row in rows], total, page, per_page, letters)


def _initial(value: str | None) -> str:
    return value if value in LETTERS[:-1] else OTHER_INITIAL


def search_hits(found) -> list:
    """The hits' stories from the database in ranked order, as (story, hit), with their cards."""
    return search.load_hits(found, options=CARD)


def similar_stories(story: Story, limit: int = 5) -> list[Story]:
    """Published stories most like ``story``, most alike first."""
    ids = search.similar_stories(current_app, story.id, limit)
    if not ids:
        return []
    rows = {s.id: s for s in db.session.scalars(select(Story).where(Story.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows and rows[i].is_published]
