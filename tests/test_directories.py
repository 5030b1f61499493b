"""A to Z indexes of organisations, tags and people: counts of published
stories, a box to find a name, a letter to narrow by, and pages."""
from __future__ import annotations

import re

from kb.policy import SYSTEM
from kb.services import listing, tags


def text(response) -> str:
    return response.get_data(as_text=True)


def entries(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<li><a class="govuk-link" href="[^"]+">([^<]+)</a> <span class="kb-muted">\((\d+) stor', page)


def test_organisations_are_listed_a_to_z_with_their_published_story_counts(app, client, make_story):
    make_story(title="One", organisations=["Zeta Council", "Alpha Trust"])
    make_story(title="Two", organisations=["alpha trust"])
    make_story(title="Draft", status="draft", organisations=["Beta Borough", "Alpha Trust"])
    page = text(client.get("/organisations"))
    assert entries(page) == [("Alpha Trust", "2"), ("Zeta Council", "1")]
    assert '<a class="govuk-link" href="/organisations/alpha-trust">Alpha Trust</a>' in page
    assert "2 organisations" in page


def test_people_and_tags_have_indexes_and_merged_tags_are_left_out(app, client, make_story):
    make_story(title="One", people=["Ada Lovelace"], tags=["Open data", "Opendata"])
    make_story(title="Two", people=["Ada Lovelace", "9 Volt"], tags=["Open data"])
    tags.merge_tags(SYSTEM, tags.Tag.by_slug("opendata"), tags.Tag.by_slug("open-data"))
    from kb import database
    database.commit(app)
    assert entries(text(client.get("/people"))) == [("9 Volt", "1"), ("Ada Lovelace", "2")]
    assert entries(text(client.get("/tags"))) == [("Open data", "2")]


def test_the_index_is_filtered_by_name_or_by_first_letter(app, client, make_story):
    make_story(title="One", organisations=["Alpha Trust", "Beta Borough", "100% Council", "Alphabet_soup"])
    assert entries(text(client.get("/organisations?q=ALPHA"))) == [("Alpha Trust", "1"), ("Alphabet_soup", "1")]
    assert entries(text(client.get("/organisations?q=%25"))) == [("100% Council", "1")]
    assert entries(text(client.get("/organisations?q=a_p"))) == []
    assert entries(text(client.get("/organisations?letter=B"))) == [("Beta Borough", "1")]
    assert entries(text(client.get("/organisations?letter=0-9"))) == [("100% Council", "1")]
    page = text(client.get("/organisations"))
    assert 'href="/organisations?letter=B"' in page
    assert '<span class="kb-a-to-z__empty">C<span class="govuk-visually-hidden"> (none)</span></span>' in page


def test_a_long_index_comes_in_pages(app, client, make_story):
    make_story(title="Many", people=[f"Person {i:03d}" for i in range(70)])
    first, second = text(client.get("/people")), text(client.get("/people?page=2"))
    assert len(entries(first)) == 60 and len(entries(second)) == 10
    assert entries(second)[0] == ("Person 060", "1")
    assert "page 1 of 2" in first and 'href="/people?page=2"' in first
    assert listing.directory("people", page=2).pages == 2
