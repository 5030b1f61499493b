"""Stories like a given one: its most telling words, the stories holding the
rarest of them, ranked by BM25F against those words."""
from __future__ import annotations

import logging

import numpy as np

from sqlalchemy import select
from whoosh.classify import Bo1Model

from kb.extensions import db
from kb.models import Story
from kb.models.story import PUBLISHED
from kb.search import facets, postings, query, rank
from kb.search.index import searcher
from kb.search.sync import home

log = logging.getLogger(__name__)

SIMILAR_TERMS = 12
# Stories holding the story's rarest key words, taken word by word until there
# are this many; stories sharing only its commonest words are not scored.
SIMILAR_CANDIDATES = 1500
# Characters of the body (made plain) whose words are weighed.
SIMILAR_BODY_CHARS = 2000
_similar: dict[tuple, list[int]] = {}
_MAX_SIMILAR = 2048


def similar_stories(app, story_id: int, limit: int = 5) -> list[int]:
    """Ids of up to ``limit`` published stories most like this one (never itself),
    in the index of ``app`` (anything with ``config["INDEX_DIR"]``).

    Kept per index version, so a story page shown again costs one lookup."""
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
    body = query.plain_text(row.body[:SIMILAR_BODY_CHARS * 2])[:SIMILAR_BODY_CHARS]
    text = " ".join((row.title, row.title, row.summary, body))
    view = facets.view(str(home(app).current_path()), s)
    try:
        reader = s.reader()
        tables = postings.term_stats(reader, "content")
        words = dict(key_terms(reader, tables, text, SIMILAR_TERMS))
        docs = np.zeros(0, dtype=np.int64)
        for word in sorted(words, key=lambda w: sum(t.get(w, _ABSENT)[1] for t in tables)):
            docs = np.union1d(docs, postings.docs_array(reader, "content", word))
            if len(docs) >= SIMILAR_CANDIDATES:
                break
        docs = docs[view.status_mask(PUBLISHED)[docs]]
        docs = docs[docs != s.document_number(id=str(story_id))]
        ranked = rank.rank(s, words, docs, limit)
    except Exception:
        log.error("Similar stories failed for %s", story_id, exc_info=True)
        return []
    return [view.story_id(doc) for doc, _ in ranked]


_ABSENT = (0.0, 0)


def key_terms(reader, tables, text: str, number: int) -> list[tuple[str, float]]:
    """The ``number`` most telling words of ``text`` for the content field, with
    their weights: Whoosh's ``key_terms_from_text`` (the Bo1 model, normalised),
    with collection frequencies from ``postings.term_stats`` rather than a
    term-file lookup per word and segment."""
    weights: dict[str, float] = {}
    for word in query.stems_fast(text):
        weights[word] = weights.get(word, 0.0) + 1.0
    if not weights:
        return []
    model = Bo1Model(reader.doc_count_all(), reader.field_length("content"))
    top_total = sum(weights.values())
    scored, best = [], 0
    for word, weight in weights.items():
        stats = [t[word] for t in tables if word in t]
        if stats:
            score = model.score(weight, sum(frequency for frequency, _ in stats), top_total)
            best = max(best, score)
            scored.append((score, word))
    norm = model.normalizer(best, top_total)
    scored = [(score / norm, word) for score, word in scored]
    scored.sort(key=lambda item: (0 - item[0], item[1]))
    return [(word, score) for score, word in scored[:number]]


def clear() -> None:
    _similar.clear()
