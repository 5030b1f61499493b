"""Filing suggestions: computed for every story by kb's own model, learned from
curators' filings and declines, accepted or declined one by one or in bulk."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kb import classifier, database
from kb.errors import Forbidden
from kb.extensions import db
from kb.models import AreaSuggestion, AuditEvent, Revision, StoryActionArea, SuggestionModel, TagSuggestion
from flask_login import AnonymousUserMixin as AnonymousUser

from kb.policy import SYSTEM
from kb.services import filing, seed, stories, suggestions

PROCUREMENT = ("The council changed its procurement rules and contracts so that small suppliers could bid. "
               "Open source code and open data standards let other councils reuse the shared platform.")
ANIMALS = "A photo diary of goats and chickens on a farm. The goats were happy."


@pytest.fixture
def areas(app):
    seed.load_action_areas(SYSTEM)
    database.commit(app)


def confidences(story) -> dict[str, float]:
    rows = db.session.scalars(select(AreaSuggestion).where(AreaSuggestion.story_id == story.id))
    return {row.action_area.slug: row.confidence for row in rows}


def test_the_model_is_deterministic_and_gives_the_sentence_that_speaks_to_the_area():
    first = classifier.train([]).predict(PROCUREMENT + " " + ANIMALS)
    second = classifier.train([]).predict(PROCUREMENT + " " + ANIMALS)
    assert first == second
    assert "open source" in first["conditions"].reason and "goats" not in first["conditions"].reason
    assert first["conditions"].confidence > classifier.train([]).predict(ANIMALS)["conditions"].confidence


def test_words_that_only_share_a_stem_with_a_cue_and_web_addresses_are_not_read():
    reading = classifier.Reading.of("The government changed its governance. See https://example.org/open-source.")
    assert reading.hits["conditions"] == [["governance"], []]


def test_the_model_learns_from_filed_and_declined_examples():
    examples = ([classifier.Example(f"Story {i} about marmalade and jam making.", {"networks": True})
                 for i in range(8)]
                + [classifier.Example(f"Story {i} about pickles and chutney.", {"networks": False}) for i in range(8)])
    model = classifier.train(examples, "learned")
    assert "networks" in model.regressions
    assert (model.predict("Marmalade and jam.")["networks"].confidence
            > model.predict("Pickles and chutney.")["networks"].confidence)


def test_each_area_is_put_on_the_confidence_scale_by_cross_validation_on_its_own_examples():
    examples = ([classifier.Example(f"Story {i} about marmalade and jam making.", {"networks": True})
                 for i in range(10)]
                + [classifier.Example(f"Story {i} about pickles and chutney.", {"networks": False}) for i in range(10)])
    model = classifier.train(examples, "learned")
    scale = model.scales["networks"]
    # Every held-out jam story outranked every pickle story, so bulk filing is offered.
    assert 0 < scale.show <= scale.bulk < 1
    assert model.predict("Marmalade and jam making.")["networks"].confidence >= classifier.BULK_CONFIDENCE
    assert model.predict("Pickles and chutney.")["networks"].confidence < classifier.SHOW_CONFIDENCE
    assert classifier.train(examples, "learned").scales == model.scales


def test_an_area_whose_held_out_precision_is_too_low_never_reaches_bulk_filing():
    # The same words labelled both ways: no threshold is precise on held-out folds.
    examples = [classifier.Example(f"Story {i} about marmalade and jam making.", {"networks": i % 2 == 0})
                for i in range(20)]
    model = classifier.train(examples, "learned")
    assert model.scales["networks"].bulk == 1.0
    assert model.predict("Marmalade and jam making.")["networks"].confidence < classifier.BULK_CONFIDENCE


def test_the_confidence_scale_is_monotone_and_keeps_its_two_marks():
    scale = classifier.Scale(show=0.3, bulk=0.8)
    values = [scale(p / 100) for p in range(101)]
    assert values == sorted(values) and values[0] == 0 and values[-1] == 1
    assert scale(0.3) == classifier.SHOW_CONFIDENCE and scale(0.8) == classifier.BULK_CONFIDENCE


def test_saving_a_story_suggests_areas_with_reasons(app, areas, make_story):
    story = make_story(body=PROCUREMENT)
    found = confidences(story)
    assert set(found) == set(classifier.AREAS)
    assert found["conditions"] > confidences(make_story(body=ANIMALS))["conditions"]
    reason = db.session.scalar(select(AreaSuggestion.reason).where(
        AreaSuggestion.story_id == story.id, AreaSuggestion.action_area.has(slug="conditions")))
    assert "open source" in reason


def test_editing_a_story_recomputes_its_suggestions(app, areas, make_story):
    story = make_story(body=ANIMALS)
    before = confidences(story)["conditions"]
    stories.update_story(SYSTEM, story, {"body": PROCUREMENT})
    database.commit(app)
    assert confidences(story)["conditions"] > before


def test_accepting_a_suggestion_files_the_story_with_the_edited_reason(app, areas, make_user, make_story):
    curator = make_user("curator")
    story = make_story(body=PROCUREMENT)
    filing.accept_area(curator, story, "conditions", "Changed procurement for small suppliers")
    database.commit(app)
    link = db.session.scalar(select(StoryActionArea).where(StoryActionArea.story_id == story.id))
    assert link.action_area.slug == "conditions" and link.reason == "Changed procurement for small suppliers"
    assert "conditions" not in [o.area.slug for o in filing.area_offers(curator, story)]
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.target_id == story.id)
                             .order_by(AuditEvent.id.desc()).limit(1)) == "edit_story"


def test_a_declined_suggestion_is_not_offered_again_even_after_a_refresh(app, areas, make_user, make_story):
    curator = make_user("curator")
    story = make_story(body=PROCUREMENT)
    assert "conditions" in [o.area.slug for o in filing.area_offers(curator, story)]
    filing.decline_area(curator, story, "conditions", "About suppliers, not scaling")
    database.commit(app)
    suggestions.refresh(SYSTEM)
    database.commit(app)
    assert "conditions" not in [o.area.slug for o in filing.area_offers(curator, story)]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "decline_area")) == 1


def test_refresh_learns_from_curators_filings_and_declines(app, areas, make_story):
    filed = [make_story(title=f"Marmalade {i}", body="Marmalade and jam making at the fair.") for i in range(7)]
    declined = [make_story(title=f"Pickles {i}", body="Pickles and chutney at the fair.") for i in range(7)]
    jam, pickle = make_story(body="Jam and marmalade."), make_story(body="Chutney and pickles.")
    assert confidences(jam)["networks"] == confidences(pickle)["networks"]
    for story in filed:
        stories.update_story(SYSTEM, story, {"action_areas": [{"slug": "networks", "reason": ""}]})
    for story in declined:
        filing.decline_area(SYSTEM, story, "networks")
    database.commit(app)
    suggestions.refresh(SYSTEM)
    database.commit(app)
    assert confidences(jam)["networks"] > confidences(pickle)["networks"]


def test_the_model_is_trained_by_refresh_alone_and_stored_for_every_process_to_load(app, areas, make_story):
    filed = [make_story(title=f"Marmalade {i}", body="Marmalade and jam making at the fair.") for i in range(7)]
    declined = [make_story(title=f"Pickles {i}", body="Pickles and chutney at the fair.") for i in range(7)]
    for story in filed:
        stories.update_story(SYSTEM, story, {"action_areas": [{"slug": "networks", "reason": ""}]})
    for story in declined:
        filing.decline_area(SYSTEM, story, "networks")
    database.commit(app)
    # Saving a story after curators' filings changed does not train: the wording's fixed weights still judge it.
    jam, pickle = make_story(body="Jam and marmalade."), make_story(body="Chutney and pickles.")
    assert confidences(jam)["networks"] == confidences(pickle)["networks"]
    assert not db.session.scalar(select(func.count()).select_from(SuggestionModel))

    suggestions.refresh(SYSTEM)
    database.commit(app)
    stored = db.session.scalars(select(SuggestionModel)).all()
    assert len(stored) == 1 and stored[0].examples == 14
    first = (stored[0].id, stored[0].decisions)
    trained = suggestions.current_model()
    assert "networks" in trained.regressions
    # Another process (no model in memory) loads the stored model: the same suggestions.
    del app.extensions["kb_suggestion_model"]
    loaded = suggestions.current_model()
    assert loaded is not trained and loaded.scales == trained.scales
    assert loaded.predict("Jam and marmalade.") == trained.predict("Jam and marmalade.")
    # With the decisions unchanged, a refresh keeps the stored model rather than training again.
    suggestions.refresh(SYSTEM)
    database.commit(app)
    assert [(row.id, row.decisions) for row in db.session.scalars(select(SuggestionModel))] == [first]
    # A decision changed: the next refresh trains and replaces it.
    filing.decline_area(SYSTEM, jam, "networks")
    database.commit(app)
    suggestions.refresh(SYSTEM)
    database.commit(app)
    replaced = db.session.scalars(select(SuggestionModel)).all()
    assert len(replaced) == 1 and replaced[0].decisions != first[1] and replaced[0].examples == 15


def test_readers_and_contributors_never_see_suggestions(app, areas, make_user, make_story):
    story = make_story(body=PROCUREMENT)
    for viewer in (AnonymousUser(), make_user("contributor")):
        with pytest.raises(Forbidden):
            filing.area_offers(viewer, story)
        with pytest.raises(Forbidden):
            filing.unfiled_count(viewer)


def test_the_stories_not_yet_filed_are_counted_and_queued_most_confident_first(app, areas, make_user, make_story):
    curator = make_user("curator")
    weak = make_story(body=ANIMALS)
    strong = make_story(body=PROCUREMENT)
    filed = make_story(body=PROCUREMENT)
    make_story(body=PROCUREMENT, status="draft")
    filing.accept_area(curator, filed, "conditions", "")
    database.commit(app)
    queue = filing.filing_queue(curator)
    assert filing.unfiled_count(curator) == 2 == queue.total
    assert [s.id for s in queue.page.items] == [strong.id, weak.id]


def test_bulk_filing_gives_each_story_its_reason_a_revision_and_one_audit_event(app, areas, make_user, make_story):
    curator = make_user("curator")
    picked = [make_story(body=PROCUREMENT) for _ in range(3)]
    declined = make_story(body=PROCUREMENT)
    filing.decline_area(curator, declined, "conditions")
    database.commit(app)
    ids = [s.id for s in picked + [declined]]
    candidates = filing.bulk_candidates(curator, "conditions", 0.0, ids)
    assert {c.story_id for c in candidates} == {s.id for s in picked}
    plan = filing.file_in_bulk(curator, "conditions", {c.story_id: c.reason for c in candidates[:2]})
    database.commit(app)
    assert len(plan.changing) == 2
    links = db.session.scalars(select(StoryActionArea).order_by(StoryActionArea.story_id)).all()
    assert [(link.story_id, link.reason) for link in links] == sorted((c.story_id, c.reason) for c in candidates[:2])
    assert all("open source" in link.reason for link in links)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "bulk_add_area")) == 1
    assert db.session.scalar(select(func.count()).select_from(Revision).where(
        Revision.reason == "Filed from kb's suggestions")) == 2


def test_tags_named_in_the_text_are_suggested_accepted_and_declined(app, areas, make_user, make_story):
    curator = make_user("curator")
    make_story(title="Tagged", tags=["Open data", "Procurement"])
    story = make_story(title="Open data in Leeds", body=PROCUREMENT + " Procurement got simpler.")
    assert {t.name for t in filing.tag_offers(curator, story)} == {"Open data", "Procurement"}
    by_name = {t.name: t.id for t in filing.tag_offers(curator, story)}
    filing.accept_tag(curator, story, by_name["Open data"])
    filing.decline_tag(curator, story, by_name["Procurement"])
    database.commit(app)
    suggestions.refresh(SYSTEM)
    database.commit(app)
    assert [t.name for t in story.tags] == ["Open data"]
    assert filing.tag_offers(curator, story) == []


def test_a_tag_named_only_in_web_addresses_is_not_suggested(app, areas, make_user, make_story):
    make_story(title="Tagged", tags=["Https"])
    story = make_story(title="Links", body="See https://a.example and https://b.example and http://c.example.")
    assert filing.tag_offers(make_user("curator"), story) == []
    assert not db.session.scalar(select(func.count()).select_from(TagSuggestion).where(
        TagSuggestion.story_id == story.id))


def test_kb_suggest_refresh_recomputes_every_story(app, areas, make_story, cli):
    story = make_story(body=PROCUREMENT)
    db.session.execute(AreaSuggestion.__table__.delete())
    database.commit(app)
    result = cli("suggest", "refresh")
    assert result.exit_code == 0 and "Refreshed the suggestions of 1 stories." in result.output
    assert set(confidences(story)) == set(classifier.AREAS)


def test_cross_validation_fits_each_folds_vectoriser_once_for_all_areas(monkeypatch):
    examples = [classifier.Example(f"Story {i} about {'marmalade and jam' if i % 2 else 'pickles and chutney'}.",
                                   {area: bool((i >> n) % 2) for n, area in enumerate(classifier.AREAS)})
                for i in range(40)]
    fits = []
    original = classifier.TfidfVectorizer.fit_transform
    monkeypatch.setattr(classifier.TfidfVectorizer, "fit_transform",
                        lambda self, texts, *a: fits.append(1) or original(self, texts))
    model = classifier.train(examples, "learned")
    assert set(model.scales) == set(classifier.AREAS)
    assert len(fits) == 1 + classifier.FOLDS  # the model, then one per fold (not one per fold and area)
