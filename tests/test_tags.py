"""The tag vocabulary: usage counts, create, rename, merge, aliases, descriptions,
delete, near-duplicates; search and tag addresses keep up with every change."""
from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import select

from kb import database, search
from kb.errors import Conflict, Forbidden, Invalid
from kb.extensions import db
from kb.models import AuditEvent, Tag
from kb.policy import SYSTEM
from kb.services import tags, taxonomy


def tagged(make_story, n, *names, **fields):
    return [make_story(title=f"{names[0]} story {i}", tags=list(names), **fields) for i in range(n)]


def found_ids(text: str) -> set[int]:
    return set(search.search_stories(current_app, text, per_page=100).story_ids)


def test_vocabulary_page_lists_tags_with_usage_counts_and_filters(app, client, make_user, make_story, sign_in):
    tagged(make_story, 2, "Open data")
    make_story(status="draft", title="Draft", tags=["Open data", "Parking"])
    sign_in(make_user("curator"))
    page = client.get("/curate/tags").get_data(as_text=True)
    usage = {u.tag.name: (u.stories, u.published) for u in tags.list_tags(SYSTEM)}
    assert usage == {"Open data": (3, 2), "Parking": (1, 0)}
    assert "Open data" in page and "Parking" in page
    filtered = client.get("/curate/tags?q=park").get_data(as_text=True)
    assert "Parking" in filtered and "Open data" not in filtered


def test_curator_creates_a_tag_and_a_duplicate_name_is_refused(app, client, make_user, sign_in):
    sign_in(make_user("curator"))
    assert client.post("/curate/tags", data={"name": "Digital inclusion"}).status_code == 303
    again = client.post("/curate/tags", data={"name": "digital  inclusion"})
    assert again.status_code == 422
    assert "already the tag" in again.get_data(as_text=True)
    assert client.post("/curate/tags", data={"name": " "}).status_code == 422


def test_contributor_cannot_create_or_rename_tags(app, make_user):
    contributor = make_user()
    with pytest.raises(Forbidden):
        tags.create_tag(contributor, "Mine")
    tag = tags.create_tag(SYSTEM, "Theirs")
    with pytest.raises(Forbidden):
        tags.rename_tag(contributor, tag, "Renamed")


def test_rename_redirects_the_old_address_and_search_finds_the_new_name(app, client, make_user, make_story, sign_in):
    stories_ = tagged(make_story, 2, "Local gov")
    tag = taxonomy.find_tag("Local gov")
    sign_in(make_user("curator"))
    response = client.post(f"/curate/tags/{tag.id}/rename", data={"name": "Local government"})
    assert response.status_code == 303
    old = client.get("/tags/local-gov")
    assert old.status_code == 301 and old.headers["Location"].endswith("/tags/local-government")
    assert {s.id for s in stories_} <= found_ids("tag:local-government")
    assert {s.id for s in stories_} <= found_ids("\"Local government\"")
    assert search.verify(app).clean
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "rename_tag")).detail["from"] == "Local gov"


def test_rename_to_another_tags_name_is_refused(app, make_story):
    tagged(make_story, 1, "Bins", "Waste")
    with pytest.raises(Conflict):
        tags.rename_tag(SYSTEM, taxonomy.find_tag("Bins"), "waste")


def test_merge_moves_stories_keeps_the_name_as_alias_and_redirects(app, client, make_user, make_story, sign_in):
    only_a = tagged(make_story, 2, "Localgov")
    both = make_story(title="Both", tags=["Localgov", "Local government"])
    only_b = tagged(make_story, 1, "Local government")
    source, target = taxonomy.find_tag("Localgov"), taxonomy.find_tag("Local government")
    sign_in(make_user("curator"))
    response = client.post(f"/curate/tags/{source.id}/merge", data={"target": target.id})
    assert response.status_code == 303
    db.session.expire_all()
    for story in only_a + [both] + only_b:
        assert [t.name for t in story.tags] == ["Local government"]
    assert "Localgov" in [a.name for a in target.aliases]
    redirect = client.get("/tags/localgov")
    assert redirect.status_code == 301 and redirect.headers["Location"].endswith("/tags/local-government")
    assert {s.id for s in only_a + [both] + only_b} <= found_ids("localgov")
    assert search.verify(app).clean


def test_merging_into_itself_or_into_a_merged_tag_is_refused(app, make_story):
    tagged(make_story, 1, "A", "B", "C")
    a, b, c = (taxonomy.find_tag(n) for n in "ABC")
    with pytest.raises(Invalid):
        tags.merge_tags(SYSTEM, a, a)
    tags.merge_tags(SYSTEM, a, b)
    with pytest.raises(Invalid):
        tags.merge_tags(SYSTEM, c, a)


def test_a_chain_of_merges_redirects_to_the_last_survivor(app, client, make_story):
    tagged(make_story, 1, "One", "Two", "Three")
    one, two, three = (taxonomy.find_tag(n) for n in ("One", "Two", "Three"))
    tags.merge_tags(SYSTEM, one, two)
    tags.merge_tags(SYSTEM, two, three)
    database.commit(app)
    assert client.get("/tags/one").headers["Location"].endswith("/tags/three")
    assert {a.name for a in three.aliases} >= {"One", "Two"}


def test_the_names_of_some_tags_are_those_read_with_every_tag(app, make_story):
    """A sync of a few stories reads their tags' names (merged tags' included), not the vocabulary's."""
    from kb.search.schema import tag_names

    tagged(make_story, 1, "One", "Two", "Three", "Four", "Five")
    one, two, three, four, five = (taxonomy.find_tag(n) for n in ("One", "Two", "Three", "Four", "Five"))
    tags.merge_tags(SYSTEM, one, two)
    tags.merge_tags(SYSTEM, two, three)
    tags.merge_tags(SYSTEM, four, three)
    tags.add_alias(SYSTEM, five, "Cinq")
    database.commit(app)
    every = tag_names()
    assert set(every[three.id]) >= {"Three", "One", "Two", "Four"}
    for some in ({three.id}, {two.id}, {one.id, five.id}, {two.id, three.id}, set()):
        assert tag_names(some) == {i: every[i] for i in every if i in tag_names(some)}
        assert set(tag_names(some)) >= some
        assert all(tag_names(some)[i] == every[i] for i in some)


def test_alias_is_found_by_search_and_resolves_when_tagging(app, client, make_user, make_story, sign_in):
    stories_ = tagged(make_story, 2, "Artificial intelligence")
    tag = taxonomy.find_tag("Artificial intelligence")
    sign_in(make_user("curator"))
    assert client.post(f"/curate/tags/{tag.id}/aliases", data={"alias": "AI"}).status_code == 303
    assert {s.id for s in stories_} <= found_ids("ai")
    assert taxonomy.find_tag("ai") == tag
    assert search.verify(app).clean
    alias = tag.aliases[0]
    assert client.post(f"/curate/tags/{tag.id}/aliases/{alias.id}/delete").status_code == 303
    assert taxonomy.find_tag("ai") is None
    assert search.verify(app).clean


def test_alias_that_names_another_tag_is_refused(app, client, make_user, make_story, sign_in):
    tagged(make_story, 1, "Housing", "Homes")
    sign_in(make_user("curator"))
    response = client.post(f"/curate/tags/{taxonomy.find_tag('Housing').id}/aliases", data={"alias": "homes"})
    assert response.status_code == 422


def test_description_is_shown_on_the_tag_page(app, client, make_user, make_story, sign_in):
    tagged(make_story, 1, "Scaling")
    tag = taxonomy.find_tag("Scaling")
    sign_in(make_user("curator"))
    client.post(f"/curate/tags/{tag.id}/description", data={"description": "Taking an idea from one place to many."})
    assert "Taking an idea from one place to many." in client.get("/tags/scaling").get_data(as_text=True)


def test_only_an_unused_tag_can_be_deleted(app, client, make_user, make_story, sign_in):
    tagged(make_story, 1, "In use")
    unused = tags.create_tag(SYSTEM, "Unused")
    database.commit(app)
    used = taxonomy.find_tag("In use")
    sign_in(make_user("curator"))
    refused = client.post(f"/curate/tags/{used.id}/delete")
    assert refused.status_code == 422 and "merge it into another tag" in refused.get_data(as_text=True)
    assert client.post(f"/curate/tags/{unused.id}/delete").status_code == 303
    assert db.session.scalar(select(Tag).where(Tag.name == "Unused")) is None


@pytest.mark.parametrize("a, b", [
    ("Local Gov", "local-gov"), ("Local Gov", "localgov"), ("Council", "councils"),
    ("Library", "Libraries"), ("Open  Data", "open_data"), ("Café", "cafe"),
])
def test_names_that_differ_only_in_case_spacing_punctuation_or_plural_fold_alike(a, b):
    assert tags.fold(a) == tags.fold(b)


@pytest.mark.parametrize("a, b", [("Data", "Date"), ("Local", "Vocal"), ("Local Gov", "Local Government")])
def test_different_words_do_not_fold_alike(a, b):
    assert tags.fold(a) != tags.fold(b)


def test_near_duplicate_finder_offers_the_merge(app, client, make_user, make_story, sign_in):
    tagged(make_story, 2, "Local Gov")
    tagged(make_story, 1, "local-gov")  # the same slug: already the same tag
    tagged(make_story, 1, "localgov")
    tagged(make_story, 1, "Local govs")
    tagged(make_story, 1, "Housing")
    sign_in(make_user("curator"))
    groups = tags.near_duplicates(SYSTEM)
    assert [[(u.tag.name, u.stories) for u in g] for g in groups] == [
        [("Local Gov", 3), ("Local govs", 1), ("localgov", 1)]]
    page = client.get("/curate/tags/duplicates").get_data(as_text=True)
    assert "Merge “localgov” (1) into “Local Gov” (3)" in page
    source = taxonomy.find_tag("localgov")
    client.post(f"/curate/tags/{source.id}/merge", data={"target": taxonomy.find_tag("Local Gov").id})
    assert [[u.tag.name for u in g] for g in tags.near_duplicates(SYSTEM)] == [["Local Gov", "Local govs"]]
