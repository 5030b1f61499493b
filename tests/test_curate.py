"""Curators: the review queue, reviewing a story, curating any story."""
from __future__ import annotations

import io

from sqlalchemy import select

from kb import database
from kb.extensions import db
from kb.models import AuditEvent, IndexChange
from kb.policy import SYSTEM
from kb.services import review, seed, stories
from curate_helpers import switch_user


def _areas(app):
    seed.load_action_areas(SYSTEM)
    database.commit(app)


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_anonymous_visitor_is_sent_to_sign_in_from_the_queue(app, client):
    response = client.get("/curate/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in?next=")


def test_contributor_cannot_see_the_queue(app, client, make_user, sign_in):
    sign_in(make_user("contributor"))
    assert client.get("/curate/").status_code == 403


def test_queue_lists_submitted_stories_oldest_first_with_counts(app, client, make_user, make_story, sign_in):
    alice, bob = make_user(name="Alice"), make_user(name="Bob")
    make_story(alice, status="submitted", title="First in", kind="report")
    make_story(bob, status="submitted", title="Second in", kind="talk")
    make_story(alice, status="draft", title="Still a draft")
    make_story(alice, status="published", title="Already out")
    sign_in(make_user("curator"))
    page = client.get("/curate/").get_data(as_text=True)
    assert page.index("First in") < page.index("Second in")
    assert "Still a draft" not in page and "Already out" not in page
    assert "2 stories waiting for review" in page
    assert "Report (1)" in page and "Talk (1)" in page
    assert "Alice (1)" in page and "Bob (1)" in page


def test_queue_filters_by_kind_and_by_submitter(app, client, make_user, make_story, sign_in):
    alice, bob = make_user(name="Alice"), make_user(name="Bob")
    make_story(alice, status="submitted", title="Alice's report", kind="report")
    make_story(bob, status="submitted", title="Bob's talk", kind="talk")
    sign_in(make_user("curator"))
    by_kind = client.get("/curate/?kind=talk").get_data(as_text=True)
    assert "Bob&#39;s talk" in by_kind and "Alice&#39;s report" not in by_kind
    by_person = client.get(f"/curate/?submitter={alice.id}").get_data(as_text=True)
    assert "Alice&#39;s report" in by_person and "Bob&#39;s talk" not in by_person


def test_review_page_shows_the_story_as_readers_will_see_it(app, client, make_user, make_story, sign_in):
    story = make_story(make_user(), status="submitted", title="Shared services", body="**Saved money**")
    sign_in(make_user("curator"))
    page = client.get(f"/curate/stories/{story.id}").get_data(as_text=True)
    assert "<strong>Saved money</strong>" in page
    assert "Publish" in page and "Request changes" in page and "Reject" in page


def test_publishing_makes_the_story_public_and_is_audited(app, client, make_user, make_story, sign_in):
    story = make_story(make_user(), status="submitted", title="Ready to go")
    curator = sign_in(make_user("curator"))
    before = db.session.scalar(select(IndexChange.id).order_by(IndexChange.id.desc()).limit(1))
    response = client.post(f"/curate/stories/{story.id}/publish")
    assert response.status_code == 303
    assert client.get(f"/stories/{story.slug}").status_code == 200
    event = _events("publish")[-1]
    assert event.actor_id == curator.id and event.target_id == story.id
    after = db.session.scalar(select(IndexChange.id).order_by(IndexChange.id.desc()).limit(1))
    assert after > (before or 0)


def test_request_changes_needs_a_note_and_the_contributor_sees_it(app, client, make_user, make_story, sign_in):
    contributor = make_user()
    story = make_story(contributor, status="submitted", title="Needs work")
    sign_in(make_user("curator"))
    empty = client.post(f"/curate/stories/{story.id}/request-changes", data={"note": "  "})
    assert empty.status_code == 422
    assert "Enter a note telling the contributor what to change." in empty.get_data(as_text=True)
    assert "govuk-error-summary" in empty.get_data(as_text=True)
    ok = client.post(f"/curate/stories/{story.id}/request-changes", data={"note": "Add the evidence, please."})
    assert ok.status_code == 303
    db.session.expire_all()
    assert story.status == "changes_requested"
    switch_user(sign_in, contributor)
    assert "Add the evidence, please." in client.get(f"/stories/{story.slug}").get_data(as_text=True)


def test_reject_needs_a_reason(app, client, make_user, make_story, sign_in):
    story = make_story(make_user(), status="submitted")
    sign_in(make_user("curator"))
    assert client.post(f"/curate/stories/{story.id}/reject", data={"reason": ""}).status_code == 422
    db.session.expire_all()
    assert story.status == "submitted"
    assert client.post(f"/curate/stories/{story.id}/reject", data={"reason": "Out of scope"}).status_code == 303
    db.session.expire_all()
    assert story.status == "rejected" and story.review_note == "Out of scope"
    assert _events("reject")[-1].detail["note"] == "Out of scope"


def test_unpublish_needs_a_reason_and_takes_the_story_down(app, client, make_user, make_story, sign_in):
    story = make_story(title="Out of date")
    sign_in(make_user("curator"))
    assert client.post(f"/curate/stories/{story.id}/unpublish", data={"unpublish_reason": ""}).status_code == 422
    assert client.get(f"/stories/{story.slug}").status_code == 200
    response = client.post(f"/curate/stories/{story.id}/unpublish", data={"unpublish_reason": "Superseded"})
    assert response.status_code == 303
    switch_user(sign_in, make_user())
    assert client.get(f"/stories/{story.slug}").status_code == 404


def test_feature_and_unfeature(app, client, make_user, make_story, sign_in):
    story = make_story(title="Show this off")
    sign_in(make_user("curator"))
    client.post(f"/curate/stories/{story.id}/feature", data={"featured": "1"})
    db.session.expire_all()
    assert story.featured
    client.post(f"/curate/stories/{story.id}/feature", data={"featured": "0"})
    db.session.expire_all()
    assert not story.featured
    assert [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("%feature")))] == [
        "feature", "unfeature"]


def test_resubmission_shows_a_field_diff_against_the_version_the_curator_saw(
        app, client, make_user, make_story, sign_in):
    contributor = make_user()
    story = make_story(contributor, status="changes_requested", title="Parking permits", summary="Old summary.")
    stories.update_story(contributor, story, {"summary": "New summary with evidence.", "place": "Leeds"})
    stories.submit_story(contributor, story)
    database.commit(app)
    sign_in(make_user("curator"))
    page = client.get(f"/curate/stories/{story.id}").get_data(as_text=True)
    assert "Changed since you asked for changes" in page
    assert "Old summary." in page and "New summary with evidence." in page
    assert ">Place<" in page and "Leeds" in page
    assert ">Status<" not in page


def test_first_submission_has_no_diff(app, client, make_user, make_story, sign_in):
    story = make_story(make_user(), status="submitted")
    sign_in(make_user("curator"))
    assert "Changed since you asked for changes" not in client.get(f"/curate/stories/{story.id}").get_data(as_text=True)


def test_classify_sets_action_areas_with_reasons_and_tags(app, client, make_user, make_story, sign_in):
    _areas(app)
    story = make_story(title="Camp report")
    sign_in(make_user("curator"))
    response = client.post(f"/curate/stories/{story.id}/classify", data={
        "action_areas": ["networks", "culture"], "reason-networks": "A camp spreads ideas.",
        "reason-culture": "", "tags": "Unconference\nLocal government", "reason": "First curation",
    })
    assert response.status_code == 303
    db.session.expire_all()
    assert {link.action_area.slug: link.reason for link in story.area_links} == {
        "networks": "A camp spreads ideas.", "culture": ""}
    assert [t.name for t in story.tags] == ["Local government", "Unconference"]
    assert _events("edit_story")[-1].detail["fields"] == ["action_areas", "tags"]
    public = client.get(f"/stories/{story.slug}").get_data(as_text=True)
    assert "A camp spreads ideas." in public


def test_contributor_suggested_tag_can_be_accepted_or_dismissed(app, client, make_user, make_story, sign_in):
    contributor = make_user()
    story = make_story(contributor, status="submitted", suggested_tags=["Civic tech", "Parking"])
    sign_in(make_user("curator"))
    page = client.get(f"/curate/stories/{story.id}").get_data(as_text=True)
    assert "Tags the contributor suggested" in page and "Civic tech" in page
    client.post(f"/curate/stories/{story.id}/suggestions", data={"tag": "Civic tech", "decision": "accept"})
    client.post(f"/curate/stories/{story.id}/suggestions", data={"tag": "Parking", "decision": "dismiss"})
    db.session.expire_all()
    assert [t.name for t in story.tags] == ["Civic tech"]
    assert story.suggested_tags == []


def test_contributor_cannot_create_a_tag_through_a_story(app, make_user, make_story):
    import pytest

    from kb.errors import Forbidden

    contributor = make_user()
    story = make_story(contributor, status="draft")
    with pytest.raises(Forbidden):
        stories.update_story(contributor, story, {"tags": ["Brand new tag"]})


def test_all_stories_lists_every_status_by_title(app, client, make_user, make_story, sign_in):
    make_story(make_user(), status="draft", title="Hidden draft about bins")
    make_story(title="Published about bins")
    make_story(title="Something else")
    sign_in(make_user("curator"))
    page = client.get("/curate/stories?q=bins").get_data(as_text=True)
    assert "Hidden draft about bins" in page and "Published about bins" in page
    assert "Something else" not in page


def test_review_service_refuses_contributors(app, make_user):
    import pytest

    from kb.errors import Forbidden

    with pytest.raises(Forbidden):
        review.review_queue(make_user())


def test_curator_edits_every_field_of_a_published_story(app, client, make_user, make_story, sign_in):
    _areas(app)
    story = make_story(title="Old title", summary="Old summary.", tags=["Old tag"])
    sign_in(make_user("curator"))
    form = client.get(f"/curate/stories/{story.id}/edit").get_data(as_text=True)
    assert "Old summary." in form and "Old tag" in form
    response = client.post(f"/curate/stories/{story.id}/edit", data={
        "title": "New title", "kind": "report", "summary": "New summary.", "body": "Body",
        "published_on": ["5", "4", "2011"], "organisations-0": "Leeds City Council", "people-0": "Ada",
        "place": "Leeds", "sector": "Local government", "stage": "pilot", "results": "Halved waiting times.",
        "evidence_level": "3", "contact_name": "Ann", "contact_email": "ann@example.org", "contact_agreed": "y",
        "contact_hidden": "y",
        "links-0-url": "https://example.org/r", "links-0-title": "The report", "links-0-rel": "source",
        "tags": "Housing\nOld tag", "action_areas": ["evaluation"], "reason-evaluation": "Measured it.",
        "featured": "y", "reason": "Tidied up",
    })
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    assert (story.title, story.kind, story.summary, story.place, story.stage) == (
        "New title", "report", "New summary.", "Leeds", "pilot")
    assert story.published_on.isoformat() == "2011-04-05"
    assert [o.name for o in story.organisations] == ["Leeds City Council"]
    assert [t.name for t in story.tags] == ["Housing", "Old tag"]
    assert [(link.action_area.slug, link.reason) for link in story.area_links] == [("evaluation", "Measured it.")]
    assert story.featured and story.links[0].url == "https://example.org/r"
    assert story.slug == "old-title"  # a published story keeps its address
    assert (story.results, story.evidence_level, story.contact_hidden) == ("Halved waiting times.", 3, True)
    assert (story.country, story.authority_code) == ("GB", "E08000035")  # from the place, Leeds
    event = _events("edit_story")[-1]
    assert event.detail["reason"] == "Tidied up" and "title" in event.detail["fields"]


def test_curator_edit_with_a_bad_link_is_shown_again_with_the_error(app, client, make_user, make_story, sign_in):
    story = make_story(title="Keep me")
    sign_in(make_user("curator"))
    response = client.post(f"/curate/stories/{story.id}/edit", data={
        "title": "Changed", "kind": "report", "summary": "S", "links-0-url": "not a url", "links-0-title": "x"})
    assert response.status_code == 422
    assert "govuk-error-summary" in response.get_data(as_text=True)
    db.session.expire_all()
    assert story.title == "Keep me"


def test_curator_adding_another_link_keeps_the_documents_chosen(app, client, make_user, make_story, sign_in):
    story = make_story(title="Keep my files")
    sign_in(make_user("curator"))
    response = client.post(f"/curate/stories/{story.id}/edit", data={
        "title": "Keep my files", "kind": "report", "summary": "S", "action": "add_links",
        "attachments": [(io.BytesIO(b"plain words"), "notes.txt")]}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "notes.txt" in response.get_data(as_text=True)
