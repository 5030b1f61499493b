"""Ranking natural-language queries: BM25F over every matching story, in numpy.

Whoosh scores every posting of every query word through a tree of Python
matchers (about 6 µs a posting), which at 50,000 stories costs hundreds of
milliseconds for a long query. Here each word's decoded postings (document
numbers and frequencies, ``postings.py``) and each field's lengths are numpy
arrays, so every story holding a query word gets its exact score in a few
array operations per word: the sum over words of query count x idf x BM25F
(each field's frequency weighted and normalised by that field's length,
summed, then saturated once with K1; Robertson and Spärck Jones's idf from
the story text), plus bonuses for holding every word and for the phrase.
"""
from __future__ import annotations

from math import log

import numpy as np

from kb.search.budget import UNLIMITED, Budget
from kb.search.postings import leaves, segment_lengths, segment_postings

K1 = 1.2
B = 0.75
# Field weights. The story text (content) holds the title and tags too, so
# these are extra weight on top of it.
FIELDS = {"content": 1.0, "title": 1.0, "tags": 0.5}
ALL_WORDS_BONUS = 0.3
PHRASE_BONUS = 0.5
# Stories among which the phrase is looked for (the best ranked).
PHRASE_WINDOW = 50
IDF_FLOOR = 1e-6


def rank(searcher, words: dict[str, float], docs, limit: int, phrase: list[str] | None = None,
         budget: Budget = UNLIMITED) -> list[tuple[int, float]]:
    """The ``limit`` best of ``docs`` (global document numbers: a set or a numpy array) for
    ``words`` (stem -> query weight), best first (equal scores: lower document
    number first), with scores. Stories holding none of the words score 0.

    Once ``budget`` is spent, words not yet read are left out of the scores."""
    if len(docs) == 0 or not words or limit <= 0:
        return []
    reader = searcher.reader()
    parts = leaves(reader)
    total_docs = searcher.doc_count_all()
    scores = np.zeros(total_docs, dtype=np.float64)
    held = np.zeros(total_docs, dtype=np.int32)
    avgfl = {field: searcher.avg_field_length(field) or 1 for field in FIELDS}
    for word, weight in words.items():
        if budget.over():
            break
        touched, pseudo, df = _word_fields(parts, word, avgfl)
        if not len(touched):
            continue
        idf = max(IDF_FLOOR, log((total_docs - df + 0.5) / (df + 0.5)))
        scores[touched] += weight * idf * pseudo * (K1 + 1) / (pseudo + K1)
        held[touched] += 1
    chosen = docs if isinstance(docs, np.ndarray) else np.fromiter(docs, dtype=np.int64, count=len(docs))
    chosen_scores = scores[chosen]
    if len(words) > 1:
        chosen_scores = np.where(held[chosen] == len(words), chosen_scores * (1 + ALL_WORDS_BONUS), chosen_scores)
    window = max(limit, PHRASE_WINDOW) if phrase and 1 < len(phrase) <= 6 else limit
    best = _best(chosen, chosen_scores, window)
    if window > limit and not budget.over():
        best = _phrase_bonus(searcher, best, phrase, budget)
    return [(doc, score) for score, doc in best[:limit]]


def _word_fields(parts, word: str, avgfl: dict) -> tuple:
    """The global numbers of the documents holding ``word`` in any ranked
    field, their BM25F pseudo-frequencies (fields weighted and length
    normalised, summed), and the word's document frequency in the content field."""
    ids, values, df = [], [], 0
    for field, field_weight in FIELDS.items():
        for segreader, offset in parts:
            local, tf = segment_postings(segreader, field, word)
            if not local:
                continue
            if field == "content":
                df += len(local)
            local = np.frombuffer(local, dtype=np.uint32)
            lengths = segment_lengths(segreader, field)[local]
            lengths[lengths == 0] = 1
            ids.append(local.astype(np.int64) + offset)
            values.append(field_weight * np.frombuffer(tf, dtype=np.float32)
                          / ((1 - B) + B * lengths / avgfl[field]))
    if not ids:
        return ids, values, df
    if len(ids) == 1:
        return ids[0], values[0], df
    touched, where = np.unique(np.concatenate(ids), return_inverse=True)
    pseudo = np.zeros(len(touched), dtype=np.float64)
    np.add.at(pseudo, where, np.concatenate(values))
    return touched, pseudo, df


def _best(docs: np.ndarray, scores: np.ndarray, limit: int) -> list[tuple[float, int]]:
    """The ``limit`` highest (score, doc) pairs, best first, equal scores by document number."""
    if len(docs) > limit:
        threshold = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        keep = scores >= threshold
        docs, scores = docs[keep], scores[keep]
    order = np.lexsort((docs, -scores))[:limit]
    return [(float(scores[i]), int(docs[i])) for i in order]


def _phrase_bonus(searcher, scored: list, phrase: list[str], budget: Budget) -> list:
    """``scored`` (score, doc), with stories holding the phrase raised, sorted again."""
    found = phrase_docs(searcher.reader(), sorted(doc for _, doc in scored), phrase, "content", budget)
    rescored = [((score * (1 + PHRASE_BONUS)) if doc in found else score, doc) for score, doc in scored]
    rescored.sort(key=lambda item: (-item[0], item[1]))
    return rescored


def phrase_docs(reader, docs: list[int], phrase: list[str], fieldname: str = "content",
                budget: Budget = UNLIMITED) -> set[int]:
    """Those of ``docs`` (ascending global numbers) whose field holds the stemmed
    words of ``phrase`` next to each other and in order (those checked before
    ``budget`` ran out).

    Each word's postings are skipped straight to the given documents, so only
    the blocks holding them are read (Whoosh's phrase matcher walks every
    document holding all the words)."""
    found: set[int] = set()
    for segreader, offset in leaves(reader):
        local = [d - offset for d in docs if offset <= d < offset + segreader.doc_count_all()]
        if not local or any((fieldname, word) not in segreader for word in phrase):
            continue
        matchers = {word: segreader.postings(fieldname, word) for word in set(phrase)}
        for n, doc in enumerate(local):
            if n % 64 == 0 and budget.over():
                return found
            positions = {}
            for word, matcher in matchers.items():
                if matcher.is_active() and matcher.id() < doc:
                    matcher.skip_to(doc)
                if not matcher.is_active() or matcher.id() != doc:
                    break
                positions[word] = set(matcher.value_as("positions"))
            else:
                first, rest = positions[phrase[0]], list(enumerate(phrase))[1:]
                if any(all(p + i in positions[w] for i, w in rest) for p in first):
                    found.add(doc + offset)
    return found
