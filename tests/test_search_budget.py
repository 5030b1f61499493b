"""What counts as a costly search, and the node's places for them."""
from __future__ import annotations

from kb.search import budget


def test_prefixes_and_pasted_paragraphs_are_costly_and_text_the_parser_reads_plainly_is_not():
    for q in ("cou*", "title:dig*", "open dat* AND health", "a" * 400, "council data " * 30):
        assert budget.is_costly(q), q
    for q in ("open data", "what is agile procurement?", "", "health and social care", "TOP", "*", "d?ta",
              "[a TO z]", "{2021}", "Back TO work", "what?? why", "x " * 30, "in*"):
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
