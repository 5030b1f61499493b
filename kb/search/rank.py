"""Ranking natural-language queries: BM25F, evaluated only where it can matter.

Whoosh scores every posting of every query word through a tree of Python
matchers (about 6 µs a posting), which at 50,000 stories costs hundreds of
milliseconds for a long query. Here posting blocks are read whole, a cheap
first pass keeps a few hundred candidates (the stories holding the rarer
words, then those with the most occurrences of the commoner ones), and only
those get the exact score: the sum over words of query count x idf x
BM25F (each field's frequency weighted and normalised by that field's
length, summed, then saturated once with K1; Robertson and Spärck Jones's
idf from the story text), plus bonuses for holding every word and for the phrase.
"""
from __future__ import annotations

import heapq
from math import log

from kb.search.budget import UNLIMITED, Budget
from kb.search.postings import field_lengths, frequencies_in, leaves

K1 = 1.2
B = 0.75
# Field weights. The story text (content) holds the title and tags too, so
# these are extra weight on top of it.
FIELDS = {"content": 1.0, "title": 1.0, "tags": 0.5}
ALL_WORDS_BONUS = 0.3
PHRASE_BONUS = 0.5
MIN_CANDIDATES = 300
IDF_FLOOR = 1e-6


def rank(searcher, words: dict[str, float], docs: set, limit: int, phrase: list[str] | None = None,
         budget: Budget = UNLIMITED) -> list[tuple[int, float]]:
    """The ``limit`` best of ``docs`` for ``words`` (stem -> query weight), best first, with scores.

    Once ``budget`` is spent, words not yet read are left out of the scores."""
    if not docs or not words:
        return []
    reader = searcher.reader()
    tfs = {}
    for word in words:
        tfs[("content", word)] = {} if budget.over() else frequencies_in(reader, "content", word, docs)
    idf = {word: _idf(searcher, "content", word) for word in words}
    candidates = _candidates(tfs, idf, words, docs, max(MIN_CANDIDATES, limit * 5))
    chosen = set(candidates)
    tfs.update({(field, word): frequencies_in(reader, field, word, chosen)
                for field in FIELDS if field != "content" for word in words})
    avgfl = {field: searcher.avg_field_length(field) or 1 for field in FIELDS}
    lengths = {field: field_lengths(reader, field, candidates) for field in FIELDS}
    scored = []
    for doc in candidates:
        total, held = 0.0, 0
        for word, weight in words.items():
            # BM25F: field frequencies weighted and length-normalised per field,
            # summed, then saturated once.
            pseudo = 0.0
            for field, field_weight in FIELDS.items():
                tf = tfs[(field, word)].get(doc)
                if tf:
                    fl = lengths[field].get(doc) or 1
                    pseudo += field_weight * tf / ((1 - B) + B * fl / avgfl[field])
            word_score = idf[word] * pseudo * (K1 + 1) / (pseudo + K1) if pseudo else 0.0
            if word_score:
                held += 1
                total += weight * word_score
        if held == len(words) > 1:
            total *= 1 + ALL_WORDS_BONUS
        scored.append((total, doc))
    scored.sort(key=lambda item: (-item[0], item[1]))
    if phrase and 1 < len(phrase) <= 6 and not budget.over():
        scored = _phrase_bonus(searcher, scored[: max(limit, 50)], phrase, budget) + scored[max(limit, 50):]
    return [(doc, score) for score, doc in scored[:limit]]


def _idf(searcher, field: str, word: str) -> float:
    """Robertson and Spärck Jones's idf, as BM25 defines it (and FTS5 computes it):
    a word in half the stories or more tells nothing, so it weighs next to
    nothing (a floor keeps its order among stories that hold only such words)."""
    n = searcher.doc_frequency(field, word)
    total = searcher.doc_count_all()
    return max(IDF_FLOOR, log((total - n + 0.5) / (n + 0.5)))




def _candidates(tfs, idf, words, docs: set, keep: int) -> list[int]:
    """Stories worth scoring exactly: those holding the rarer words first, then,
    to fill up to ``keep``, those with the most occurrences of the commoner ones."""
    if len(docs) <= keep:
        return list(docs)
    chosen: set = set()
    for word in sorted(words, key=lambda w: -idf[w] * words[w]):
        tf = tfs[("content", word)]
        held = docs.intersection(tf) - chosen
        if len(chosen) + len(held) <= keep:
            chosen |= held
        else:
            chosen.update(heapq.nlargest(keep - len(chosen), held, key=tf.__getitem__))
        if len(chosen) >= keep:
            break
    return list(chosen)


def _phrase_bonus(searcher, scored: list, phrase: list[str], budget: Budget) -> list:
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
