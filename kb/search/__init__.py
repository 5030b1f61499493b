"""Full-text search with Whoosh. Nothing outside this package reads or writes
the index (the filing classifier and bench/search.py import only Whoosh's
Porter stemmer).

The one query API, shared by the search page, the JSON API and
``bench/relevance.py``::

    from kb import search

    results = search.search_stories(
        app,                              # the Flask app: its config and database
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

    search.similar_stories(app, story_id, limit=5)   # [story ids], published only
    search.all_story_ids(app, q, filters, sort, statuses)   # every match, ranked once

Search reads no Flask state of its own: each entry point (page, service,
command, bench) passes the app whose ``config`` (``INDEX_DIR``,
``SEARCH_CPU_BUDGET``, ``INDEX_WRITE_TIMEOUT``) and database it searches.

Search returns story ids; the caller loads the rows (``load_hits``) and shows
them in that order. Filters of several facets combine (AND); a tag filter may
name an alias or a merged tag.

Keeping the index in step (``sync.py``): ``sync(app)``, ``sync_quietly(app)``
(called by ``kb.database.commit`` after every commit that recorded index
changes), ``rebuild(app)``, ``verify(app)``. Building the app opens nothing: ``kb serve``
calls ``start(app)`` (sync, read what the first searches need as plain data,
close every searcher) before forking its workers, and each worker calls
``after_fork()``.
"""
from __future__ import annotations

import logging

from whoosh import query as wq

from kb.extensions import db
from kb.models import EVIDENCE_LEVELS, Tag
from kb.models.story import PUBLISHED
from kb.search import facets, postings, query, rank, similar
from kb.search.budget import MESSAGE as BUDGET_MESSAGE
from kb.search.budget import Budget
from kb.search.index import IndexBusy, close_searchers, searcher
from kb.search.results import (COLLAPSE_EXTRA, FACET_LIMIT, FacetValue, Hit, SearchResults, Similar, add_snippets, collapsed,
                               facet_values, load_hits)
from kb.search.similar import similar_stories
from kb.search.sync import Drift, home, log_exists, rebuild, sync, sync_if_behind, sync_quietly, verify

log = logging.getLogger(__name__)

SORTS = ("relevance", "newest", "evidence")
FILTERS = tuple(facets.FACETS)
UNFILED = facets.UNFILED
MAX_PER_PAGE = 100
MAX_FILTER_VALUES = 10
MAX_QUERY_CHARS = query.MAX_QUERY_CHARS


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
            out[name] = [int(v) if _is_number(v) else v for v in values]
        elif name in facets.AT_LEAST:
            # A level that is no level filters out nothing (0 is everything).
            out[name] = [int(v) if _is_number(v) and int(v) in EVIDENCE_LEVELS else 0 for v in values]
        elif name == "tag":
            out[name] = [_tag_slug(v) for v in values]
        else:
            out[name] = values
    return out


def _is_number(value: str) -> bool:
    """Digits 0-9 only: ``str.isdigit`` also accepts "³", which ``int`` refuses."""
    return value.isascii() and value.isdigit()


def _tag_slug(slug: str) -> str:
    tag = Tag.by_slug(slug)
    return tag.slug if tag else slug


def _index_must_be_readable(function):
    """Turn a failure to read the index into ``Unavailable`` (a 503 page), logged
    loudly: a corrupt segment otherwise made every search a 500 until a rebuild.
    A database that fails during a search is also a 503, logged as what it is."""
    from functools import wraps

    from sqlalchemy.exc import SQLAlchemyError

    from kb.errors import DomainError, Unavailable

    @wraps(function)
    def guarded(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except DomainError:
            raise
        except Exception as exc:
            if isinstance(exc, SQLAlchemyError):
                log.error("The database failed during a search", exc_info=True)
            else:
                log.critical("The search index cannot be read; run `kb index rebuild`", exc_info=True)
            raise Unavailable("Search is not available at the moment. Please try again later.") from exc

    return guarded


@_index_must_be_readable
def search_stories(app, q="", filters=None, sort="relevance", page=1, per_page=20,
                   statuses=(PUBLISHED,), snippets=True, suggest=True, full_facet=None,
                   collapse=False) -> SearchResults:
    """Search stories: any input gives results (perhaps none) and never raises on it.

    An empty query lists every story in ``statuses`` newest first. ``sort`` is
    "relevance" (the default; "newest" when there are no words) or "newest".
    Facet counts are over the whole result set. Syncs first when the change
    log has moved past this node's index. ``app``: the Flask app, whose
    ``config`` and database session search uses (search reads nothing from
    Flask itself).
    Each facet lists its ``FACET_LIMIT`` commonest values, except ``full_facet``
    (a facet name), which lists every value; ``facet_sizes`` counts them all.
    """
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
        parsed, view, matched = _matches(app, s, q, filters, statuses, budget)
        results.query, results.message = parsed.text, parsed.message
        results.total = len(matched)
        counts = view.counts(matched)
        results.facets = facet_values(counts, filters, full_facet)
        results.facet_sizes = {name: len(counter) for name, counter in counts.items()}
        for name in ("evidence", "place"):  # shown whole (levels; the place tree)
            results.facet_sizes[name] = len(results.facets.get(name, ()))
        start = (page - 1) * per_page
        if start < len(matched):
            if collapse:
                window = _ordered(s, view, parsed, matched, sort, 0, start + per_page + COLLAPSE_EXTRA, budget)
                results.hits = collapsed(window)[start:start + per_page]
            else:
                results.hits = _ordered(s, view, parsed, matched, sort, start, per_page, budget)
        if suggest and not parsed.is_empty and not budget.over():
            results.suggestion = query.suggestion(s, parsed)
    if snippets and results.hits and parsed.terms:
        add_snippets(results.hits, parsed.terms)
    if budget.spent:
        results.message = " ".join(filter(None, (results.message, BUDGET_MESSAGE)))
    return results


@_index_must_be_readable
def all_story_ids(app, q="", filters=None, sort="relevance", statuses=(PUBLISHED,)) -> list[int]:
    """The id of every story ``search_stories`` finds, in its order, ranked once
    (exports, bulk curation and alerts take them all; paging through
    ``search_stories`` re-ranked everything before each page)."""
    filters = clean_filters(filters)
    sort = sort if sort in SORTS else "relevance"
    sync_if_behind(app)
    budget = Budget(app.config["SEARCH_CPU_BUDGET"])
    with searcher(home(app)) as s:
        if s is None:
            return []
        parsed, view, matched = _matches(app, s, q, filters, statuses, budget)
        return [hit.story_id for hit in _ordered(s, view, parsed, matched, sort, 0, len(matched), budget)]


def _matches(app, s, q, filters: dict, statuses, budget: Budget):
    """The parsed query, the reader's view, and the set of documents it matches."""
    parsed = query.parse(q, s.reader())
    view = facets.view(str(home(app).current_path()), s)
    matched = view.allowed(tuple(statuses), _index_filters(filters))
    if not parsed.is_empty:
        matched = _matching(s, parsed, matched, budget) & matched
    return parsed, view, matched


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
    AND NOT, and NOT alone (everything the reader may see but those).

    With ``budget`` run out part-way, what it returns is only ever fewer of the
    documents that match, never others: an OR or a phrase keeps those found so
    far, and an AND with a part not yet applied, or an AND NOT or NOT whose
    excluded part was cut short, gives none."""
    kind = type(node)
    if kind is wq.Term:
        return facets.term_docs(s.reader(), node.fieldname, node.text)
    if kind is wq.Phrase:
        # Stories holding every word (then their positions are checked): rarest
        # word first, and none once none is left, so a pasted phrase of common
        # words does not read every one of their posting lists.
        docs = universe
        for word in sorted(set(node.words), key=lambda w: _frequency(s, node.fieldname, w)):
            if not docs or budget.over():  # out of time: the positions decide among those left
                break
            docs = docs & facets.term_docs(s.reader(), node.fieldname, word)
        return rank.phrase_docs(s.reader(), sorted(docs), node.words, node.fieldname, budget) if docs else set()
    if kind is wq.Or and node.subqueries:
        sets = []
        for sub in node.subqueries:
            if budget.over():
                break
            sets.append(_tree_docs(s, sub, universe, budget))
        return set().union(*sets)
    if kind is wq.And and node.subqueries:
        # Its terms rarest first, and nothing more once nothing is left.
        docs = None
        for sub in sorted(_conjuncts(node), key=lambda q: _frequency(s, q.fieldname, q.text) if type(q) is wq.Term
                          else float("inf")):
            if budget.over():  # a part left out: the stories left might not hold it
                return set()
            found = _tree_docs(s, sub, universe, budget)
            docs = found if docs is None else docs & found
            if not docs:
                break
        return docs or set()
    if kind is wq.AndNot:
        kept = _tree_docs(s, node.a, universe, budget)
        return kept - _excluded(s, node.b, universe, budget) if kept else kept
    if kind is wq.Not:
        return universe - _excluded(s, node.query, universe, budget)
    return set()


def _excluded(s, node, universe: set, budget: Budget) -> set:
    """The documents of a NOT's part, or (that part cut short by the budget, so
    some it matches might be missing) every document."""
    docs = _tree_docs(s, node, universe, budget)
    return universe if type(node) is not wq.Term and budget.over() else docs


def _conjuncts(node):
    """The parts of an AND, those of ANDs within it included (``a AND b AND c``
    is parsed as ``(a AND b) AND c``)."""
    for sub in node.subqueries:
        if type(sub) is wq.And:
            yield from _conjuncts(sub)
        else:
            yield sub


def _frequency(s, fieldname: str, text: str) -> int:
    """How many documents hold a term, from its term info: nothing is decoded."""
    return s.reader().doc_frequency(fieldname, text)


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


def start(app, warm_seconds: float = 20.0) -> dict:
    """Bring the index up to date before serving (``kb serve``), creating it by a
    rebuild if there is none, read what the first searches need (``warm``), then
    close every searcher.

    What a process opens before gunicorn forks is shared by every worker, file
    offsets included, so concurrent reads in different workers would
    interleave: searchers are closed, and only plain data (meta columns,
    decoded postings) is kept for the workers to inherit.

    Returns what ``warm`` read.

    :raise IndexBusy: if another process held the write lock too long.
    """
    warmed = {}
    with app.app_context():
        try:
            if log_exists():
                sync(app)
                warmed = warm(app, warm_seconds)
        finally:
            db.session.remove()
    close_searchers()
    return warmed


# Words whose decoded postings are read at start (the commonest, which cost most to decode).
WARM_WORDS = 400


def warm(app, seconds: float) -> dict:
    """Read, for at most about ``seconds`` of wall time, what the first searches
    would otherwise read from the index files: each segment's meta column, the
    view of published stories, the content field's term frequencies, and the
    postings of the ``WARM_WORDS`` commonest words. Returns how many documents and words, and the seconds taken."""
    import time

    started = time.monotonic()
    done = {"documents": 0, "words": 0, "seconds": 0.0}
    with searcher(home(app)) as s:
        if s is None:
            return done
        view = facets.view(str(home(app).current_path()), s)
        view.counts(view.allowed((PUBLISHED,), {}))  # the facets' incidence too
        done["documents"] = len(view.live)
        reader = s.reader()
        postings.term_stats(reader, "content")  # every word's frequencies (similar stories, suggestions)
        postings.term_stats(reader, "words")  # every unstemmed word's (suggestions)
        try:
            common = [text for _, text in reader.most_frequent_terms("content", WARM_WORDS)]
        except Exception:  # a field no story has yet
            common = []
        for word in common:
            if time.monotonic() - started > seconds:
                break
            facets.term_docs(reader, "content", word.decode() if isinstance(word, bytes) else word)
            done["words"] += 1
    done["seconds"] = round(time.monotonic() - started, 2)
    return done


def after_fork() -> None:
    """In a new worker: close any searcher inherited from the parent. The plain
    data read at start (meta columns, decoded postings) stays: segments never
    change once written, and it holds no open file."""
    close_searchers()


def forget_process_state() -> None:
    """Close this process's searchers and drop every cache read from index files
    (tests, and tools that rewrite the index under a process)."""
    close_searchers()
    postings.clear()
    facets.clear()
    similar.clear()


__all__ = [
    "SearchResults", "Hit", "FacetValue", "Drift", "IndexBusy", "search_stories", "all_story_ids", "similar_stories",
    "load_hits", "clean_query", "MAX_QUERY_CHARS", "sync", "sync_quietly", "rebuild", "verify", "start",
    "forget_process_state", "after_fork", "warm", "FILTERS", "SORTS", "UNFILED", "FACET_LIMIT", "Similar",
]
