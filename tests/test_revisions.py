"""Revisions: history (who, when, what, why), a field-level diff between any two, restore."""
from __future__ import annotations

import pytest

from kb import database
from kb.errors import Forbidden, NotFound
from kb.extensions import db
from kb.policy import SYSTEM
from kb.services import restore, revisions, seed, stories


def edited(app, make_story):
    seed.load_action_areas(SYSTEM)
    story = make_story(title="Waste collection", summary="Line one.\nLine two.", tags=["Bins"],
                       action_areas=[{"slug": "culture", "reason": "People first."}])
    stories.update_story(SYSTEM, story, {"summary": "Line one.\nLine 2, changed.", "tags": ["Bins", "Recycling"],
                                         "place": "The Weald"}, reason="Fixed the summary")
    database.commit(app)
    return story


def test_field_diff_shows_lines_list_items_and_values(app, make_story):
    story = edited(app, make_story)
    numbers = [r.number for r in revisions.list_revisions(SYSTEM, story)]
    changes = {c.field: c for c in revisions.compare(SYSTEM, story, numbers[1], numbers[0])}
    assert set(changes) == {"summary", "tags", "place"}
    assert ("-", "Line two.") in changes["summary"].lines and ("+", "Line 2, changed.") in changes["summary"].lines
    assert ("\u0020", "Line one.") in changes["summary"].lines
    assert changes["tags"].added == ["Recycling"] and changes["tags"].removed == []
    assert (changes["place"].before, changes["place"].after) == ("", "The Weald")


def test_history_page_lists_who_when_what_and_why(app, client, make_user, make_story, sign_in):
    story = edited(app, make_story)
    sign_in(make_user("curator"))
    page = client.get(f"/curate/stories/{story.id}/revisions").get_data(as_text=True)
    assert "Fixed the summary" in page
    assert "Summary, Place, Tags" in page
    assert "System" in page


def test_diff_page_between_two_revisions(app, client, make_user, make_story, sign_in):
    story = edited(app, make_story)
    last = revisions.list_revisions(SYSTEM, story)[0].number
    sign_in(make_user("curator"))
    page = client.get(f"/curate/stories/{story.id}/revisions/compare?from=1&to={last}").get_data(as_text=True)
    assert "Line 2, changed." in page and "Recycling" in page and "The Weald" in page
    assert client.get(f"/curate/stories/{story.id}/revisions/compare?from=1&to=999").status_code == 404
    assert client.get(f"/curate/stories/{story.id}/revisions/compare?from=x").status_code == 404


def test_restore_brings_back_an_earlier_revision_as_a_new_revision(app, client, make_user, make_story, sign_in):
    story = edited(app, make_story)
    before = revisions.list_revisions(SYSTEM, story)
    sign_in(make_user("curator"))
    response = client.post(f"/curate/stories/{story.id}/revisions/1/restore")
    assert response.status_code == 303
    db.session.expire_all()
    assert story.summary == "Line one.\nLine two." and story.place == ""
    assert [t.name for t in story.tags] == ["Bins"]
    assert [(link.action_area.slug, link.reason) for link in story.area_links] == [("culture", "People first.")]
    assert story.status == "published"
    after = revisions.list_revisions(SYSTEM, story)
    assert len(after) == len(before) + 1 and after[0].reason == "Restored revision 1"


def test_contributor_cannot_restore_or_see_others_history(app, client, make_user, make_story, sign_in):
    owner, other = make_user(), make_user()
    story = make_story(owner, status="draft")
    with pytest.raises(Forbidden):
        restore.restore_revision(owner, story, 1)
    with pytest.raises(Forbidden):
        revisions.list_revisions(other, story)
    sign_in(owner)
    assert client.post(f"/curate/stories/{story.id}/revisions/1/restore").status_code == 403


def test_unknown_revision_is_not_found(app, make_story):
    story = make_story()
    with pytest.raises(NotFound):
        revisions.get_revision(SYSTEM, story, 42)


def test_revision_page_offers_restore_and_shows_the_difference(app, client, make_user, make_story, sign_in):
    story = edited(app, make_story)
    sign_in(make_user("curator"))
    page = client.get(f"/curate/stories/{story.id}/revisions/1").get_data(as_text=True)
    assert "Restore revision 1" in page and "The Weald" in page
