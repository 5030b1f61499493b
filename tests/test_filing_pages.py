"""Curators file stories from kb's suggestions: on a story, from the queue of
stories not yet filed, and in bulk from a search; readers never see a
suggestion as a filing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kb import database
from kb.extensions import db
from kb.models import AuditEvent, StoryActionArea
from kb.policy import SYSTEM
from kb.services import filing, seed, tokens

PROCUREMENT = ("The council changed its procurement rules and contracts so that small suppliers could bid. "
               "Open source code and open data standards let other councils reuse the shared platform.")


@pytest.fixture
def areas(app):
    seed.load_action_areas(SYSTEM)
    database.commit(app)


def filed(story) -> dict[str, str]:
    db.session.expire_all()
    return {link.action_area.slug: link.reason for link in db.session.scalars(
        select(StoryActionArea).where(StoryActionArea.story_id == story.id))}


def test_curator_accepts_a_suggestion_with_an_edited_reason(app, areas, client, make_user, make_story, sign_in):
    story = make_story(title="Suppliers", body=PROCUREMENT)
    sign_in(make_user("curator"))
    page = client.get(f"/curate/stories/{story.id}").get_data(as_text=True)
    assert "Suggested by kb, not yet reviewed" in page and 'id="reason-conditions"' in page
    response = client.post(f"/curate/filing/stories/{story.id}/areas/conditions",
                           data={"decision": "accept", "reason": "Procurement open to small suppliers"})
    assert response.status_code == 303 and response.location.endswith(f"/curate/stories/{story.id}#suggestions")
    assert filed(story) == {"conditions": "Procurement open to small suppliers"}
    assert 'id="reason-conditions"' not in client.get(f"/curate/stories/{story.id}").get_data(as_text=True)


def test_curator_declines_a_suggestion_and_it_is_not_shown_again(app, areas, client, make_user, make_story, sign_in):
    story = make_story(title="Suppliers", body=PROCUREMENT)
    sign_in(make_user("curator"))
    client.post(f"/curate/filing/stories/{story.id}/areas/conditions", data={"decision": "decline", "reason": "No"})
    assert filed(story) == {}
    assert 'id="reason-conditions"' not in client.get(f"/curate/stories/{story.id}").get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "decline_area")) == {
        "area": "conditions", "reason": "No"}


def test_a_contributors_suggested_area_is_accepted_in_one_click(app, areas, client, make_user, make_story, sign_in):
    story = make_story(title="Camp", status="submitted", suggested_areas=["networks"])
    sign_in(make_user("curator"))
    page = client.get(f"/curate/stories/{story.id}").get_data(as_text=True)
    assert 'id="contributor-areas"' in page
    # Publishing and the note to the contributor are separate decisions.
    assert page.index('id="publish-decision"') < page.index("Or send it back") < page.index('name="note"')
    client.post(f"/curate/filing/stories/{story.id}/areas/networks", data={"decision": "accept",
                                                                          "reason": "Suggested by the contributor"})
    assert filed(story) == {"networks": "Suggested by the contributor"}
    assert 'id="contributor-areas"' not in client.get(f"/curate/stories/{story.id}").get_data(as_text=True)


def test_curators_see_how_many_stories_are_not_yet_filed_and_readers_do_not(
        app, areas, client, make_user, make_story, sign_in):
    make_story(body=PROCUREMENT)
    make_story(body=PROCUREMENT)
    assert 'id="unfiled"' not in client.get("/").get_data(as_text=True)
    search = client.get("/search").get_data(as_text=True)
    assert "Not yet filed" not in search and "area=unfiled" not in search
    sign_in(make_user("curator"))
    assert "2 published stories are not yet filed" in client.get("/").get_data(as_text=True)
    page = client.get("/search").get_data(as_text=True)
    assert "area=unfiled" in page and "Not yet filed" in page
    assert "2 published stories are not yet filed" in client.get("/curate/filing/").get_data(as_text=True)


def test_the_not_yet_filed_filter_finds_only_unfiled_stories(app, areas, client, make_user, make_story):
    unfiled = make_story(title="Unfiled story about bins")
    make_story(title="Filed story about bins", action_areas=[{"slug": "culture", "reason": ""}])
    page = client.get("/search", query_string={"q": "bins", "area": "unfiled"}).get_data(as_text=True)
    assert unfiled.title in page and "Filed story about bins" not in page


def test_readers_never_see_suggestions_on_an_area_page(app, areas, client, make_user, make_story, sign_in):
    make_story(title="Suppliers", body=PROCUREMENT * 3)
    filing.BULK_CONFIDENCE, saved = 0.0, filing.BULK_CONFIDENCE
    try:
        assert "Suggested, not yet reviewed" not in client.get("/areas/conditions").get_data(as_text=True)
        sign_in(make_user("curator"))
        page = client.get("/areas/conditions").get_data(as_text=True)
    finally:
        filing.BULK_CONFIDENCE = saved
    assert "Suggested, not yet reviewed" in page and "Suppliers" in page
    assert "0 published stories" in page


def test_bulk_filing_from_a_search_lists_titles_with_reasons_and_files_only_the_ticked(
        app, areas, client, make_user, make_story, sign_in):
    picked = [make_story(title=f"Bins procurement {i}", body=PROCUREMENT) for i in range(3)]
    sign_in(make_user("curator"))
    chooser = client.get("/curate/bulk", query_string={"all": "1", "q": "bins", "operation": "file_suggested"})
    assert chooser.status_code == 200 and "Change 3 stories" in chooser.get_data(as_text=True)
    confirm = client.post("/curate/bulk", data={"all": "1", "q": "bins", "operation": "file_suggested",
                                                "value_area": "conditions", "confidence": "0"})
    page = confirm.get_data(as_text=True)
    assert "3 stories will change" in page and "Chosen by the search for “bins”" in page
    assert all(f'id="pick-{s.id}"' in page and s.title in page for s in picked)
    assert "confident: " in page and "open source" in page
    response = client.post("/curate/bulk/apply", data={"operation": "file_suggested", "value": "conditions",
                                                       "confidence": "0", "q": "bins",
                                                       "pick": [picked[0].id, picked[2].id]})
    assert response.status_code == 303 and response.location.endswith("/search?q=bins")
    assert [bool(filed(s)) for s in picked] == [True, False, True]
    assert "open source" in filed(picked[0])["conditions"]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "bulk_add_area")) == 1
    banner = client.get(response.location).get_data(as_text=True)
    assert "changed 2 stories" in banner


def test_bulk_tagging_confirms_with_the_same_list_and_returns_to_the_search(
        app, areas, client, make_user, make_story, sign_in):
    picked = [make_story(title=f"Allotment {i}") for i in range(2)]
    sign_in(make_user("curator"))
    page = client.post("/curate/bulk", data={"all": "1", "q": "allotment", "operation": "add_tag",
                                             "value": "Food"}).get_data(as_text=True)
    assert "2 stories will change" in page and all(f'id="pick-{s.id}"' in page for s in picked)
    response = client.post("/curate/bulk/apply", data={"operation": "add_tag", "value": "Food", "q": "allotment",
                                                       "pick": [picked[1].id]})
    assert response.location.endswith("/search?q=allotment")
    db.session.expire_all()
    assert [[t.name for t in s.tags] for s in picked] == [[], ["Food"]]


def test_the_api_gives_suggestions_to_curators_only(app, areas, client, make_user, make_story):
    story = make_story(title="Suppliers", body=PROCUREMENT)
    headers = {}
    for role in ("contributor", "curator"):
        _, plaintext = tokens.create_token(make_user(role), "tests")
        database.commit(app)
        headers[role] = {"Authorization": f"Bearer {plaintext}"}
    url = f"/api/v1/stories/{story.slug}/suggestions"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=headers["contributor"]).status_code == 403
    body = client.get(url, headers=headers["curator"]).get_json()
    assert "conditions" in [a["slug"] for a in body["areas"]] and set(body) == {"areas", "tags"}
