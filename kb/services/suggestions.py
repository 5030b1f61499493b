"""Filing suggestions: for every story, how confident kb is that it speaks to
each action area (with the sentence that shows it) and which tags of the
vocabulary its text names. Curators accept or decline them (``filing.py``);
what they file and decline is what the model learns from.

Suggestions are computed rows (``area_suggestions``, ``tag_suggestions``),
replaced when a story changes and for every story by ``refresh``; declines
(``suggestion_declines``) are curators' decisions and are never replaced.
The model (``kb.classifier``) is trained on the curators' filings and
declines by ``refresh`` and stored in the database (``suggestion_models``);
every process loads the newest stored model instead of training one.
"""
from __future__ import annotations

import pickle
import re
import threading

import sklearn

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from kb import classifier, policy
from kb.extensions import db
from kb.models import (
    ActionArea,
    AreaSuggestion,
    Story,
    StoryActionArea,
    SuggestionDecline,
    SuggestionModel,
    Tag,
    TagAlias,
    TagSuggestion,
)
from kb.services import taxonomy

TAGS_PER_STORY = 5
REFRESH_CHUNK = 200

_model_lock = threading.Lock()


def story_text(story: Story) -> str:
    """What the model reads: title, summary, body and results (once the evidence field)."""
    return "\n".join(part for part in (story.title, story.summary, story.body, story.results) if part)


# The model -------------------------------------------------------------------

def _decisions_signature() -> tuple:
    filed = db.session.execute(select(
        func.count(), func.coalesce(func.sum(StoryActionArea.story_id * 8 + StoryActionArea.action_area_id), 0),
    )).one()
    declined = db.session.execute(select(func.count(), func.coalesce(func.max(SuggestionDecline.id), 0))).one()
    return tuple(filed) + tuple(declined)


def training_examples() -> list[classifier.Example]:
    """Curators' decisions as labelled texts: a filed area is a yes; a declined
    area, or an area left out of a story filed elsewhere, is a no."""
    slugs = {area.id: area.slug for area in taxonomy.all_action_areas()}
    labels: dict[int, dict[str, bool]] = {}
    for story_id, area_id in db.session.execute(select(StoryActionArea.story_id, StoryActionArea.action_area_id)):
        labels.setdefault(story_id, {})[slugs[area_id]] = True
    for story_id, labelled in labels.items():
        for slug in classifier.AREAS:
            labelled.setdefault(slug, False)
    declines = select(SuggestionDecline.story_id, SuggestionDecline.action_area_id).where(
        SuggestionDecline.action_area_id.is_not(None))
    for story_id, area_id in db.session.execute(declines):
        labels.setdefault(story_id, {}).setdefault(slugs[area_id], False)
    examples = []
    ids = sorted(labels)
    for start in range(0, len(ids), REFRESH_CHUNK):
        for story in db.session.scalars(select(Story).where(Story.id.in_(ids[start:start + REFRESH_CHUNK]))):
            examples.append(classifier.Example(story_text(story), labels[story.id]))
    examples.sort(key=lambda e: e.text)
    return examples


def _kind(method: str) -> str:
    """What a stored model must have been made by to be loaded: the method and
    the versions of the classifier and of scikit-learn (whose pickles only
    load in the version that made them)."""
    return f"{method} v{classifier.VERSION} scikit-learn {sklearn.__version__}"


def _method() -> str:
    return current_app.config.get("SUGGEST_METHOD", classifier.DEFAULT_METHOD)


def _cache(row_id, model: classifier.Model) -> classifier.Model:
    with _model_lock:
        current_app.extensions["kb_suggestion_model"] = ((_method(), row_id), model)
    return model


def current_model() -> classifier.Model:
    """The model last trained and stored by ``train_model`` (``kb suggest
    refresh``), loaded once per process; it never trains, so no request and
    no server start waits for training. With none stored yet, the areas'
    wording with fixed weights (``classifier.Model``'s cold start)."""
    method = _method()
    row_id = db.session.scalar(select(SuggestionModel.id).where(SuggestionModel.kind == _kind(method))
                               .order_by(SuggestionModel.id.desc()).limit(1))
    with _model_lock:
        cached = current_app.extensions.get("kb_suggestion_model")
    if cached and cached[0] == (method, row_id):
        return cached[1]
    model = classifier.Model(method)
    if row_id is not None:
        model = pickle.loads(db.session.scalar(select(SuggestionModel.data).where(SuggestionModel.id == row_id)))
    return _cache(row_id, model)


def train_model() -> classifier.Model:
    """Train on the curators' decisions as they stand and store the model for
    every process to load (the one stored already if the decisions have not
    changed since); older models are removed."""
    method = _method()
    kind = _kind(method)
    decisions = " ".join(map(str, _decisions_signature()))
    row = db.session.scalar(select(SuggestionModel).where(SuggestionModel.kind == kind,
                                                          SuggestionModel.decisions == decisions)
                            .order_by(SuggestionModel.id.desc()).limit(1))
    if row is None:
        examples = training_examples()
        model = classifier.train(examples, method)
        db.session.execute(delete(SuggestionModel).where(SuggestionModel.kind == kind))
        row = SuggestionModel(kind=kind, decisions=decisions, examples=len(examples),
                              data=pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
        db.session.add(row)
        db.session.flush()
        return _cache(row.id, model)
    return current_model()


# Tags named in a story's text --------------------------------------------------

_WORDS = re.compile(r"[a-z0-9]+")


def _words(text: str) -> tuple[str, ...]:
    """Stemmed words of the text, web addresses left out."""
    return tuple(classifier.stem(w) for w in _WORDS.findall(classifier.WEB_ADDRESS.sub(" ", text.lower())))


class TagMatcher:
    """Finds the live tags whose name or alias a text contains, word for word."""

    def __init__(self) -> None:
        self.phrases: dict[tuple[str, ...], int] = {}
        live = select(Tag.id, Tag.name).where(Tag.merged_into_id.is_(None))
        aliases = select(TagAlias.tag_id, TagAlias.name).join(Tag, Tag.id == TagAlias.tag_id).where(
            Tag.merged_into_id.is_(None))
        for tag_id, name in list(db.session.execute(live)) + list(db.session.execute(aliases)):
            phrase = _words(name)
            if phrase:
                self.phrases.setdefault(phrase, tag_id)
        self.longest = max((len(p) for p in self.phrases), default=0)
        self.first = frozenset(p[0] for p in self.phrases)

    def scores(self, title: str, text: str) -> dict[int, float]:
        """Tag id -> how strongly the text names it (a title mention counts three times)."""
        found: dict[int, float] = {}
        for words, weight in ((_words(title), 3.0), (_words(text), 1.0)):
            for _, _, tag_id in classifier.phrases_in(words, self.phrases, self.longest, self.first):
                found[tag_id] = found.get(tag_id, 0.0) + weight
        # One passing mention of a single word is not enough to suggest it.
        return {t: s for t, s in found.items() if s >= 2}


# Computing and storing ----------------------------------------------------------

def _store(stories: list[Story], model: classifier.Model, matcher: TagMatcher, areas: dict[str, ActionArea]) -> None:
    ids = [s.id for s in stories]
    db.session.execute(delete(AreaSuggestion).where(AreaSuggestion.story_id.in_(ids)))
    db.session.execute(delete(TagSuggestion).where(TagSuggestion.story_id.in_(ids)))
    declined_tags = {(s, t) for s, t in db.session.execute(
        select(SuggestionDecline.story_id, SuggestionDecline.tag_id).where(
            SuggestionDecline.story_id.in_(ids), SuggestionDecline.tag_id.is_not(None)))}
    predictions = model.predict_many([story_text(s) for s in stories])
    rows = []
    for story, predicted in zip(stories, predictions):
        for slug, prediction in predicted.items():
            if slug in areas:
                rows.append(AreaSuggestion(story_id=story.id, action_area_id=areas[slug].id,
                                           confidence=prediction.confidence, reason=prediction.reason))
        held = {tag.id for tag in story.tags}
        scores = matcher.scores(story.title, "\n".join((story.summary, story.body)))
        best = sorted(((s, t) for t, s in scores.items() if t not in held and (story.id, t) not in declined_tags),
                      key=lambda pair: (-pair[0], pair[1]))[:TAGS_PER_STORY]
        rows.extend(TagSuggestion(story_id=story.id, tag_id=t, score=s) for s, t in best)
    db.session.add_all(rows)
    db.session.flush()


def current_matcher() -> TagMatcher:
    """The tag matcher of the vocabulary as it stands, kept per app until a
    tag or alias is added, renamed, merged or removed."""
    signature = tuple(db.session.execute(select(
        func.count(Tag.id), func.max(Tag.updated_at), func.sum(Tag.id * 2 + func.coalesce(Tag.merged_into_id, 0)),
    )).one()) + tuple(db.session.execute(select(func.count(TagAlias.id), func.max(TagAlias.id))).one())
    with _model_lock:
        cached = current_app.extensions.get("kb_tag_matcher")
    if cached and cached[0] == signature:
        return cached[1]
    matcher = TagMatcher()
    with _model_lock:
        current_app.extensions["kb_tag_matcher"] = (signature, matcher)
    return matcher


def refresh_story(story: Story) -> None:
    """Recompute one story's suggestions (called whenever a story is saved
    through the web, API or CLI; an import does its stories together with
    ``refresh_stories``)."""
    if story.id is None:
        db.session.flush()
    areas = {area.slug: area for area in taxonomy.all_action_areas()}
    if not areas:
        return
    _store([story], current_model(), current_matcher(), areas)


def refresh_stories(ids: list[int], after_chunk=None) -> None:
    """Recompute the suggestions of these stories (those an import made), with
    the model as it is, a chunk at a time; ``after_chunk()`` after each (an
    import commits there, so that no transaction holds the database long)."""
    areas = {area.slug: area for area in taxonomy.all_action_areas()}
    if not areas or not ids:
        return
    model, matcher = current_model(), current_matcher()
    for start in range(0, len(ids), REFRESH_CHUNK):
        chunk = list(db.session.scalars(select(Story).where(Story.id.in_(ids[start:start + REFRESH_CHUNK]))
                                        .options(selectinload(Story.tags)).order_by(Story.id)))
        _store(chunk, model, matcher, areas)
        if after_chunk:
            after_chunk()


def refresh(actor, progress=None) -> int:
    """Retrain on the curators' decisions and recompute every story's
    suggestions. ``progress(n)`` is called after each chunk. Returns the count.

    :raise Forbidden: unless the actor may refresh suggestions.
    """
    policy.require(policy.can_refresh_suggestions(actor), "Only curators can refresh suggestions.")
    areas = {area.slug: area for area in taxonomy.all_action_areas()}
    model = train_model()
    matcher = current_matcher()
    ids = list(db.session.scalars(select(Story.id).order_by(Story.id)))
    for start in range(0, len(ids), REFRESH_CHUNK):
        chunk = list(db.session.scalars(select(Story).where(Story.id.in_(ids[start:start + REFRESH_CHUNK]))
                                        .options(selectinload(Story.tags)).order_by(Story.id)))
        _store(chunk, model, matcher, areas)
        if progress:
            progress(len(chunk))
    return len(ids)
