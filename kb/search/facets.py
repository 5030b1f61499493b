"""Fast filters, facet counts and date order from the per-document ``meta`` column.

Whoosh's own faceting visits every hit in Python through several layers,
which cost about a second per query at 50,000 stories. Here each segment's
``meta`` column is read once per process (segments never change; deletions
are applied per view), and a query's matching documents are a plain ``set``
of global document numbers, so filtering is set intersection. Facet counts
come from each view's incidence of values: per facet, two arrays pairing
every live document with each of its values (read once per view), so a
query's counts are one boolean mask of its documents and, per facet, one
``bincount`` of the values whose documents are in the mask, all in numpy:
no per-hit lookups.
"""
from __future__ import annotations

import heapq
import threading
from collections import Counter

import numpy as np

from kb.search.index import meta_values
from kb.search.postings import leaves, per_segment, term_docs  # noqa: F401 (term_docs: part of this module's API)
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
    def read() -> list:
        values = meta_values(segreader)
        return [None] * segreader.doc_count_all() if values is None else values

    return per_segment(_segments, (path, segreader.segment().segment_id()), segreader.doc_count_all(), read,
                       _MAX_SEGMENTS, "meta values")


class View:
    """Per-document values of one reader (one index generation and version)."""

    def __init__(self, path: str, reader) -> None:
        metas: list = []
        live: list[int] = []
        self._parts: list[tuple] = []
        for segreader, offset in leaves(reader):
            seg_metas = _segment_metas(path, segreader)
            self._parts.append(((path, segreader.segment().segment_id()), offset, seg_metas))
            deleted = segreader.deleted_docs_set if segreader.has_deletions() else ()
            live.extend(offset + n for n, meta in enumerate(seg_metas) if meta and n not in deleted)
            metas.extend(seg_metas)
        self.metas = metas
        self.live = live
        self._sets: dict[tuple, object] = {}  # frozensets of documents, and status masks
        self._incidence: dict | None = None

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

    def status_mask(self, status: str):
        """A boolean array over document numbers: True for live documents with ``status``."""
        key = (STATUS, "mask", status)
        found = self._sets.get(key)
        if found is None:
            found = np.zeros(len(self.metas), dtype=bool)
            docs = self.docs_where(STATUS, status, False)
            if docs:
                found[np.fromiter(docs, dtype=np.int64, count=len(docs))] = True
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
        incidence = self.incidence()
        mask = np.zeros(len(self.metas), dtype=bool)
        if docs:
            mask[np.fromiter(docs, dtype=np.int64, count=len(docs))] = True
        out = {}
        for name, (values, pair_docs, pair_values) in incidence["facets"].items():
            found = np.bincount(pair_values[mask[pair_docs]], minlength=len(values))
            out[name] = Counter({values[i]: int(found[i]) for i in np.flatnonzero(found)})
        unfiled = int(np.count_nonzero(mask[incidence["unfiled"]]))
        if unfiled:
            out["area"][UNFILED] = unfiled
        return out

    def incidence(self) -> dict:
        """Per facet: every value seen in this process (``_VALUES``), and arrays of
        (document, value index) pairs; and the documents filed under no area.
        Each segment's pairs are made once per process (segments never change;
        deleted documents are never in a query's documents), so a new view
        after a save only joins arrays."""
        if self._incidence is None:
            parts = [(_segment_incidence(key, metas), offset) for key, offset, metas in self._parts]
            facets = {}
            for name in FACETS:
                pairs = [(part[name][0] + offset, part[name][1]) for part, offset in parts]
                facets[name] = (_VALUES[name], _join([p[0] for p in pairs]), _join([p[1] for p in pairs]))
            unfiled = _join([part[UNFILED] + offset for part, offset in parts])
            self._incidence = {"facets": facets, "unfiled": unfiled}
        return self._incidence

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


# Every value of each facet met in this process, in order: a value's index in
# the incidence arrays. Only grows (by the values of new segments).
_VALUES: dict[str, list] = {name: [] for name in FACETS}
_VALUE_INDEX: dict[str, dict] = {name: {} for name in FACETS}
_incidences: dict[tuple, dict] = {}


def _segment_incidence(key: tuple, metas: list) -> dict:
    """One segment's (local document, value index) pairs per facet, and its
    documents filed under no area."""
    found = _incidences.get(key)
    if found is None:
        found = {}
        with _lock:
            for name, (position, many) in FACETS.items():
                index, values = _VALUE_INDEX[name], _VALUES[name]
                docs, found_values = [], []
                for d, meta in enumerate(metas):
                    if not meta:
                        continue
                    value = meta[position]
                    for item in (value if many else (value,)):
                        if item is None or item == "":
                            continue
                        if item not in index:
                            index[item] = len(values)
                            values.append(item)
                        docs.append(d)
                        found_values.append(index[item])
                found[name] = (np.array(docs, dtype=np.int64), np.array(found_values, dtype=np.int64))
            found[UNFILED] = np.array([d for d, meta in enumerate(metas) if meta and not meta[AREAS]],
                                      dtype=np.int64)
            if len(_incidences) >= _MAX_SEGMENTS:
                _incidences.clear()
            _incidences[key] = found
    return found


def _join(arrays: list):
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)


def clear() -> None:
    """Forget every segment's values and every view (a new worker process, tests)."""
    with _lock:
        _segments.clear()
        _views.clear()
        _incidences.clear()


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
