"""Decoded posting lists, kept per process.

Whoosh stores a term's postings in compressed, pickled blocks that hold the
positions too, so reading even the document numbers of a common word costs
milliseconds, and a search reads the same words several times (to match, to
rank, for similar stories). Segments never change once written (deletions are
applied by the caller's ``allowed`` set), so each term's document numbers and
frequencies are decoded once per segment and kept as compact arrays, up to
``BUDGET`` postings in all, least recently used dropped first.
"""
from __future__ import annotations

import threading
from array import array
from collections import OrderedDict

import numpy as np


BUDGET = 8_000_000  # postings kept (8 bytes each: about 64 MB)

_lock = threading.Lock()
_cache: OrderedDict[tuple, tuple[array, array]] = OrderedDict()
_size = 0
_EMPTY = (array("I"), array("f"))


def leaves(reader) -> list[tuple[object, int]]:
    """(segment reader, first global docnum) for each segment."""
    if reader.is_atomic():
        return [(reader, 0)]
    return list(reader.leaf_readers())


def segment_postings(segreader, field: str, text: str) -> tuple[array, array]:
    """Segment-local document numbers (ascending) and term frequencies of a term,
    deleted documents included."""
    key = (segreader.segment().segment_id(), field, text)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    found = _decode(segreader, field, text)
    _check(segreader, field, text, found)
    _keep(key, found)
    return found


class PostingsReadError(IOError):
    """A posting list read back differently from what the segment's term info records."""


def _check(segreader, field: str, text: str, found: tuple[array, array]) -> None:
    """Refuse a read that does not hold as many postings as the term info says, or
    holds them out of order: such a read is never kept (nor used)."""
    ids = found[0]
    expected = segreader.doc_frequency(field, text) if ids else 0
    if len(ids) != expected or len(found[1]) != len(ids):
        raise PostingsReadError(f"{field}:{text!r}: read {len(ids)} postings of {expected}")
    if ids and (ids[0] > ids[-1] or ids[-1] >= segreader.doc_count_all()):
        raise PostingsReadError(f"{field}:{text!r}: postings out of order or out of range")


def _decode(segreader, field: str, text: str) -> tuple[array, array]:
    if (field, text) not in segreader:
        return _EMPTY
    # The term's own matcher, not ``segreader.postings``: in a segment with
    # deletions that wraps it in a FilterMatcher, which moves it past the
    # deleted documents it starts with, and their postings were not read.
    matcher = segreader._terms.matcher(field, segreader._text_to_bytes(field, text), segreader.schema[field].format)
    ids, weights = array("I"), array("f")
    if not hasattr(matcher, "_read_ids"):
        for doc, weight in matcher.items_as("weight"):
            ids.append(doc)
            weights.append(weight)
        return ids, weights
    while matcher.is_active():
        # Whole blocks at a time, not one posting at a time.
        if matcher._ids is None:
            matcher._read_ids()
        if matcher._weights is None:
            matcher._read_weights()
        i = matcher._i
        ids.extend(matcher._ids[i:])
        weights.extend(matcher._weights[i:])
        if matcher._lastblock:
            break
        matcher._next_block()
    return ids, weights


def _keep(key: tuple, found: tuple[array, array]) -> None:
    global _size
    with _lock:
        if key in _cache:
            return
        _cache[key] = found
        _size += len(found[0])
        while _size > BUDGET and len(_cache) > 1:
            _, dropped = _cache.popitem(last=False)
            _size -= len(dropped[0])


def term_docs(reader, field: str, text: str) -> set:
    """Global numbers of the live and deleted documents containing a term."""
    docs: set = set()
    for segreader, offset in leaves(reader):
        ids = segment_postings(segreader, field, text)[0]
        docs.update(map(offset.__add__, ids) if offset else ids)
    return docs


_lengths: dict[tuple, object] = {}
_MAX_LENGTHS = 256
_terms: dict[tuple, dict] = {}
_MAX_TERM_TABLES = 128


def docs_array(reader, field: str, text: str) -> np.ndarray:
    """Global numbers (ascending) of the live and deleted documents containing a term."""
    found = [np.frombuffer(ids, dtype=np.uint32).astype(np.int64) + offset
             for segreader, offset in leaves(reader) if (ids := segment_postings(segreader, field, text)[0])]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def term_stats(reader, field: str) -> list[dict[str, tuple[float, int]]]:
    """For each segment of ``reader``, every term of ``field`` -> (frequency in
    the segment, documents holding it), deleted documents included (as Whoosh
    counts them).

    Read whole once per segment and process: looking terms up one by one in
    Whoosh's term files costs a file seek and read per segment for each, and a
    story page looks up every word of the story (similar stories)."""
    tables = []
    for segreader, _ in leaves(reader):
        key = (segreader.segment().segment_id(), field)
        found = _terms.get(key)
        if found is None:
            found = {}
            if field in segreader.schema.names():
                from_bytes = segreader.schema[field].from_bytes
                for text, info in segreader.iter_field(field):
                    found[from_bytes(text)] = (info.weight(), info.doc_frequency())
            with _lock:
                if len(_terms) >= _MAX_TERM_TABLES:
                    _terms.clear()
                _terms[key] = found
        tables.append(found)
    return tables


def segment_lengths(segreader, field: str):
    """The length of ``field`` (in words, as Whoosh stores it: one byte, so
    approximate above a few hundred) of each document of a segment, as a
    numpy array read whole once per process (one column), not looked up
    document by document through Whoosh's readers."""
    def read():
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
        from whoosh.util.numeric import byte_to_length

        column = segreader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
        if column is None:
            return np.zeros(count, dtype=np.float64)
        table = np.array([byte_to_length(b) if b else 0 for b in range(256)], dtype=np.float64)
        return table[np.frombuffer(bytes(column), dtype=np.uint8)] if count else np.zeros(0, dtype=np.float64)

    count = segreader.doc_count_all()
    return per_segment(_lengths, (segreader.segment().segment_id(), field), count, read, _MAX_LENGTHS,
                       f"{field} lengths")


def per_segment(cache: dict, key, count: int, read, limit: int, what: str) -> list:
    """``cache[key]``, or else ``read()``: one value per document of a segment,
    kept (at most ``limit`` segments' worth) only if it holds ``count`` values.

    :raise PostingsReadError: for a short read, which is never kept (the next search reads again).
    """
    found = cache.get(key)
    if found is None:
        found = read()
        if len(found) != count:
            raise PostingsReadError(f"read {len(found)} {what} of {count} documents")
        with _lock:
            if len(cache) >= limit:
                cache.clear()
            cache[key] = found
    return found


def clear() -> None:
    """Forget every decoded posting list and field length (a new worker process, tests)."""
    global _size
    with _lock:
        _cache.clear()
        _lengths.clear()
        _terms.clear()
        _size = 0
