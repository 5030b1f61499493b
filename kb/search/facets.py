"""Fast filters, facet counts and date order from the per-document ``meta`` column.

Whoosh's own faceting visits every hit in Python through several layers,
which cost about a second per query at 50,000 stories. Here each segment's
``meta`` column is read once per process (segments never change; deletions
are applied per view), and a query's matching documents are a plain ``set``
of global document numbers, so filtering is set intersection and counting is
``Counter`` over ``map``, both in C.
"""
from __future__ import annotations

import heapq
import threading
from collections import Counter
from itertools import chain
from operator import itemgetter

from kb.search.postings import leaves, term_docs  # noqa: F401 (term_docs: part of this module's API)
from kb.search.schema import Meta

STORY_ID, STATUS, KIND, STAGE, YEAR, DAY, AREAS, TAGS, ORGS, LEVEL, PLACES = range(11)
# Facet name (the URL parameter) -> position in Meta, and whether it holds several values.
FACETS = {"area": (AREAS, True), "kind": (KIND, False), "tag": (TAGS, True),
          "org": (ORGS, True), "year": (YEAR, False), "stage": (STAGE, False),
          "evidence": (LEVEL, False), "place": (PLACES, True)}
# Filters that keep stories at this value or above ("evidence=3" keeps levels 3 to 5).
AT_LEAST = {"evidence"}
assert Meta._fields[AREAS] == "areas" and Meta._fields[ORGS] == "orgs" and Meta._fields[PLACES] == "places"
# The area facet's value (and filter) for stories filed under no area.
UNFILED = "unfiled"

_lock = threading.Lock()
_segments: dict[tuple, list] = {}
_views: dict[tuple, "View"] = {}
_MAX_SEGMENTS = 256
_MAX_VIEWS = 8


def _segment_metas(path: str, segreader) -> list:
    key = (path, segreader.segment().segment_id())
    metas = _segments.get(key)
    if metas is None:
        if segreader.has_column("meta"):
            metas = list(segreader.column_reader("meta"))
        else:
            metas = [None] * segreader.doc_count_all()
        if len(metas) != segreader.doc_count_all():
            # A short read is never kept: the next search reads the column again.
            raise IOError(f"read {len(metas)} meta values of {segreader.doc_count_all()} documents")
        with _lock:
            if len(_segments) >= _MAX_SEGMENTS:
                _segments.clear()
            _segments[key] = metas
    return metas


class View:
    """Per-document values of one reader (one index generation and version)."""

    def __init__(self, path: str, reader) -> None:
        metas: list = []
        live: list[int] = []
        for segreader, offset in leaves(reader):
            seg_metas = _segment_metas(path, segreader)
            deleted = segreader.deleted_docs_set if segreader.has_deletions() else ()
            live.extend(offset + n for n, meta in enumerate(seg_metas) if meta and n not in deleted)
            metas.extend(seg_metas)
        self.metas = metas
        self.live = live
        self._sets: dict[tuple, frozenset] = {}

    def docs_where(self, position: int, value, many: bool) -> frozenset:
        """Live documents whose value at ``position`` is (or, if ``many``, includes) ``value``."""
        key = (position, value)
        found = self._sets.get(key)
        if found is None:
            metas = self.metas
            if position == AREAS and value == UNFILED:
                found = frozenset(d for d in self.live if not metas[d][AREAS])
            elif many:
                found = frozenset(d for d in self.live if value in metas[d][position])
            else:
                found = frozenset(d for d in self.live if metas[d][position] == value)
            self._sets[key] = found
        return found

    def allowed(self, statuses, filters: dict) -> set:
        """Live documents with one of ``statuses`` and every filter value."""
        result = set()
        for status in statuses:
            result |= self.docs_where(STATUS, status, False)
        for name, values in filters.items():
            position, many = FACETS[name]
            if name in AT_LEAST:
                result &= self.docs_at_least(position, max(values))
                continue
            for value in values:
                result &= self.docs_where(position, value, many)
        return result

    def docs_at_least(self, position: int, value) -> frozenset:
        """Live documents whose value at ``position`` is ``value`` or more."""
        key = (position, ">=", value)
        found = self._sets.get(key)
        if found is None:
            metas = self.metas
            found = frozenset(d for d in self.live if (metas[d][position] or 0) >= value)
            self._sets[key] = found
        return found

    def counts(self, docs) -> dict[str, Counter]:
        """For each facet, how many of ``docs`` have each value."""
        metas = self.metas
        rows = list(map(metas.__getitem__, docs))
        out = {}
        for name, (position, many) in FACETS.items():
            values = map(itemgetter(position), rows)
            counter = Counter(chain.from_iterable(values)) if many else Counter(values)
            counter.pop(None, None)
            counter.pop("", None)
            out[name] = counter
        unfiled = sum(1 for row in rows if not row[AREAS])
        if unfiled:
            out["area"][UNFILED] = unfiled
        return out

    def strongest(self, docs, limit: int) -> list[int]:
        """The ``limit`` of ``docs`` with the highest evidence level (newest first within a level)."""
        metas = self.metas
        return heapq.nlargest(limit, docs, key=lambda d: (metas[d][LEVEL], metas[d][DAY], metas[d][STORY_ID]))

    def newest(self, docs, limit: int) -> list[int]:
        """The ``limit`` newest of ``docs`` (undated last, then newest id first)."""
        metas = self.metas
        return heapq.nlargest(limit, docs, key=lambda d: (metas[d][DAY], metas[d][STORY_ID]))

    def story_id(self, docnum: int) -> int:
        return self.metas[docnum][STORY_ID]


def clear() -> None:
    """Forget every segment's values and every view (a new worker process, tests)."""
    with _lock:
        _segments.clear()
        _views.clear()


def view(path: str, searcher) -> View:
    """The (cached) View of this searcher's reader."""
    reader = searcher.reader()
    key = (path, reader.generation(), tuple((leaf.segment().segment_id(), leaf.segment().deleted_count())
                                             for leaf, _ in leaves(reader)))
    found = _views.get(key)
    if found is None:
        found = View(path, reader)
        with _lock:
            if len(_views) >= _MAX_VIEWS:
                _views.pop(next(iter(_views)))
            _views[key] = found
    return found
