"""Search: the page, the query function, facets, suggestions, similar stories and feeds."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from flask import g
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb import database, search
from kb.policy import SYSTEM
from kb.services import attachments, seed, stories, tags

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def areas(app):
    seed.load_action_areas(SYSTEM)
    database.commit(app)


def titles(results):
    return [story.title for story, _ in search.load_hits(results)]


def test_search_page_finds_a_published_story_with_the_word_marked(app, client, make_story):
    make_story(title="Allotments for everyone", summary="A council opened allotments to every resident.")
    page = client.get("/search?q=allotment").get_data(as_text=True)
    assert "Allotments for everyone" in page
    assert "<mark" in page and "allotments</mark>" in page.lower()
    assert "1</strong> story found" in page


def test_readers_see_only_published_stories_and_curators_can_search_the_queue(app, client, make_story, make_user,
                                                                              sign_in):
    make_story(title="Published parking pilot")
    make_story(title="Submitted parking pilot", status="submitted")
    assert titles(search.search_stories(app, "parking")) == ["Published parking pilot"]
    assert "Submitted parking pilot" not in client.get("/search?q=parking&status=submitted").get_data(as_text=True)
    g.pop("_login_user", None)  # the test's app context outlives the request: forget the anonymous user
    sign_in(make_user("curator"))
    page = client.get("/search?q=parking&status=submitted").get_data(as_text=True)
    assert "Submitted parking pilot" in page and "Published parking pilot" not in page


def test_facet_counts_cover_the_whole_result_set_and_filters_combine(app, areas, make_story):
    for n in range(25):
        make_story(title=f"Library story {n}", kind="report" if n % 5 else "talk",
                   action_areas=["networks"] if n % 2 else ["culture"], published_on=f"20{10 + n % 3}-05-01")
    results = search.search_stories(app, "library", per_page=10)
    assert results.total == 25 and len(results.hits) == 10
    kinds = {f.value: f.count for f in results.facets["kind"]}
    assert kinds == {"report": 20, "talk": 5}
    assert {f.value: f.count for f in results.facets["year"]} == {"2010": 9, "2011": 8, "2012": 8}
    both = search.search_stories(app, "library", {"kind": ["talk"], "area": ["culture"]})
    assert both.total == 3  # n = 0, 10, 20
    assert [f.label for f in both.facets["area"]] == ["Culture, leadership and people"]


def test_selected_filters_are_shown_and_removable(app, client, areas, make_story):
    make_story(title="Ferry timetable", action_areas=["networks"])
    page = client.get("/search?q=ferry&area=networks").get_data(as_text=True)
    assert '<span class="govuk-visually-hidden">Remove filter </span>Action area: Networks that spread ideas' in page
    assert 'href="/search?q=ferry"' in page


def test_a_misspelt_word_gets_a_did_you_mean_link(app, client, make_story):
    make_story(title="Innovation in housing repairs")
    page = client.get("/search?q=innnovation").get_data(as_text=True)
    assert "Did you mean" in page
    assert 'href="/search?q=innovation"' in page
    assert "No stories matched" in page


def test_an_empty_query_lists_every_story_newest_first_with_facets(app, client, make_story):
    make_story(title="Older", published_on="2001-01-01")
    make_story(title="Newer", published_on="2020-01-01")
    make_story(title="Undated")
    results = search.search_stories(app, "")
    assert titles(results) == ["Newer", "Older", "Undated"]
    assert results.facets["year"]
    assert client.get("/search").status_code == 200


def test_sort_by_newest_orders_matches_by_date(app, make_story):
    make_story(title="Bus lanes bus lanes bus lanes", published_on="2001-01-01")
    make_story(title="Bus lanes in 2020", published_on="2020-01-01")
    assert titles(search.search_stories(app, "bus lanes", sort="newest")) == ["Bus lanes in 2020",
                                                                          "Bus lanes bus lanes bus lanes"]


def test_results_are_paged(app, client, make_story):
    for n in range(23):
        make_story(title=f"Bridge repair {n:02d}", published_on=f"2020-01-{n + 1:02d}")
    first = client.get("/search?q=bridge&sort=newest").get_data(as_text=True)
    second = client.get("/search?q=bridge&sort=newest&page=2").get_data(as_text=True)
    assert "Bridge repair 22" in first and "Bridge repair 02" not in first
    assert "Bridge repair 02" in second and "page 2 of 2" in second
    assert "Go to the first page" in client.get("/search?q=bridge&page=9").get_data(as_text=True)


def test_stories_with_every_word_and_the_phrase_rank_first(app, make_story):
    make_story(title="Both words", summary="Repairs came first; then housing, housing and housing.")
    make_story(title="Phrase", summary="We sped up housing repairs for tenants.")
    make_story(title="One word", summary="Housing, housing, housing and housing.")
    assert titles(search.search_stories(app, "housing repairs")) == ["Phrase", "Both words", "One word"]


def test_a_word_typed_twice_counts_twice(app, make_story):
    make_story(title="First", summary="Bins and recycling, recycling")
    make_story(title="Second", summary="Bins and bins and recycling")
    assert titles(search.search_stories(app, "recycling recycling bins"))[0] == "First"
    assert titles(search.search_stories(app, "bins bins recycling"))[0] == "Second"


def test_operators_quotes_and_fields_narrow_a_search(app, areas, make_story):
    make_story(title="Open data in Leeds", summary="Leeds opened its data.", tags=["Open data"])
    make_story(title="Data about parks", summary="Parks in Bristol were opened.", action_areas=["networks"])
    assert titles(search.search_stories(app, "leeds AND parks")) == []
    assert titles(search.search_stories(app, "data NOT leeds")) == ["Data about parks"]
    assert titles(search.search_stories(app, '"open data"')) == ["Open data in Leeds"]
    assert titles(search.search_stories(app, "title:parks")) == ["Data about parks"]
    assert titles(search.search_stories(app, 'tag:"open data"')) == ["Open data in Leeds"]
    assert titles(search.search_stories(app, "area:networks")) == ["Data about parks"]


def test_searches_with_operators_rank_their_matches_by_the_words(app, make_story):
    make_story(title="Few", summary="Housing news and repairs news, weekly news.")
    make_story(title="Many", summary="Housing repairs, housing repairs, more repairs.")
    make_story(title="Tenants", summary="Housing for tenants.")
    assert titles(search.search_stories(app, "housing AND repairs")) == ["Many", "Few"]
    assert titles(search.search_stories(app, "repairs NOT tenants")) == ["Many", "Few"]
    assert titles(search.search_stories(app, '"housing repairs" OR tenants'))[0] == "Tenants"


def test_every_result_in_order_is_every_page_of_the_search_in_order(app, make_story):
    for n in range(7):
        make_story(title=f"Bridge repair {n}", summary="Bridge " * (n + 1) + "repairs over the river.")
    make_story(title="Bridge draft", summary="Bridge repairs", status="submitted")
    for sort, statuses in (("relevance", ("published",)), ("newest", ("published", "submitted"))):
        pages = [search.search_stories(app, "bridge repairs", sort=sort, page=n, per_page=3, statuses=statuses)
                 for n in (1, 2, 3)]
        every = search.all_story_ids(app, "bridge repairs", sort=sort, statuses=statuses)
        assert every == [i for page in pages for i in page.story_ids] and len(every) == len(statuses) + 6


def test_search_after_search_an_edited_story_is_found_by_its_new_words_only(app, make_story):
    story = make_story(title="Leisure centre", summary="A pool with a sauna.")
    assert search.search_stories(app, "sauna").total == 1  # its words' postings are now read and kept
    stories.update_story(SYSTEM, story, {"summary": "A pool with a solar roof."})
    database.commit(app)
    assert search.search_stories(app, "sauna").total == 0
    assert search.search_stories(app, "solar AND pool").total == 1


def test_capitals_are_operators_only_between_words(app, make_story):
    make_story(title="Not in education, employment or training")
    assert titles(search.search_stories(app, "NOT IN EDUCATION")) == ["Not in education, employment or training"]
    assert search.search_stories(app, "training OR").total == 1
    assert search.search_stories(app, "AND").total == 1  # nothing to search for: everything is listed


def test_a_tag_alias_and_a_merged_tag_find_the_story(app, make_story):
    make_story(title="Tenant voice", tags=["Co-production"])
    make_story(title="Working with residents", tags=["Participation"])
    coproduction = next(t for t in stories.get_story(SYSTEM, "tenant-voice").tags)
    tags.add_alias(SYSTEM, coproduction, "Co-design")
    database.commit(app)
    assert titles(search.search_stories(app, "co-design")) == ["Tenant voice"]
    participation = next(t for t in stories.get_story(SYSTEM, "working-with-residents").tags)
    tags.merge_tags(SYSTEM, participation, coproduction)
    database.commit(app)
    assert set(titles(search.search_stories(app, "co-design"))) == {"Tenant voice", "Working with residents"}
    assert set(titles(search.search_stories(app, "participation"))) == {"Tenant voice", "Working with residents"}
    by_filter = search.search_stories(app, "", {"tag": ["participation"]})
    assert set(titles(by_filter)) == {"Tenant voice", "Working with residents"}


def test_attachment_text_is_searchable(app, make_story):
    story = make_story(title="Annual report")
    upload = attachments.store_upload(app, "minutes.txt", b"The committee approved the zebracrossing budget.")
    attachments.add_attachment(SYSTEM, stories.get_story(SYSTEM, story.slug), upload, app=app)
    database.commit(app)
    assert titles(search.search_stories(app, "zebracrossing")) == ["Annual report"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.one_of(
    st.text(max_size=300),
    st.text(alphabet='"()[]{}:*?^~+-!&|\\/ ANDORNOT<>%\'', max_size=40),
    st.sampled_from(['"unbalanced', "((a", "title:", "tag:", "AND", "a OR", "NOT", "x" * 10_000,
                     "\x00\x01\x1f", "доступность", "数据开放", "<script>alert(1)</script>",
                     "'; DROP TABLE stories; --", "a:b:c", "*", "?", "[a TO", "{x", "^2"]),
), everywhere=st.booleans())
def test_any_input_gives_a_result_page_never_an_error(seeded_app, client, q, everywhere):
    params = {"q": q}
    if everywhere:
        params.update({name: q for name in ("page", "sort", "year", "tag", "area", "org", "kind", "stage")})
    response = client.get("/search", query_string=params)
    if "\x00" in q:  # NUL is refused everywhere, with kb's own page saying why
        assert response.status_code == 400
        assert "cannot be used (NUL)" in response.get_data(as_text=True)
        return
    assert response.status_code == 200
    assert 'id="result-count"' in response.get_data(as_text=True)


def test_a_year_or_evidence_level_written_in_other_digits_is_a_value_like_any_other(app, client, make_story):
    make_story(title="Superscripts", summary="A kiosk.")
    for params in ({"year": "²⁰¹⁹"}, {"evidence": "³"}, {"q": "kiosk", "year": "٢٠١٩"}):
        response = client.get("/search", query_string=params)
        assert response.status_code == 200, params
        assert 'id="result-count"' in response.get_data(as_text=True)


def test_html_in_stories_and_queries_is_escaped(app, client, make_story):
    make_story(title="Escaping", summary="<b>bold</b> kiosk <script>x()</script>")
    page = client.get("/search?q=kiosk+<i>").get_data(as_text=True)
    assert "<script>x()" not in page and "<b>bold" not in page and "<i>" not in page


def test_story_page_shows_similar_published_stories(app, client, make_story):
    story = make_story(title="Food waste collection", summary="Weekly food waste collection for flats.")
    make_story(title="Food waste in schools", summary="Food waste collection from school kitchens.")
    make_story(title="Draft food waste", summary="Food waste collection draft.", status="draft")
    assert [s for s in search.similar_stories(app, story.id)] != []
    page = client.get(f"/stories/{story.slug}").get_data(as_text=True)
    similar = page.split("Similar stories", 1)[1]
    assert "Food waste in schools" in similar and "Draft food waste" not in similar


def test_similar_stories_rank_many_look_alikes_most_alike_first(app, make_story):
    story = make_story(title="Parklet trial", summary="A parklet on a high street, with benches and planters.")
    closest = make_story(title="Parklet trial two", summary="A parklet on a high street, with benches and planters.")
    others = [make_story(title=f"Parklet {n}", summary="A parklet on a side road.") for n in range(6)]
    make_story(title="Bus lanes", summary="Bus lanes on the ring road.")
    found = search.similar_stories(app, story.id)
    assert len(found) == 5 and found[0] == closest.id
    assert set(found[1:]) <= {other.id for other in others}


def test_similar_stories_follow_an_edit_of_a_look_alike(app, make_story):
    story = make_story(title="Food waste collection", summary="Weekly food waste collection for flats.")
    other = make_story(title="Food waste in schools", summary="Food waste collection from school kitchens.")
    assert search.similar_stories(app, story.id) == [other.id]
    stories.update_story(SYSTEM, other, {"title": "Bus lanes", "summary": "Bus lanes on the ring road."})
    database.commit(app)
    assert search.similar_stories(app, story.id) == []


def test_search_help_page_explains_the_syntax(app, client):
    page = client.get("/search/help").get_data(as_text=True)
    for example in ("&#34;open data&#34;", "AND", "NOT", "title:camp", "tag:", "org:", "area:", "kind:"):
        assert example in page or example.replace("&#34;", '"') in page


def parse_feed(response):
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        for required in ("id", "title", "updated", "link"):
            assert entry.find(f"{ATOM}{required}") is not None
    return [entry.find(f"{ATOM}title").text for entry in entries]


def test_search_feed_is_valid_atom_newest_first(app, client, make_story):
    make_story(title="Ferry old", published_on="2001-01-01")
    make_story(title="Ferry new", published_on="2021-01-01")
    make_story(title="Bus")
    assert parse_feed(client.get("/search.atom?q=ferry")) == ["Ferry new", "Ferry old"]


def test_area_tag_and_organisation_pages_link_to_valid_feeds(seeded_app, client):
    for page_url in ("/areas/networks", "/tags/scaling", "/organisations/barnsley-council"):
        page = client.get(page_url).get_data(as_text=True)
        assert f'type="application/atom+xml"' in page and f'href="{page_url}.atom"' in page
        assert parse_feed(client.get(f"{page_url}.atom"))
    assert client.get("/areas/nowhere.atom").status_code == 404
    assert client.get("/tags/nothing.atom").status_code == 404


def test_facet_values_with_equal_counts_come_in_one_order_whatever_order_they_were_counted_in(app):
    from collections import Counter

    from kb.search.results import facet_values

    counts = [("transport", 3), ("housing", 2), ("energy", 2), ("adult care", 2)]
    orders = [facet_values({"tag": Counter(dict(items))}, {})["tag"] for items in (counts, counts[::-1])]
    assert [v.value for v in orders[0]] == [v.value for v in orders[1]] == ["transport", "adult care", "energy", "housing"]


def test_similar_stories_weigh_words_as_whoosh_key_terms_do(app, make_story):
    from kb.search import postings, similar
    from kb.search.index import searcher

    texts = ["Food waste collection for flats, weekly food waste bins and composting.",
             "Food waste in schools: kitchens weigh waste and compost it.",
             "Bus lanes on the ring road and a park and ride for commuters."]
    for text in texts:  # each save a segment of its own
        make_story(title=text[:20], summary=text)
    with searcher(search.home(app)) as s:
        reader = s.reader()
        assert len(postings.leaves(reader)) > 1
        for text in texts + ["food waste food waste buses", "nothing indexed here zzz"]:
            ours = similar.key_terms(reader, postings.term_stats(reader, "content"), text, similar.SIMILAR_TERMS)
            assert ours == s.key_terms_from_text("content", text, numterms=similar.SIMILAR_TERMS)


def test_kbs_own_word_reading_makes_the_terms_its_analyzer_makes():
    from kb.search.query import stems_fast
    from kb.search.schema import STEMMED

    texts = ["Systems* and U.S.A. co-op naïve ÉCOLE don't 3.5 a I x", "What is innovation? Happily, the councils' "
             "e-government services (covid-19) improved", "İstanbul ½ ÆTHER — données ouvertes, 数据开放"]
    for text in texts:
        assert stems_fast(text) == [token.text for token in STEMMED(text)]


def test_a_snippet_comes_from_a_long_bodys_far_end_and_never_from_a_link_address():
    from kb.search.query import snippet

    body = "[The report](https://example.org/kiosk-report) " + "Filler text here. " * 5000 + "The kiosk opened in May."
    found = snippet({"kiosk"}, "A summary without it.", body)
    assert "<mark>kiosk</mark> opened" in found and "example.org" not in found
    assert snippet({"kiosk"}, "[link](https://kiosk.example.org) only") is None
    assert str(snippet({"happi"}, "<b>Happy</b> & <i>x</i>")) == "<mark>Happy</mark> &amp; x"


def test_a_search_reads_its_hits_stories_once_and_all_facet_labels_in_one_query(app, client, make_story):
    from sqlalchemy import event

    from kb.extensions import db

    make_story(title="Kiosk one", summary="A kiosk in the library.", tags=["Libraries", "Kiosks"],
               organisations=["Leeds City Council"])
    make_story(title="Kiosk two", summary="A kiosk in the town hall.", tags=["Kiosks"],
               organisations=["York Council"])
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        for address in ("/api/v1/search?q=kiosk", "/search?q=kiosk"):
            statements.clear()
            assert client.get(address).status_code == 200
            whole_rows = [s for s in statements if s.startswith("SELECT stories.id, stories.title, stories.slug, stories.kind")]
            labels = [s for s in statements if "FROM tags WHERE tags.slug IN" in s or "FROM organisations WHERE" in s]
            assert len(whole_rows) == 1, address
            assert len(labels) == 1, address
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


def test_a_phrase_or_and_reads_its_rarest_words_first_and_stops_once_nothing_is_left(app, make_story):
    """A pasted phrase of common words read every word's postings (2.3 s of CPU
    at 50,000 stories); its rarest words leave nothing here, so the common ones
    are never read, and what matches is what it was."""
    from kb.search import postings

    make_story(title="Kestrel survey", summary="The council counted birds on the common.")
    make_story(title="Heron survey", summary="The council counted birds on the river.")
    make_story(title="Council birds", summary="The council counted birds on the common and the river.")
    for q in ('"the council counted kestrel heron birds on the common"', "council AND counted AND kestrel AND heron"):
        postings.clear()
        assert search.search_stories(app, q).total == 0, q
        read = {text for (_, field, text) in postings._cache if field == "content"}
        assert read and not read & {"council", "count", "bird", "common"}, (q, read)
    assert set(titles(search.search_stories(app, '"council counted birds on the common"'))) == {"Kestrel survey",
                                                                                               "Council birds"}
    assert set(titles(search.search_stories(app, "council AND counted AND river"))) == {"Heron survey", "Council birds"}
