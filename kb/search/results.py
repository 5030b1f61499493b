"""What a search gives back, and how it is shown: hits, facet values with
labels, near-duplicates folded together, snippets, and the hits' rows."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from math import ceil

from sqlalchemy import func, literal, select, union_all

from kb import likeness, reference
from kb.extensions import db
from kb.models import EVIDENCE_LEVELS, KINDS, SECTIONS, STAGES, ActionArea, Organisation, Story, Tag
from kb.models.story import StoryOrganisation
from kb.search import facets, query

FACET_LIMIT = 12


@dataclass
class Hit:
    story_id: int
    score: float | None
    snippet: object = None  # Markup with <mark>, or None
    # Near-duplicates folded into this hit (with ``collapse``): [Similar], best first.
    similar: list = field(default_factory=list)


@dataclass
class Similar:
    story_id: int
    title: str
    slug: str


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False
    depth: int = 0  # in the place facet: 0 country, 1 nation or region, 2 authority


@dataclass
class SearchResults:
    query: str
    filters: dict
    sort: str
    page: int
    per_page: int
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    facet_sizes: dict[str, int] = field(default_factory=dict)  # distinct values per facet
    suggestion: str | None = None
    message: str = ""

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def story_ids(self) -> list[int]:
        return [hit.story_id for hit in self.hits]


# Hits looked at beyond the page, so that a page of collapsed results is full.
COLLAPSE_EXTRA = 40
# Stories whose summary and body start with the same this many letters (normalised) are near-duplicates.
TEXT_KEY_CHARS = 250


def collapsed(hits: list[Hit]) -> list[Hit]:
    """One hit per group of near-duplicates, the best ranked holding the others
    in ``similar``: stories with the same normalised title and organisations, or
    the same normalised first ``TEXT_KEY_CHARS`` characters of summary and body."""
    if len(hits) < 2:
        return hits
    ids = [hit.story_id for hit in hits]
    rows = {row.id: row for row in db.session.execute(
        select(Story.id, Story.title, Story.slug,
               func.substr(Story.summary + " " + Story.body, 1, TEXT_KEY_CHARS * 2).label("start"))
        .where(Story.id.in_(ids)))}
    orgs: dict[int, list] = {}
    for story_id, organisation_id in db.session.execute(
            select(StoryOrganisation.story_id, StoryOrganisation.organisation_id)
            .where(StoryOrganisation.story_id.in_(ids))):
        orgs.setdefault(story_id, []).append(organisation_id)
    group_of: dict = {}
    kept: list[Hit] = []
    for hit in hits:
        row = rows.get(hit.story_id)
        if row is None:
            continue
        keys = [("title", *likeness.title_key(row.title, orgs.get(row.id, ())))]
        text = likeness.normal_text(row.start or "")
        if len(text) >= TEXT_KEY_CHARS:
            keys.append(("text", text[:TEXT_KEY_CHARS]))
        first = next((group_of[key] for key in keys if key in group_of), None)
        if first is None:
            kept.append(hit)
            first = hit
        else:
            first.similar.append(Similar(row.id, row.title, row.slug))
        for key in keys:
            group_of.setdefault(key, first)
    return kept


def add_snippets(hits: list[Hit], terms: set[str]) -> None:
    sections = [getattr(Story, name) for name in SECTIONS]
    rows = db.session.execute(
        select(Story.id, Story.summary, Story.body, *sections).where(Story.id.in_([h.story_id for h in hits]))
    ).all()
    texts = {row.id: row for row in rows}
    for hit in hits:
        row = texts.get(hit.story_id)
        if row is not None:
            hit.snippet = query.snippet(terms, *row[1:])


def facet_values(counts: dict, filters: dict, full_facet=None) -> dict[str, list[FacetValue]]:
    out, tops = {}, {}
    for name, counter in counts.items():
        if name == "place":
            continue
        limit = None if name == full_facet else FACET_LIMIT
        top = _commonest(counter)[:limit]
        if name == "year":
            top = sorted(top, reverse=True)
        if name == "evidence":
            # Each level counts the stories at it or above, as its filter keeps them.
            counter = Counter({level: sum(n for value, n in counter.items() if value >= level)
                               for level in EVIDENCE_LEVELS if level})
            top = [level for level in sorted(counter, reverse=True) if counter[level]]
        tops[name] = (top, counter)
    named = _named_labels({name: top for name, (top, _) in tops.items()})
    for name, counter in counts.items():
        selected = set(filters.get(name, ()))
        if name == "place":
            out[name] = _place_facet(counter, selected)
            continue
        top, counter = tops[name]
        labels = named[name] if name in named else _labels(name, top)
        out[name] = [
            FacetValue(str(value), labels.get(value, str(value)), counter[value], str(value) in selected)
            for value in top
        ]
    return out


def _commonest(counter) -> list:
    """The counter's values, most stories first and equal counts in value order:
    the same order in every process, whatever order the counts were made in."""
    return sorted(counter, key=lambda value: (-counter[value], str(value)))


_NAMED = {"area": ActionArea, "tag": Tag, "org": Organisation}


def _named_labels(tops: dict[str, list]) -> dict[str, dict]:
    """The names of the areas, tags and organisations among ``tops`` (facet ->
    values), in one query for all three (a round trip to the database each cost
    more than the reading)."""
    parts = [select(literal(name).label("facet"), model.slug, model.name).where(model.slug.in_(tops[name]))
             for name, model in _NAMED.items() if tops.get(name)]
    if not parts:
        return {}
    out: dict[str, dict] = {name: {} for name in _NAMED if tops.get(name)}
    for facet, slug, label in db.session.execute(union_all(*parts) if len(parts) > 1 else parts[0]):
        out[facet][slug] = label
    if "area" in out:
        out["area"][facets.UNFILED] = "Not yet filed"
    return out


def _place_facet(counter, selected: set) -> list[FacetValue]:
    """Countries; under the UK, once a place is chosen or the UK is the only country,
    its regions (England) and nations; under a chosen one of those, its authorities."""
    authorities = reference.authorities()
    areas = {item.area for item in authorities.values()}
    chosen_areas = selected | {authorities[key].area for key in selected if key in authorities}

    def value(key, depth: int) -> FacetValue:
        label = authorities[key].name if key in authorities else reference.country_name(key) if depth == 0 else key
        return FacetValue(key, label, counter[key], key in selected, depth)

    countries = [key for key in _commonest(counter) if reference.is_country(key)][:FACET_LIMIT]
    out = []
    for country in countries:
        out.append(value(country, 0))
        if country != reference.UK or not (selected or len(countries) == 1):
            continue
        for area in sorted(key for key in counter if key in areas):
            out.append(value(area, 1))
            if area in chosen_areas:
                children = sorted((key for key in counter if key in authorities and authorities[key].area == area),
                                  key=lambda key: authorities[key].name)
                out.extend(value(key, 2) for key in children)
    return out


def _labels(name: str, values: list) -> dict:
    """The labels of the facets whose values are not named in the database (see ``_named_labels``)."""
    if name == "evidence":
        return {v: f"Level {v} or above" if v < max(EVIDENCE_LEVELS) else f"Level {v}" for v in values}
    if name == "kind":
        return {v: KINDS.get(v, v) for v in values}
    if name == "stage":
        return {v: STAGES.get(v, v) for v in values}
    return {}


def load_hits(results: SearchResults, options=()) -> list[tuple[Story, Hit]]:
    """The hits' stories from the database, in ranked order (missing rows left
    out); ``options``: loader options for the query (what else to load with them)."""
    ids = results.story_ids
    if not ids:
        return []
    rows = {story.id: story for story in db.session.scalars(select(Story).where(Story.id.in_(ids)).options(*options))}
    return [(rows[hit.story_id], hit) for hit in results.hits if hit.story_id in rows]
