"""Merging tags: the target is found by name among the tags, and a
confirmation page states what the merge will change before it happens."""
from __future__ import annotations

import re

from kb import database
from kb.policy import SYSTEM
from kb.services import tags


def setup_tags(make_story):
    make_story(title="One", tags=["Localgov", "Local government"])
    make_story(title="Two", tags=["Localgov"])
    make_story(title="Three", tags=["Local government"])
    for n in range(60):
        tags.create_tag(SYSTEM, f"Topic {n:02d}")
    source, target = tags.Tag.by_slug("localgov"), tags.Tag.by_slug("local-government")
    tags.add_alias(SYSTEM, source, "LG")
    return source, target


def test_the_tag_page_offers_a_search_not_a_list_of_every_tag(app, client, make_story, make_user, sign_in):
    source, _ = setup_tags(make_story)
    database.commit(app)
    sign_in(make_user("curator"))
    page = client.get(f"/curate/tags/{source.id}").get_data(as_text=True)
    assert "<select" not in page and "Topic 59" not in page
    assert f'action="/curate/tags/{source.id}/merge"' in page and 'name="q"' in page


def test_finding_the_target_lists_matching_tags_but_not_the_tag_itself(app, client, make_story, make_user, sign_in):
    source, target = setup_tags(make_story)
    database.commit(app)
    sign_in(make_user("curator"))
    page = client.get(f"/curate/tags/{source.id}/merge?q=local").get_data(as_text=True)
    links = re.findall(r'href="(/curate/tags/\d+/merge\?target=\d+[^"]*)">Merge into “([^”]+)”', page)
    assert [name for _, name in links] == ["Local government"]
    many = client.get(f"/curate/tags/{source.id}/merge?q=topic").get_data(as_text=True)
    assert "50+ tags match" in many and many.count(">Merge into “Topic") == 50


def test_the_confirmation_states_what_will_change_and_changes_nothing(app, client, make_story, make_user, sign_in):
    source, target = setup_tags(make_story)
    database.commit(app)
    sign_in(make_user("curator"))
    page = client.get(f"/curate/tags/{source.id}/merge?target={target.id}").get_data(as_text=True)
    assert "Merge “Localgov” into “Local government”?" in page
    assert "tag 1 story “Local government” instead of “Localgov” (1 more already carries both" in page
    assert "make “Localgov” and its aliases (LG) aliases of “Local government”" in page
    assert "/tags/localgov to /tags/local-government" in page
    assert f'<input type="hidden" name="target" value="{target.id}">' in page
    assert tags.Tag.by_slug("localgov").merged_into_id is None


def test_choosing_the_tag_itself_is_an_error_at_the_search_field(app, client, make_story, make_user, sign_in):
    source, _ = setup_tags(make_story)
    database.commit(app)
    sign_in(make_user("curator"))
    response = client.get(f"/curate/tags/{source.id}/merge?target={source.id}&q=local")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<a href="#q">Choose a different tag to merge into.</a>' in page
    assert 'aria-describedby="q-error"' in page


def test_a_contributor_cannot_see_the_merge_pages(app, client, make_story, make_user, sign_in):
    source, target = setup_tags(make_story)
    database.commit(app)
    sign_in(make_user())
    assert client.get(f"/curate/tags/{source.id}/merge?q=local").status_code == 403
    assert client.get(f"/curate/tags/{source.id}/merge?target={target.id}").status_code == 403
