"""Which of the four action areas a story speaks to, with a confidence and
the sentence that shows it: the model behind curators' filing suggestions.

Pure computation (no database, no Flask): ``train`` takes labelled texts (the
stories curators filed, and the suggestions they declined) and returns a
``Model`` whose ``predict`` gives, per area, a confidence between 0 and 1 and
a reason. Deterministic for the same examples; nothing is downloaded.

Two methods, compared by ``bench/classify.py``:

- ``wording``: features drawn only from the areas' own wording (how often and
  how densely each area's cue words occur, sentence by sentence, and the
  story's length), weighted by a logistic regression per area learned from
  the curators' decisions. It learns no story's own words, so it carries over
  to sources it never saw.
- ``learned``: beside that regression, a second one per area over TF-IDF of
  the story's words and the story's similarity to each area's own wording;
  the two are blended (the wording's keeps WORDING_SHARE of the confidence),
  so the areas' wording stays a prior the story's words adjust.

With too few decisions for an area (fewer than ``MIN_EXAMPLES`` filed and
declined), that area falls back to fixed weights over the wording features,
so a new instance has suggestions from the start.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from whoosh.lang.porter import stem as porter_stem

# Bumped whenever a trained Model's contents change shape: a model stored by
# another version is not loaded (kb.services.suggestions).
VERSION = 2
AREAS = ("conditions", "culture", "networks", "evaluation")
METHODS = ("wording", "learned")
DEFAULT_METHOD = "learned"
# A suggestion is shown from this confidence; bulk filing is offered from BULK_CONFIDENCE.
SHOW_CONFIDENCE = 0.5
BULK_CONFIDENCE = 0.9
MIN_EXAMPLES = 5
# Cross-validation inside training sets each area's thresholds: bulk filing
# needs held-out precision of BULK_PRECISION over at least BULK_MINIMUM stories.
FOLDS = 5
BULK_PRECISION = 0.92
BULK_MINIMUM = 5
REASON_LENGTH = 300
# ``learned``: at most this many words (the most frequent) are read; the
# story's similarity to each area's wording counts GUIDE_WEIGHT times a word;
# the wording features' own regression has WORDING_SHARE of the confidence.
MAX_FEATURES = 20_000
GUIDE_WEIGHT = 5.0
WORDING_SHARE = 0.3

# Cue words and phrases for each area, written from the report's wording of
# the area and the labelling guide's description of it; never from stories.
AREA_CUES = {
    "conditions": (
        "fund", "funding", "procurement", "procure", "contract", "contracting", "acquisition", "regulation",
        "regulatory", "legal", "law", "legislation", "barrier", "permission", "policy", "shared platform",
        "platform", "infrastructure", "standard", "reuse", "reusable", "open source", "open data", "api",
        "budget", "incentive", "governance", "framework", "grant", "investment", "licence", "license",
        "compliance", "mandate", "cloud", "interoperability", "shared service", "common platform", "vendor",
        "authority to operate",
    ),
    "culture": (
        "leadership", "leader", "risk", "failure", "fail", "skill", "training", "hire", "hiring", "recruit",
        "team", "agile", "user-centred", "user-centered", "human-centred", "human-centered", "design thinking",
        "way of working", "ways of working", "empower", "staff", "culture", "organisational culture",
        "organizational culture", "intrapreneur", "capability", "mindset", "coach", "coaching", "workforce",
        "talent", "participation", "change management", "employee", "sprint", "iterative", "product owner",
    ),
    "networks": (
        "network", "community", "communities of practice", "community of practice", "event", "camp",
        "conference", "hackathon", "peer", "share", "sharing", "case study", "partnership", "partner",
        "collaboration", "collaborate", "across agencies", "across government", "blog", "newsletter", "spread",
        "reuse", "replicate", "replication", "knowledge exchange", "adopt", "adoption", "other agencies",
        "other cities", "meetup", "workshop", "forum", "exchange",
    ),
    "evaluation": (
        "measure", "measurement", "metric", "result", "impact", "evaluation", "evaluate", "performance", "data",
        "pilot", "outcome", "cost-benefit", "cost saving", "saving", "business case", "evidence", "research",
        "user research", "usability", "usability testing", "test", "testing", "monitor", "monitoring", "audit",
        "lesson", "lessons learned", "what worked", "increase", "decrease", "reduce", "percent", "%", "success",
        "effective", "analytics", "survey", "feedback", "benchmark",
    ),
}

# Each area's wording as one text, for the story's similarity to it.
_GUIDE_TEXTS = tuple(" ".join(AREA_CUES[area]) for area in AREAS)

stem = lru_cache(maxsize=100_000)(porter_stem)

# Words that share a stem with a cue but do not speak to its area.
_NOT_CUES = {"government", "governments", "governmental", "communication", "communications", "communicate",
             "eventually", "eventual"}

_WORD = re.compile(r"[a-z%]+(?:-[a-z]+)?")
# Web addresses are left out of what is read: their words say nothing.
WEB_ADDRESS = re.compile(r"(?:https?://|www\.)\S+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_OUTCOME = re.compile(r"percent|%|reduc|increas|sav|fewer|faster|from \d+ to|cut|improv|rose|fell|doubl")
_TESTED = re.compile(r"test|pilot|trial|measur|evaluat|research|metric|survey|interview")
_FOUND = re.compile(r"found|show|learn|result|discover|saw|revealed|indicat")
_PUBLIC = re.compile(r"government|agenc|public sector|federal|council|municipal|ministry|department|state|city")


def _tokens(text: str) -> list[str]:
    return [stem(word) for word in _WORD.findall(text.lower())]


_CUES = {area: tuple(tuple(_tokens(cue)) for cue in cues) for area, cues in AREA_CUES.items()}
_CUE_LENGTH = max(len(cue) for cues in _CUES.values() for cue in cues)
_CUE_AREAS: dict[tuple, tuple[str, ...]] = {}
for _area, _cues in _CUES.items():
    for _cue in _cues:
        _CUE_AREAS[_cue] = _CUE_AREAS.get(_cue, ()) + (_area,)


_CUE_FIRST = frozenset(cue[0] for cue in _CUE_AREAS)


def phrases_in(tokens: list | tuple, phrases: dict, longest: int, first: frozenset):
    """(start, length, value) for each phrase of ``tokens`` that is a key of
    ``phrases`` (a tuple of tokens, at most ``longest``, whose first token is in
    ``first``): only the starts that begin some phrase are tried."""
    for start, token in enumerate(tokens):
        if token in first:
            for length in range(1, min(longest, len(tokens) - start) + 1):
                value = phrases.get(tuple(tokens[start:start + length]))
                if value is not None:
                    yield start, length, value


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def _cue_hits(sentence: str) -> tuple[int, dict[str, list[str]]]:
    """The sentence's word count and, per area, the cue words and phrases in
    it (matched stemmed, given as written)."""
    words = _WORD.findall(WEB_ADDRESS.sub(" ", sentence.lower()))
    tokens = ["" if w in _NOT_CUES else stem(w) for w in words]
    found: dict[str, list[str]] = {area: [] for area in AREAS}
    for start, length, areas in phrases_in(tokens, _CUE_AREAS, _CUE_LENGTH, _CUE_FIRST):
        for area in areas:
            found[area].append(" ".join(words[start:start + length]))
    return len(tokens), found


@dataclass
class Reading:
    """A text split into sentences, with each sentence's cue hits per area."""

    text: str
    sentences: list[str]
    hits: dict[str, list[list[str]]]
    words: int
    _features: list[float] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, text: str) -> "Reading":
        parts = sentences(text)
        counted = [_cue_hits(s) for s in parts]
        hits = {area: [h[area] for _, h in counted] for area in AREAS}
        return cls(text, parts, hits, sum(n for n, _ in counted))

    def features(self) -> list[float]:
        """The wording features (worked out once: cross-validation reads each story's several times)."""
        if self._features is None:
            self._features = self._work_out_features()
        return self._features

    def _work_out_features(self) -> list[float]:
        n = max(self.words, 1)
        count = max(len(self.sentences), 1)
        out = [math.log1p(n) / 3, math.log1p(len(self.sentences)) / 3]
        for area in AREAS:
            per_sentence = [len(h) for h in self.hits[area]]
            total = sum(per_sentence)
            dense = sum(1 for h in per_sentence if h >= 2)
            out += [math.log1p(total), total / n * 20, math.log1p(max(per_sentence, default=0)),
                    math.log1p(dense), dense / count * 5]
        lower = [s.lower() for s in self.sentences]
        outcomes = sum(1 for s in lower if re.search(r"\d", s) and _OUTCOME.search(s))
        tested = sum(1 for s in lower if _TESTED.search(s) and _FOUND.search(s))
        public = sum(1 for s in lower if _PUBLIC.search(s))
        out += [math.log1p(outcomes), math.log1p(tested), math.log1p(public), public / count]
        return out

    def reason(self, area: str) -> str:
        """The sentence that speaks most to ``area``, with its cue words."""
        best = max(range(len(self.sentences)), key=lambda i: (len(set(self.hits[area][i])), -i), default=None)
        if best is None or not self.hits[area][best]:
            return ""
        sentence = " ".join(self.sentences[best].split())
        words = ", ".join(dict.fromkeys(self.hits[area][best]))
        suffix = f" (words: {words})"
        room = REASON_LENGTH - len(suffix)
        if len(sentence) > room:
            sentence = sentence[: room - 1].rsplit(" ", 1)[0] + "…"
        return (sentence + suffix)[:REASON_LENGTH]


# Cold start: fixed weights over (cue hits, densest sentence, sentences with
# two or more cues, their share, the story's length), before curators decide.
_PRIOR_BIAS = -3.2


def _prior(reading: Reading, area: str) -> float:
    per_sentence = [len(h) for h in reading.hits[area]]
    dense = sum(1 for h in per_sentence if h >= 2)
    score = (_PRIOR_BIAS + 0.6 * math.log1p(sum(per_sentence)) + 0.5 * math.log1p(max(per_sentence, default=0))
             + 0.9 * math.log1p(dense) + 0.3 * math.log1p(reading.words) / 3)
    return 1 / (1 + math.exp(-score))


@dataclass
class Example:
    """A labelled text: ``labels[area]`` is True (filed), False (declined, or
    filed elsewhere), and an area left out is unknown."""

    text: str
    labels: dict[str, bool]


@dataclass
class Prediction:
    confidence: float
    reason: str


@dataclass
class Scale:
    """Maps a regression's probability onto kb's confidence scale, per area:
    ``show`` (the threshold that gave the best F1 on held-out folds of the
    training examples) becomes SHOW_CONFIDENCE, and ``bulk`` (the lowest
    threshold from which held-out precision stayed at BULK_PRECISION or more)
    becomes BULK_CONFIDENCE; linear in between."""

    show: float = SHOW_CONFIDENCE
    bulk: float = BULK_CONFIDENCE

    def __call__(self, p: float) -> float:
        if self.bulk >= 1.0:  # no threshold was precise enough: nothing reaches bulk filing
            knots = [(0.0, 0.0), (self.show, SHOW_CONFIDENCE), (1.0, BULK_CONFIDENCE - 0.01)]
        else:
            knots = [(0.0, 0.0), (self.show, SHOW_CONFIDENCE), (self.bulk, BULK_CONFIDENCE), (1.0, 1.0)]
        for (x0, y0), (x1, y1) in zip(knots, knots[1:]):
            if p <= x1:
                return y0 + (y1 - y0) * (p - x0) / (x1 - x0) if x1 > x0 else y1
        return 1.0


@dataclass
class Model:
    method: str
    vectorizer: TfidfVectorizer | None = None
    # Per area: the regression over the story's words (``learned`` only, else
    # None) and the one over the wording features.
    regressions: dict[str, tuple] = field(default_factory=dict)
    scales: dict[str, Scale] = field(default_factory=dict)
    examples: int = 0

    def _matrices(self, readings: list[Reading], texts: list[str], words=None):
        """The wording features, and (``learned``) the words' TF-IDF (``words``
        if given) beside the story's similarity to each area's own wording."""
        wording = np.array([r.features() for r in readings], dtype=float)
        if self.vectorizer is None:
            return None, wording
        if words is None:
            words = self.vectorizer.transform(texts)
        guide = (words @ self.vectorizer.transform(_GUIDE_TEXTS).T).toarray() * GUIDE_WEIGHT
        return hstack([words, csr_matrix(guide)]).tocsr(), wording

    def _probabilities(self, area: str, matrices) -> np.ndarray:
        words, wording = matrices
        word_model, wording_model = self.regressions[area]
        p = _positive(wording_model, wording)
        if word_model is None:
            return p
        return (1 - WORDING_SHARE) * _positive(word_model, words) + WORDING_SHARE * p

    def predict_many(self, texts: list[str]) -> list[dict[str, Prediction]]:
        """Per text, per area, the confidence that a curator would file it there and why."""
        readings = [Reading.of(t) for t in texts]
        matrices = self._matrices(readings, texts) if self.regressions and texts else None
        out = [{} for _ in texts]
        for area in AREAS:
            if area in self.regressions:
                scale = self.scales.get(area, Scale())
                confidences = [scale(p) for p in self._probabilities(area, matrices)]
            else:
                confidences = [_prior(r, area) for r in readings]
            for row, reading, confidence in zip(out, readings, confidences):
                row[area] = Prediction(round(float(confidence), 4), reading.reason(area))
        return out

    def predict(self, text: str) -> dict[str, Prediction]:
        return self.predict_many([text])[0]


def _positive(regression: LogisticRegression, matrix) -> np.ndarray:
    return regression.predict_proba(matrix)[:, list(regression.classes_).index(True)]


def train(examples: list[Example], method: str = DEFAULT_METHOD, *, calibrate: bool = True) -> Model:
    """A model learned from ``examples``; areas with fewer than MIN_EXAMPLES of
    either label keep the wording's fixed weights. With ``calibrate``, each
    area's bulk-filing threshold is set by cross-validation on the examples
    themselves (``Scale``), so the threshold never sees a story it judges."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    model = Model(method, examples=len(examples))
    trainable = [a for a in AREAS if _enough(examples, a)]
    if not trainable:
        return model
    readings = [Reading.of(e.text) for e in examples]
    _regress(model, examples, _vectorise(model, examples, readings), trainable)
    if calibrate:
        folds: dict = {}
        for area in trainable:
            model.scales[area] = _scale(*_held_out(examples, readings, area, method, folds))
    return model


def _vectorise(model: Model, examples: list[Example], readings: list[Reading]):
    """The examples' feature matrices (fitting the model's vectoriser on them
    and the areas' wording first)."""
    texts = [e.text for e in examples]
    if model.method != "learned":
        return model._matrices(readings, texts)
    model.vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2, stop_words="english",
                                       max_features=MAX_FEATURES, dtype=np.float64)
    words = model.vectorizer.fit_transform(texts + list(_GUIDE_TEXTS) * 2)[: len(texts)]
    model.vectorizer.stop_words_ = None  # the words left out, kept only for inspection: not stored
    return model._matrices(readings, texts, words)


def _regress(model: Model, examples: list[Example], matrices, areas: list[str]) -> None:
    words, wording = matrices
    for area in areas:
        rows = [i for i, e in enumerate(examples) if area in e.labels]
        labels = [examples[i].labels[area] for i in rows]
        if len(set(labels)) < 2:
            continue
        word_model = None
        if words is not None:
            word_model = LogisticRegression(C=4.0, class_weight="balanced", solver="liblinear").fit(words[rows], labels)
        wording_model = LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear").fit(
            wording[rows], labels)
        model.regressions[area] = (word_model, wording_model)


def _held_out(examples: list[Example], readings: list[Reading], area: str, method: str,
              folds: dict | None = None) -> tuple[list, list]:
    """Probabilities for the examples labelled for ``area``, each from a model
    that did not see it (FOLDS folds, in a fixed order), with their labels.

    ``folds`` keeps each fold's vectoriser and matrices by its rows: areas
    labelled on the same stories (every filed story is labelled for every
    area) share them, so the vectoriser is fitted once per fold, not once per
    fold and area."""
    rows = [i for i, e in enumerate(examples) if area in e.labels]
    folds = {} if folds is None else folds
    scores, labels = [], []
    for fold in range(FOLDS):
        test = rows[fold::FOLDS]
        if not test:
            continue
        key = tuple(test)
        if key not in folds:
            held = set(test)
            train_rows = [i for i in range(len(examples)) if i not in held]
            inner = Model(method)
            trained = [examples[i] for i in train_rows]
            matrices = _vectorise(inner, trained, [readings[i] for i in train_rows])
            tested = inner._matrices([readings[i] for i in test], [examples[i].text for i in test])
            folds[key] = (inner, trained, matrices, tested)
        inner, trained, matrices, tested = folds[key]
        _regress(inner, trained, matrices, [area])
        if area not in inner.regressions:
            continue
        scores += list(inner._probabilities(area, tested))
        labels += [examples[i].labels[area] for i in test]
    return scores, labels


def _scale(scores: list, labels: list) -> Scale:
    """The area's bulk threshold, chosen on held-out folds of the examples
    alone: the lowest score from which the held-out precision of all the
    suggestions from there up is BULK_PRECISION or more, over at least
    BULK_MINIMUM of them; if none, nothing is offered for bulk filing. The
    show threshold stays at the regression's own 0.5 (balanced class weights
    make it the even point): one chosen for F1 on held-out folds of a few
    hundred stories did worse on stories it had not seen."""
    ranked = sorted(zip(scores, labels), key=lambda pair: -pair[0])
    if not ranked or not sum(labels):
        return Scale()
    bulk, true = 1.0, 0
    for count, (score, label) in enumerate(ranked, start=1):
        true += label
        if (true / count >= BULK_PRECISION and count >= BULK_MINIMUM
                and (count == len(ranked) or ranked[count][0] < score)):
            bulk = score
    bulk = max(bulk, SHOW_CONFIDENCE)
    return Scale(bulk=min(max(bulk, SHOW_CONFIDENCE + 1e-6), 1.0))


def _enough(examples: list[Example], area: str) -> bool:
    labels = [e.labels[area] for e in examples if area in e.labels]
    return sum(labels) >= MIN_EXAMPLES and len(labels) - sum(labels) >= MIN_EXAMPLES
