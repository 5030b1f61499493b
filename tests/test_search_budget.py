"""What counts as a costly search, and the node's places for them."""
from __future__ import annotations

from kb.search import budget


def test_wildcards_ranges_and_very_long_queries_are_costly_and_questions_are_not():
    for q in ("*", "co*", "d?ta", "[a TO z]", "{a TO z}", "x " * 30, "a" * 400):
        assert budget.is_costly(q), q
    for q in ("open data", "what is agile procurement?", "", "health and social care", "TOP"):
        assert not budget.is_costly(q), q


def test_a_place_is_held_until_released_and_lowers_the_budget(tmp_path):
    with budget.costly_slot(tmp_path, 1) as first:
        assert first
        assert budget.Budget(0.8).seconds == budget.COSTLY_SECONDS
        assert budget.Budget().seconds == budget.COSTLY_SECONDS
        with budget.costly_slot(tmp_path, 1) as second:
            assert not second
        with budget.costly_slot(tmp_path, 2) as other:
            assert other
    assert budget.Budget(0.8).seconds == 0.8
    with budget.costly_slot(tmp_path, 1) as again:
        assert again
