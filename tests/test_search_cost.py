"""Bounded cost: the worst inputs we can think of, at 5,000 stories, stay within
the bound mechanisms (words read, prefix expansions, the CPU budget). Tests
never assert on time; the CPU each search took is printed (pytest -s)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from whoosh import query as wq

from kb import create_app, database, search
from kb.search import query
from kb.search.budget import MESSAGE as BUDGET_MESSAGE

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.corpus import generate, load_into  # noqa: E402

SIZE = 5_000


@pytest.fixture(scope="module")
def big_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cost")
    app = create_app({"INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kb.sqlite3'}",
                      "TESTING": True, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        database.upgrade()
    load_into(app, generate(SIZE, seed=3))
    with app.app_context():
        search.rebuild(app)
    return app


def vocabulary(app, n: int) -> list[str]:
    """``n`` distinct indexed words, commonest first (the costliest to read)."""
    with app.app_context(), search.searcher(search.home(app)) as s:
        reader = s.reader()
        words = [t.decode() for t in reader.lexicon("words")]
        words = [w for w in words if w.isalpha() and len(w) > 3]
        return sorted(words, key=lambda w: -reader.doc_frequency("words", w))[:n]


def hostile_queries(app) -> dict[str, str]:
    common = vocabulary(app, 2_000)
    paragraph = " ".join(common)[: query.MAX_QUERY_CHARS].rsplit(" ", 1)[0]
    prefixes = " ".join(f"{w[:3]}*" for w in common)[: query.MAX_QUERY_CHARS].rsplit(" ", 1)[0]
    return {
        "lone wildcard": "*",
        "range": "[a TO z]",
        "leading wildcard": "*tion",
        "fuzzy": "council~5",
        "short prefix": "co*",
        "commonest prefixes": prefixes,
        "10,000 characters of the commonest words": paragraph,
        "10,000-character phrase": f'"{paragraph[: query.MAX_QUERY_CHARS - 2]}"',
        "OR of every common word": " OR ".join(common)[: query.MAX_QUERY_CHARS].rsplit(" ", 1)[0],
        "AND of common words": " AND ".join(common[:200]),
        "NOT alone": "NOT zzzzqx",
        "nested brackets": "(" * 3000 + "council OR data" + ")" * 3000,
        "question marks": "?" * query.MAX_QUERY_CHARS,
        "operators only": " ".join(["AND", "OR", "NOT"] * 1600)[: query.MAX_QUERY_CHARS],
        "misspellings": " ".join(w[:-1] + "qz" for w in common[:1500])[: query.MAX_QUERY_CHARS].rsplit(" ", 1)[0],
        "fields": " ".join(f"tag:{w} org:{w}* title:{w}*" for w in common)[: query.MAX_QUERY_CHARS].rsplit(" ", 1)[0],
    }


def leaf_terms(node) -> int:
    if node is None:
        return 0
    if type(node) is wq.Term:
        return 1
    if type(node) is wq.Phrase:
        return len(node.words)
    return sum(leaf_terms(child) for child in node.children())


def largest_or(node) -> int:
    if node is None or not hasattr(node, "children"):
        return 0
    here = len(node.subqueries) if isinstance(node, wq.Or) else 0
    return max([here, *(largest_or(child) for child in node.children())])


def test_the_worst_inputs_at_5000_stories_stay_within_the_bounds(big_app, capsys):
    with big_app.app_context():
        for name, q in hostile_queries(big_app).items():
            with search.searcher(search.home(big_app)) as s:
                parsed = query.parse(q, s.reader())
            assert len(q) <= query.MAX_QUERY_CHARS, name
            if parsed.words is not None:
                assert len(parsed.words) <= query.MAX_QUERY_WORDS, name
            else:
                assert leaf_terms(parsed.scoring) <= query.MAX_SYNTAX_TERMS + query.MAX_EXPANSIONS, name
            started = time.thread_time()
            with big_app.test_request_context():
                found = search.search_stories(big_app, q, per_page=20)
            spent = time.thread_time() - started
            assert found.total >= 0 and len(found.hits) <= 20, name
            with capsys.disabled():
                print(f"\n{name:<45} {spent:6.3f} s CPU, {found.total:>5} found, {leaf_terms(parsed.scoring)} words")


def test_a_prefix_expands_to_at_most_the_commonest_words_with_a_message(big_app):
    with big_app.app_context(), search.searcher(search.home(big_app)) as s:
        parsed = query.parse("con*", s.reader())
        expansions = [t for t in s.reader().expand_prefix("content", "con")]
    assert len(expansions) > query.MAX_EXPANSIONS  # the cap matters here
    assert largest_or(parsed.scoring) == query.MAX_EXPANSIONS
    assert "only the 50 commonest" in parsed.message
    assert query.parse("co*", None).words == {"co": 1}  # two letters: text


def test_a_long_paragraph_keeps_its_most_distinctive_words_with_a_message(big_app):
    words = vocabulary(big_app, 300)
    with big_app.app_context(), search.searcher(search.home(big_app)) as s:
        parsed = query.parse(" ".join(words), s.reader())
        rarest = min(s.reader().doc_frequency("content", w) for w in parsed.words)
    assert len(parsed.words) == query.MAX_QUERY_WORDS and "most distinctive" in parsed.message
    dropped = set(query.stems(" ".join(words))) - set(parsed.words)
    with big_app.app_context(), search.searcher(search.home(big_app)) as s:
        assert all(s.reader().doc_frequency("content", w) >= rarest for w in dropped)


def test_a_search_past_its_cpu_budget_returns_what_it_has_with_a_message(big_app):
    client = big_app.test_client()
    big_app.config["SEARCH_CPU_BUDGET"] = 1e-9
    try:
        response = client.get("/search", query_string={"q": "council community data services"})
        with big_app.test_request_context():
            found = search.search_stories(big_app, "council community data services")
    finally:
        big_app.config["SEARCH_CPU_BUDGET"] = 0.8
    assert response.status_code == 200 and BUDGET_MESSAGE.split(",")[0] in response.get_data(as_text=True)
    assert BUDGET_MESSAGE in found.message


class _RunsOutAfter(search.Budget):
    """A budget that runs out at its ``checks``-th check: where a search is cut
    short, decided by count instead of the machine's speed."""

    def __init__(self, checks: int):
        super().__init__(None)
        self.left = checks

    def over(self) -> bool:
        self.left -= 1
        self.spent = self.spent or self.left < 0
        return self.spent


@pytest.mark.parametrize("q", ["council AND community AND data AND services",
                               "council AND NOT (community OR data OR services)",
                               "NOT (community OR data OR services)"])
def test_a_search_cut_short_by_its_budget_finds_fewer_stories_never_others(big_app, q):
    with big_app.app_context(), search.searcher(search.home(big_app)) as s:
        parsed = query.parse(q, s.reader())
        universe = set(range(s.reader().doc_count_all()))
        matching = search._tree_docs(s, parsed.scoring, universe, search.Budget(None))
        assert matching
        for checks in range(6):
            cut = search._tree_docs(s, parsed.scoring, universe, _RunsOutAfter(checks))
            assert cut <= matching, (checks, len(cut - matching))
