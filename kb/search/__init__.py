"""Full-text search with Whoosh. Nothing outside this package imports Whoosh.

The one query API, shared by the search page, the JSON API and
``bench/relevance.py``::

    from kb import search

    results = search.search_stories(
        "digital inclusion",              # any text at all; never raises on input
        {"area": ["networks"], "year": ["2019"]},   # filters: area, kind, tag, org, year, stage
        sort="relevance",                 # or "newest"
        page=1, per_page=20,
        statuses=("published",),          # what the viewer may see
    )
    results.total, results.pages          # how many stories match, in how many pages
    results.hits                          # [Hit(story_id, score, snippet)], best first
    results.facets["tag"]                 # [FacetValue(value, label, count, selected)]
    results.suggestion                    # "innovation" for "innnovation", or None
    results.message                       # a note about the input, or ""

    search.similar_stories(story_id, limit=5)   # [story ids], published only

Search returns story ids; the caller loads the rows (``load_hits``) and shows
them in that order. Filters of several facets combine (AND); a tag filter may
name an alias or a merged tag.

Keeping the index in step (``sync.py``): ``sync(app)``, ``sync_quietly(app)``
(called by ``kb.database.commit`` after every commit that recorded index
changes), ``rebuild(app)``, ``verify(app)``. Building the app opens nothing: ``kb serve``
calls ``start(app)`` (sync, then let go of open files) before forking its
workers, and each worker calls ``forget_process_state()`` after the fork.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from math import ceil

from sqlalchemy import func, select
from whoosh import query as wq

from kb import reference
from kb.extensions import db
from kb.models import EVIDENCE_LEVELS, KINDS, SECTIONS, STAGES, ActionArea, Organisation, Story, Tag
from kb.models.story import StoryOrganisation
from kb.search import facets, postings, query, rank
from kb.search.budget import MESSAGE as BUDGET_MESSAGE
from kb.search.budget import Budget
from kb.search.index import IndexBusy, close_searchers, searcher
from kb.search.sync import Drift, home, log_exists, rebuild, sync, sync_if_behind, sync_quietly, verify

log = logging.getLogger(__name__)

SORTS = ("relevance", "newest", "evidence")
FILTERS = tuple(facets.FACETS)
UNFILED = facets.UNFILED
MAX_PER_PAGE = 100
MAX_FILTER_VALUES = 10
MAX_QUERY_CHARS = query.MAX_QUERY_CHARS
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


def clean_filters(filters) -> dict[str, list[str]]:
    """Known filter names only, each a list of distinct non-empty strings (at most 10)."""
    out = {}
    for name in FILTERS:
        values = (filters or {}).get(name) or []
        if isinstance(values, str):
            values = [values]
        values = [query.clean(v)[0][:200] for v in values]
        values = list(dict.fromkeys(v for v in values if v))
        if values:
            out[name] = values[:MAX_FILTER_VALUES]
    return out


def clean_query(q, limit: int | None = MAX_QUERY_CHARS) -> str:
    """The query as search reads it: control characters and runs of spaces
    gone, cut at a word boundary to at most ``limit`` characters (None: whole)."""
    return query.clean(q, limit)[0]


def _index_filters(filters: dict) -> dict:
    """Filter values as the index holds them: years as numbers, tag aliases resolved."""
    out = {}
    for name, values in filters.items():
        if name == "year":
            out[name] = [int(v) if v.isdigit() else v for v in values]
        elif name in facets.AT_LEAST:
            # A level that is no level filters out nothing (0 is everything).
            out[name] = [int(v) if v.isdigit() and int(v) in EVIDENCE_LEVELS else 0 for v in values]
        elif name == "tag":
            out[name] = [_tag_slug(v) for v in values]
        else:
            out[name] = values
    return out


def _tag_slug(slug: str) -> str:
    tag = Tag.by_slug(slug)
    return tag.slug if tag else slug


def _index_must_be_readable(function):
    """Turn a failure to read the index into ``Unavailable`` (a 503 page), logged
    loudly: a corrupt segment otherwise made every search a 500 until a rebuild."""
    from functools import wraps

    from kb.errors import DomainError, Unavailable

    @wraps(function)
    def guarded(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except DomainError:
            raise
        except Exception as exc:
            log.critical("The search index cannot be read; run `kb index rebuild`", exc_info=True)
            raise Unavailable("Search is not available at the moment. Please try again later.") from exc

    return guarded


@_index_must_be_readable
def search_stories(q="", filters=None, sort="relevance", page=1, per_page=20,
                   statuses=("published",), snippets=True, suggest=True, full_facet=None,
                   collapse=False) -> SearchResults:
    """Search stories: any input gives results (perhaps none) and never raises on it.

    An empty query lists every story in ``statuses`` newest first. ``sort`` is
    "relevance" (the default; "newest" when there are no words) or "newest".
    Facet counts are over the whole result set. Syncs first when the change
    log has moved past this node's index. Needs an app context.
    Each facet lists its ``FACET_LIMIT`` commonest values, except ``full_facet``
    (a facet name), which lists every value; ``facet_sizes`` counts them all.
    """
    from flask import current_app

    app = current_app._get_current_object()
    filters = clean_filters(filters)
    sort = sort if sort in SORTS else "relevance"
    page = max(1, _int(page, 1))
    per_page = min(MAX_PER_PAGE, max(1, _int(per_page, 20)))
    results = SearchResults(query="", filters=filters, sort=sort, page=page, per_page=per_page)
    sync_if_behind(app)
    budget = Budget(app.config["SEARCH_CPU_BUDGET"])
    with searcher(home(app)) as s:
        if s is None:
            results.message = "Search is not available yet. Please try again in a minute."
            return results
        parsed = query.parse(q, s.reader())
        results.query, results.message = parsed.text, parsed.message
        view = facets.view(str(home(app).current_path()), s)
        matched = view.allowed(tuple(statuses), _index_filters(filters))
        if not parsed.is_empty:
            matched = _matching(s, parsed, matched, budget) & matched
        results.total = len(matched)
        counts = view.counts(matched)
        results.facets = _facets(counts, filters, full_facet)
        results.facet_sizes = {name: len(counter) for name, counter in counts.items()}
        for name in ("evidence", "place"):  # shown whole (levels; the place tree)
            results.facet_sizes[name] = len(results.facets.get(name, ()))
        start = (page - 1) * per_page
        if start < len(matched):
            if collapse:
                window = _ordered(s, view, parsed, matched, sort, 0, start + per_page + COLLAPSE_EXTRA, budget)
                results.hits = _collapsed(window)[start:start + per_page]
            else:
                results.hits = _ordered(s, view, parsed, matched, sort, start, per_page, budget)
        if suggest and not parsed.is_empty and not budget.over():
            results.suggestion = query.suggestion(s, parsed)
    if snippets and results.hits and parsed.terms:
        _add_snippets(results.hits, parsed.terms)
    if budget.spent:
        results.message = " ".join(filter(None, (results.message, BUDGET_MESSAGE)))
    return results


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _matching(s, parsed, universe: set, budget: Budget) -> set:
    reader = s.reader()
    if parsed.words is not None:
        docs: set = set()
        for word in parsed.words:
            if budget.over():
                break
            docs |= facets.term_docs(reader, "content", word)
        return docs
    try:
        return _tree_docs(s, parsed.scoring, universe, budget)
    except Exception:  # an odd parsed query: nothing matches
        log.info("Query could not run: %r", parsed.text, exc_info=True)
        return set()


def _tree_docs(s, node, universe: set, budget: Budget) -> set:
    """The documents a parsed query matches, by set operations on decoded
    postings: terms, phrases (their words' documents, then positions), AND, OR,
    AND NOT, and NOT alone (everything the reader may see but those)."""
    kind = type(node)
    if kind is wq.Term:
        return facets.term_docs(s.reader(), node.fieldname, node.text)
    if kind is wq.Phrase:
        sets = sorted((facets.term_docs(s.reader(), node.fieldname, w) for w in node.words), key=len)
        docs = sets[0].intersection(*sets[1:]) & universe
        return rank.phrase_docs(s.reader(), sorted(docs), node.words, node.fieldname, budget)
    if kind in (wq.Or, wq.And) and node.subqueries:
        sets = []
        for sub in node.subqueries:
            if budget.over():
                break
            sets.append(_tree_docs(s, sub, universe, budget))
        if not sets:
            return set()
        if kind is wq.Or:
            return set().union(*sets)
        sets.sort(key=len)
        return sets[0].intersection(*sets[1:])
    if kind is wq.AndNot:
        return _tree_docs(s, node.a, universe, budget) - _tree_docs(s, node.b, universe, budget)
    if kind is wq.Not:
        return universe - _tree_docs(s, node.query, universe, budget)
    return set()


def _ordered(s, view, parsed, matched: set, sort: str, start: int, per_page: int, budget: Budget) -> list[Hit]:
    words = parsed.words if parsed.words is not None else parsed.rank_words
    if sort == "evidence":
        return [Hit(view.story_id(d), None) for d in view.strongest(matched, start + per_page)[start:]]
    ranked = []
    if not parsed.is_empty and sort != "newest" and words:
        try:
            ranked = rank.rank(s, words, matched, start + per_page, parsed.phrase, budget)[start:]
        except Exception:
            log.info("Query could not be ranked: %r", parsed.text, exc_info=True)
    if not ranked:
        # No words to rank by (NOT x, kind:report), or sorted by date: newest first.
        return [Hit(view.story_id(d), None) for d in view.newest(matched, start + per_page)[start:]]
    return [Hit(view.story_id(d), score) for d, score in ranked]


# Hits looked at beyond the page, so that a page of collapsed results is full.
COLLAPSE_EXTRA = 40
# Stories whose summary and body start with the same this many letters (normalised) are near-duplicates.
TEXT_KEY_CHARS = 250
_NOT_WORDS = re.compile(r"[\W_]+")


def _collapsed(hits: list[Hit]) -> list[Hit]:
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
        keys = [("title", _normal(row.title), tuple(sorted(orgs.get(row.id, ()))))]
        text = _normal(row.start or "")
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


def _normal(text: str) -> str:
    return " ".join(_NOT_WORDS.sub(" ", text.lower()).split())


def _add_snippets(hits: list[Hit], terms: set[str]) -> None:
    sections = [getattr(Story, name) for name in SECTIONS]
    rows = db.session.execute(
        select(Story.id, Story.summary, Story.body, *sections).where(Story.id.in_([h.story_id for h in hits]))
    ).all()
    texts = {row.id: row for row in rows}
    for hit in hits:
        row = texts.get(hit.story_id)
        if row is not None:
            hit.snippet = query.snippet(terms, *row[1:])


def _facets(counts: dict, filters: dict, full_facet=None) -> dict[str, list[FacetValue]]:
    out = {}
    for name, counter in counts.items():
        selected = set(filters.get(name, ()))
        if name == "place":
            out[name] = _place_facet(counter, selected)
            continue
        limit = None if name == full_facet else FACET_LIMIT
        top = [value for value, _ in counter.most_common(limit)]
        if name == "year":
            top = sorted(top, reverse=True)
        if name == "evidence":
            # Each level counts the stories at it or above, as its filter keeps them.
            counter = Counter({level: sum(n for value, n in counter.items() if value >= level)
                               for level in EVIDENCE_LEVELS if level})
            top = [level for level in sorted(counter, reverse=True) if counter[level]]
        labels = _labels(name, top)
        out[name] = [
            FacetValue(str(value), labels.get(value, str(value)), counter[value], str(value) in selected)
            for value in top
        ]
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

    countries = [key for key, _ in counter.most_common() if reference.is_country(key)][:FACET_LIMIT]
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
    if not values:
        return {}
    if name == "evidence":
        return {v: f"Level {v} or above" if v < max(EVIDENCE_LEVELS) else f"Level {v}" for v in values}
    if name == "kind":
        return {v: KINDS.get(v, v) for v in values}
    if name == "stage":
        return {v: STAGES.get(v, v) for v in values}
    model = {"area": ActionArea, "tag": Tag, "org": Organisation}.get(name)
    if model is None:
        return {}
    labels = dict(db.session.execute(select(model.slug, model.name).where(model.slug.in_(values))).all())
    if name == "area":
        labels[facets.UNFILED] = "Not yet filed"
    return labels


def load_hits(results: SearchResults) -> list[tuple[Story, Hit]]:
    """The hits' stories from the database, in ranked order (missing rows left out)."""
    ids = results.story_ids
    if not ids:
        return []
    rows = {story.id: story for story in db.session.scalars(select(Story).where(Story.id.in_(ids)))}
    return [(rows[hit.story_id], hit) for hit in results.hits if hit.story_id in rows]


SIMILAR_TERMS = 12
# Stories holding the story's rarest key words, taken word by word until there
# are this many; stories sharing only its commonest words are not scored.
SIMILAR_CANDIDATES = 1500
_similar: dict[tuple, list[int]] = {}
_MAX_SIMILAR = 2048


def similar_stories(story_id: int, limit: int = 5) -> list[int]:
    """Ids of up to ``limit`` published stories most like this one (never itself).

    Kept per index version, so a story page shown again costs one lookup."""
    from flask import current_app

    app = current_app._get_current_object()
    with searcher(home(app)) as s:
        if s is None:
            return []
        key = (str(home(app).current_path()), s.reader().generation(), story_id, limit)
        found = _similar.get(key)
        if found is None:
            found = _similar_in(s, app, story_id, limit)
            if len(_similar) >= _MAX_SIMILAR:
                _similar.pop(next(iter(_similar)), None)
            _similar[key] = found
        return list(found)


def _similar_in(s, app, story_id: int, limit: int) -> list[int]:
    row = db.session.execute(
        select(Story.title, Story.summary, Story.body).where(Story.id == story_id)
    ).first()
    if row is None:
        return []
    text = " ".join((row.title, row.title, row.summary, query.plain_text(row.body)[:2000]))
    view = facets.view(str(home(app).current_path()), s)
    try:
        words = dict(s.key_terms_from_text("content", text, numterms=SIMILAR_TERMS))
        reader = s.reader()
        docs: set = set()
        for word in sorted(words, key=lambda w: reader.doc_frequency("content", w)):
            docs |= facets.term_docs(reader, "content", word)
            if len(docs) >= SIMILAR_CANDIDATES:
                break
        docs &= view.docs_where(facets.STATUS, "published", False)
        docs.discard(s.document_number(id=str(story_id)))
        ranked = rank.rank(s, words, docs, limit)
    except Exception:
        log.info("Similar stories failed for %s", story_id, exc_info=True)
        return []
    return [view.story_id(doc) for doc, _ in ranked]


def start(app) -> None:
    """Bring the index up to date before serving (``kb serve``), creating it by a
    rebuild if there is none, then let go of everything that holds open files.

    What a process opens before gunicorn forks is shared by every worker, file
    offsets included, so concurrent reads in different workers would interleave.

    :raise IndexBusy: if another process held the write lock too long.
    """
    with app.app_context():
        try:
            if log_exists():
                sync(app)
        finally:
            db.session.remove()
    forget_process_state()


def forget_process_state() -> None:
    """Close this process's searchers and drop every cache read from index files
    (in each new worker process, and before forking)."""
    close_searchers()
    postings.clear()
    facets.clear()
    _similar.clear()


__all__ = [
    "SearchResults", "Hit", "FacetValue", "Drift", "IndexBusy", "search_stories", "similar_stories",
    "load_hits", "clean_query", "MAX_QUERY_CHARS", "sync", "sync_quietly", "rebuild", "verify", "start",
    "forget_process_state", "FILTERS", "SORTS", "UNFILED",
]
