"""Bulk curation: add or remove a tag or an action area on many stories after
a confirmation that says how many will change."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from kb import search
from kb.extensions import db
from kb.models import AuditEvent, Revision
from kb.policy import SYSTEM
from kb.services import review, seed


def some_stories(make_story, n, **fields):
    return [make_story(title=f"Bulk story {i} about bins", **fields) for i in range(n)]


def test_confirmation_states_how_many_stories_will_change(app, client, make_user, make_story, sign_in):
    picked = some_stories(make_story, 3)
    make_story(title="Already tagged", tags=["Waste"])
    already = make_story(title="Also tagged", tags=["Waste"])
    sign_in(make_user("curator"))
    ids = [s.id for s in picked] + [already.id]
    chooser = client.get("/curate/bulk", query_string={"story": ids}).get_data(as_text=True)
    assert "Change 4 stories" in chooser
    confirm = client.post("/curate/bulk", data={"story": ids, "operation": "add_tag", "value": "waste"})
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "3 stories will change" in page and "1 of the 4 selected already have it" in page
    assert not db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("bulk%")))


def test_applying_the_bulk_change_tags_each_story_with_a_revision_and_one_audit_event(
        app, client, make_user, make_story, sign_in):
    picked = some_stories(make_story, 4)
    curator = sign_in(make_user("curator"))
    ids = ",".join(str(s.id) for s in picked)
    response = client.post("/curate/bulk/apply", data={"ids": ids, "operation": "add_tag", "value": "Waste"})
    assert response.status_code == 303
    db.session.expire_all()
    assert all([t.name for t in s.tags] == ["Waste"] for s in picked)
    assert all(db.session.scalar(select(Revision.reason).where(Revision.story_id == s.id)
                                 .order_by(Revision.number.desc()).limit(1)) == "Bulk change: Add the tag “Waste”"
               for s in picked)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "bulk_add_tag"))
    assert event.actor_id == curator.id and event.detail["stories"] == 4
    assert set(search.search_stories(app, "tag:waste", per_page=50).story_ids) == {s.id for s in picked}


def test_bulk_remove_an_action_area_and_add_one_with_a_reason(app, make_story):
    seed.load_action_areas(SYSTEM)
    picked = some_stories(make_story, 3, action_areas=["culture"])
    ids = [s.id for s in picked]
    review.apply_bulk_change(SYSTEM, ids, "remove_area", "culture")
    review.apply_bulk_change(SYSTEM, ids, "add_area", "networks", reason="Spread through camps")
    db.session.expire_all()
    assert all([(l.action_area.slug, l.reason) for l in s.area_links] == [("networks", "Spread through camps")]
               for s in picked)


def test_all_results_of_a_search_can_be_selected(app, client, make_user, make_story, sign_in):
    matching = some_stories(make_story, 3)
    make_story(title="Something about parks")
    sign_in(make_user("curator"))
    page = client.get("/curate/bulk", query_string={"q": "bins", "all": "1"}).get_data(as_text=True)
    assert "Change 3 stories" in page and "Every result of the search for “bins”" in page
    confirm = client.post("/curate/bulk", data={"q": "bins", "all": "1", "operation": "add_tag", "value": "Waste"})
    assert "3 stories will change" in confirm.get_data(as_text=True)
    assert {s.id for s in matching} == set(review.search_result_ids(SYSTEM, "bins", {}))


def test_bulk_change_needs_a_choice_and_a_value(app, client, make_user, make_story, sign_in):
    picked = some_stories(make_story, 1)
    sign_in(make_user("curator"))
    response = client.post("/curate/bulk", data={"story": [picked[0].id], "operation": "add_tag", "value": ""})
    assert response.status_code == 422 and "Enter the tag to add." in response.get_data(as_text=True)
    assert client.post("/curate/bulk", data={"story": [picked[0].id], "operation": "", "value": "x"}).status_code == 422


def test_contributor_cannot_change_stories_in_bulk(app, client, make_user, make_story, sign_in):
    picked = some_stories(make_story, 1)
    sign_in(make_user())
    assert client.post("/curate/bulk/apply", data={"ids": str(picked[0].id), "operation": "add_tag",
                                                   "value": "x"}).status_code == 403


def test_curators_select_search_results_for_a_bulk_change_and_readers_do_not(app, client, make_user, make_story,
                                                                               sign_in):
    chosen = some_stories(make_story, 2, summary="Allotment sharing scheme.")
    reader_page = client.get("/search?q=allotment").get_data(as_text=True)
    assert 'name="story"' not in reader_page and "/curate/bulk" not in reader_page
    sign_in(make_user("curator"))
    page = client.get("/search?q=allotment").get_data(as_text=True)
    for story in chosen:
        assert f'name="story" type="checkbox" value="{story.id}"' in page
    assert "/curate/bulk?all=1&amp;q=allotment" in page
    confirm = client.get("/curate/bulk?all=1&q=allotment").get_data(as_text=True)
    assert "2 stories" in confirm


def test_the_empty_bulk_form_preselects_no_area_and_says_only_what_is_missing(app, client, make_user, make_story,
                                                                               sign_in):
    picked = some_stories(make_story, 1)
    sign_in(make_user("curator"))
    form = client.get("/curate/bulk", query_string={"story": picked[0].id}).get_data(as_text=True)
    assert '<option value="" selected>Choose an action area</option>' in form
    assert not re.search(r'<option value="[a-z]+" selected>', form)

    empty = client.post("/curate/bulk", data={"story": [picked[0].id]})
    page = empty.get_data(as_text=True)
    assert empty.status_code == 422
    assert "Choose what to change." in page and "action area to" not in page and "Enter the tag" not in page

    no_area = client.post("/curate/bulk", data={"story": [picked[0].id], "operation": "add_area", "value_area": ""})
    page = no_area.get_data(as_text=True)
    assert '<a href="#value_area">Choose the action area to add.</a>' in page
    assert '<p id="value_area-error" class="govuk-error-message">' in page
    assert 'aria-describedby="value_area-error"' in page
