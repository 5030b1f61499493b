"""Reading what people type: natural language unless the syntax is unmistakable,
questions, punctuation, pasted paragraphs of any length, through the app and
through a real `kb serve`."""
from __future__ import annotations

import html
import re
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb import search
from kb.search import query
from kb.search.schema import FIELD_ALIASES
from servers import get, kb_server, raw_request


def titles(results):
    return [story.title for story, _ in search.load_hits(results)]


def ids(results):
    return results.story_ids


# Questions and punctuation -----------------------------------------------------

def test_a_question_finds_the_stories_the_same_words_find(seeded_app):
    plain = search.search_stories(seeded_app, "what is innovation", per_page=100)
    assert plain.total > 0
    for question in ("what is innovation?", "What is innovation ?!", "(what is innovation?)", "what's innovation?"):
        asked = search.search_stories(seeded_app, question, per_page=100)
        assert ids(asked) == ids(plain), question


def test_punctuation_is_text_inside_and_between_words(app, make_story):
    make_story(title="E-government in Kent", summary="Online forms replaced paper.")
    make_story(title="Covid-19 recovery", summary="Local shops reopened.")
    make_story(title="Budget: a citizens' view", summary="Residents chose where money went.")
    assert titles(search.search_stories(app, "e-government?")) == ["E-government in Kent"]
    assert titles(search.search_stories(app, "covid-19 recovery (2021)!")) == ["Covid-19 recovery"]
    assert titles(search.search_stories(app, "budget: citizens'")) == ["Budget: a citizens' view"]
    assert set(titles(search.search_stories(app, "shops/paper"))) == {"E-government in Kent", "Covid-19 recovery"}
    assert search.search_stories(app, "[kent TO recovery]").total == 2  # brackets and TO are text


def test_syntax_applies_only_when_unmistakable(app, make_story):
    make_story(title="Parks in Bristol", summary="Green spaces kept open.")
    make_story(title="Libraries", summary="Bristol parks hosted reading groups; innovation in lending.")
    assert titles(search.search_stories(app, "title:parks")) == ["Parks in Bristol"]
    assert search.search_stories(app, "note: parks").total == 2  # not a known field: words
    assert titles(search.search_stories(app, "innov*")) == ["Libraries"]
    assert "no words" in search.search_stories(app, "in*").message  # two letters: text, and "in" is a common word
    assert search.search_stories(app, "*").total == 2  # no words: every story listed
    assert search.search_stories(app, "parks AND lending").total == 1
    assert search.search_stories(app, "parks and lending").total == 2  # lower case: a word
    assert search.search_stories(app, "PARKS AND LENDING").total == 2  # all capitals: words


def test_a_query_mixing_prose_and_syntax_keeps_both(app, make_story):
    make_story(title="Open data in Leeds", summary="Leeds opened its data.")
    make_story(title="Parks", summary="A park in Bristol, where data was open to all.")
    make_story(title="Leeds libraries", summary="Reading groups.")
    found = search.search_stories(app, 'libraries "open data"')
    assert set(titles(found)) == {"Open data in Leeds", "Leeds libraries"}
    assert search.search_stories(app, 'bristol title:leeds').total == 3


def test_brackets_group_words_only_around_operators(app, make_story):
    make_story(title="Housing repairs", summary="Faster repairs.")
    make_story(title="Homes", summary="Repairs to homes.")
    make_story(title="Housing", summary="New housing.")
    assert set(titles(search.search_stories(app, "(housing OR homes) AND repairs"))) == {"Housing repairs", "Homes"}
    assert search.search_stories(app, "(housing) homes").total == 3


# Properties of the parser --------------------------------------------------------

_WORDS = st.from_regex(r"[a-z]{1,9}", fullmatch=True).filter(lambda w: w not in FIELD_ALIASES)
_SEPARATORS = st.sampled_from([" ", "? ", "! ", " (", ") ", ": ", " - ", "-", "/", "'", ", ", "?", " ) ", ":"])


@settings(max_examples=200, deadline=None)
@given(words=st.lists(_WORDS, min_size=1, max_size=12), separators=st.lists(_SEPARATORS, min_size=12, max_size=12),
       end=st.sampled_from(["", "?", "!", "?!", ")", "."]))
def test_punctuation_between_words_changes_nothing(words, separators, end):
    plain = query.parse(" ".join(words))
    text = "".join(word + separator for word, separator in zip(words, separators))[:-1] + end
    punctuated = query.parse(text)
    assert punctuated.words == plain.words
    assert punctuated.message == plain.message


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=200), st.text(alphabet='"()[]{}:*?^~+-!&|\\/ ANDORNOTtitle<>%\'ab', max_size=60)))
def test_any_text_is_read_without_error(text):
    parsed = query.parse(text)
    assert isinstance(parsed.message, str)
    assert parsed.is_empty or parsed.terms or parsed.rank_words is None or parsed.words is None
    assert query.parse(text + "?").words == (parsed.words if parsed.words is not None else query.parse(text + "?").words)


# Length -------------------------------------------------------------------------

def paragraph(chars: int) -> str:
    """A pasted paragraph of exactly ``chars`` characters, some of them not ASCII."""
    text = ("Participatory budgeting in Málaga and Łódź: residents' assemblies chose "
            "where the council's money went (see the 2019 evaluation?). ")
    out = (text * (chars // len(text) + 1))[:chars]
    return out[:-1] + "x" if out.endswith(" ") else out


def test_a_long_query_is_read_whole_up_to_the_limit(app, client, make_story):
    make_story(title="Participatory budgeting", summary="Residents chose where money went.")
    long = paragraph(search.MAX_QUERY_CHARS)
    assert len(long) == search.MAX_QUERY_CHARS
    found = search.search_stories(app, long)
    assert found.query == long and titles(found) == ["Participatory budgeting"] and "long" not in found.message
    response = client.get("/search", query_string={"q": long})
    assert response.status_code == 200 and "Participatory budgeting" in response.get_data(as_text=True)


def test_a_long_query_is_written_once_in_its_page_and_its_links_carry_a_short_key(app, client, make_story,
                                                                                   monkeypatch):
    # Pages and direct searches compared whole: no CPU allowance cuts either short on a busy machine.
    from kb.search import budget

    app.config["SEARCH_CPU_BUDGET"] = None
    monkeypatch.setattr(budget, "COSTLY_SECONDS", None)
    for n in range(25):  # two pages of results, with tags, kinds and years to filter by
        make_story(title=f"Participatory budgeting {n}", summary="Residents chose where the money went.",
                   tags=[f"Budget {n % 3}"], kind="report" if n % 2 else "talk")
    long = paragraph(search.MAX_QUERY_CHARS)
    page = client.get("/search", query_string={"q": long}).get_data(as_text=True)
    assert html.unescape(page).count(long) == 1  # in the search box only
    assert len(page.encode()) < 80_000  # it was over 400 KB with the query in every link
    facet_link = html.unescape(re.search(r'href="(/search\?[^"]*tag=budget-1[^"]*)"', page).group(1))
    assert "qt=" in facet_link and "q=" not in facet_link.replace("qt=", "")
    filtered = client.get(facet_link).get_data(as_text=True)
    assert _count(filtered) == len(search.search_stories(app, long, {"tag": ["budget-1"]}, per_page=50).hits) > 0
    assert long in html.unescape(filtered)  # the box still holds the whole query
    next_page = html.unescape(re.search(r'href="(/search\?[^"]*page=2[^"]*)"', page).group(1))
    assert _story_links(client.get(next_page).get_data(as_text=True)) == [
        f"/stories/{story.slug}" for story, _ in search.load_hits(search.search_stories(app, long, page=2))]


def test_a_query_past_the_limit_gets_a_page_saying_so_with_the_text_kept(app, client):
    response = client.get("/search", query_string={"q": paragraph(search.MAX_QUERY_CHARS + 500)})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "govuk-error-summary" in page and 'href="#search-q"' in page
    assert f"is {search.MAX_QUERY_CHARS + 500:,} characters long" in page
    kept = re.search(r'<textarea[^>]*id="search-q"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert len(kept) > 9_000 and kept.startswith("Participatory budgeting in M")


def test_a_long_query_gets_its_page_while_the_database_is_locked_for_writing(app, client, make_story):
    make_story(title="Participatory budgeting", summary="Residents chose where money went.")
    long = paragraph(2_000)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with _write_lock(url, "search_texts"):
        response = client.get("/search", query_string={"q": long})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "Participatory budgeting" in page
    assert "qt=" not in page and "?q=Participatory" in page  # the links carry the text itself


def test_at_most_the_newest_long_search_texts_are_kept_and_an_old_link_says_it_is_not_known(app, client, make_story):
    from sqlalchemy import func, select

    from kb.extensions import db
    from kb.models import SearchText

    make_story(title="Participatory budgeting", summary="Residents chose where money went.")
    app.config["SEARCH_TEXTS_KEEP"] = 3
    links = []
    for n in range(6):
        page = client.get("/search", query_string={"q": paragraph(600) + f" number{n}"}).get_data(as_text=True)
        links.append(html.unescape(re.search(r'href="(/search\?[^"]*qt=[^"]*)"', page).group(1)))
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(SearchText)) == 3
    answers = [client.get(link) for link in links]
    assert answers[-1].status_code == 200 and "number5" in html.unescape(answers[-1].get_data(as_text=True))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 404, 404, 404]
    gone = next(a for a in answers if a.status_code == 404).get_data(as_text=True)
    assert "govuk-heading" in gone and "search" in gone.lower()


def _write_lock(url: str, table: str):
    """Another connection holding the write lock (SQLite's database, or PostgreSQL's table)."""
    from contextlib import contextmanager

    from sqlalchemy import create_engine, text

    @contextmanager
    def held():
        engine = create_engine(url)
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.begin()
                connection.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
            try:
                yield
            finally:
                connection.rollback()
        engine.dispose()
    return held()


def test_a_search_link_whose_text_kb_does_not_hold_says_so(app, client):
    response = client.get("/search", query_string={"qt": "0123456789abcdef01234567"})
    assert response.status_code == 404
    assert "names a search kb no longer holds" in response.get_data(as_text=True)


# Through the real server ---------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with kb_server(tmp_path_factory.mktemp("served")) as base:
        yield base


def _count(page: str) -> int:
    return int(re.search(r'id="result-count"[^>]*>\s*<strong>([\d,]+)</strong>', page).group(1).replace(",", ""))


def _story_links(page: str) -> list[str]:
    return re.findall(r'href="(/stories/[^"?]+)', page.split('id="result-count"', 1)[1])


def test_a_10000_character_query_gives_results_through_gunicorn(served):
    long = paragraph(search.MAX_QUERY_CHARS)
    url = served + "/search?" + urllib.parse.urlencode({"q": long})
    assert len(url) > 8190  # longer than any request line gunicorn accepts with a number
    status, page = get(url)
    assert status == 200 and _count(page) > 0
    assert len(page.encode()) < 80_000  # links carry the query by a short key, not whole
    link = html.unescape(re.search(r'href="(/search\?[^"]*qt=[^"]*)"', page).group(1))
    status, linked = get(served + link)  # any worker reads the key's text from the database
    assert status == 200 and long in html.unescape(linked)


def test_past_the_limit_gunicorn_passes_the_request_and_kb_answers_with_its_page(served):
    status, page = get(served + "/search?" + urllib.parse.urlencode({"q": paragraph(40_000)}))
    assert status == 400 and "govuk-error-summary" in page and "40,000 characters long" in page


def test_headers_too_large_for_gunicorn_get_a_kb_page_not_a_bare_one(served):
    answer = raw_request(served, b"GET / HTTP/1.1\r\nHost: x\r\nCookie: " + b"a" * 200_000 + b"\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431")
    assert b"govuk-template" in body and b"Your request was too long" in body


def test_a_question_finds_the_same_stories_through_gunicorn(served):
    plain = get(served + "/search?q=what+is+innovation")[1]
    asked = get(served + "/search?q=what+is+innovation%3F")[1]
    assert _count(plain) > 0 and _count(asked) == _count(plain)
    assert _story_links(asked) == _story_links(plain)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.one_of(
    st.text(max_size=300),
    st.text(alphabet='"()[]{}:*?^~+-!&|\\/ ANDORNOT<>%\'', max_size=40),
    st.lists(st.sampled_from(["what", "is", "innovation", "council", "data", "open", "?", "title:", "tag:x",
                              "AND", "NOT", "(", ")", '"', "inno*", "*", "a:b"]), max_size=12).map(" ".join),
))
def test_any_input_gives_a_page_through_gunicorn_and_a_question_mark_changes_nothing(served, q):
    status, page = get(served + "/search?" + urllib.parse.urlencode({"q": q}))
    if "\x00" in q:  # NUL is refused everywhere, with kb's own page saying why
        assert status == 400 and "cannot be used (NUL)" in page
        return
    assert status == 200 and 'id="result-count"' in page
    plain = query.parse(q)
    if plain.words is not None:  # natural language: the same question with "?" finds the same stories
        asked = get(served + "/search?" + urllib.parse.urlencode({"q": q + "?"}))[1]
        assert _count(asked) == _count(page) and _story_links(asked) == _story_links(page)


# Near-duplicates ------------------------------------------------------------------

def test_near_duplicates_show_as_one_result_with_the_others_to_expand(app, client, make_story):
    for n in range(3):
        make_story(title=f"Citizens' assembly on climate{'!' if n else ''}", organisations=["Camden Council"],
                   summary=f"Record {n}: residents met over four weekends.")
    make_story(title="Citizens assembly on climate", organisations=["Leeds City Council"],
               summary="Another council, its own assembly.")
    body = "A climate jury of fifty residents chose the borough's carbon plan, weekend after weekend. " * 3
    make_story(title="Climate jury", summary="A citizens' jury.", body=body)
    make_story(title="Copy of the climate jury", summary="A citizens' jury.", body=body + " Copied.")
    found = search.search_stories(app, "citizens assembly climate", collapse=True)
    assert found.total == 6
    assert sorted(len(hit.similar) for hit in found.hits) == [0, 1, 2]
    page = client.get("/search?q=citizens+assembly+climate").get_data(as_text=True)
    assert "2 similar stories" in page and "1 similar story" in page
    assert search.search_stories(app, "citizens assembly climate").total == len(search.search_stories(app, 
        "citizens assembly climate").hits) == 6  # without collapse (API, exports): every story
