"""What makes two stories near-duplicates, defined once: the same title and the
same organisations once the title is normalised (``title_key``). Search folds
such stories together in its results (``kb.search.results.collapsed``), and an
import flags a record whose key a story already has, for curators to merge."""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable

_NOT_WORDS = re.compile(r"[\W_]+")


def normal_text(text: str) -> str:
    """Text reduced to its words: lower case, accents dropped ("Cafés" is
    "cafes"), punctuation and runs of spaces as one space."""
    letters = (text or "").lower()
    if not letters.isascii():  # most text is: search folds a page of results per request
        letters = "".join(c for c in unicodedata.normalize("NFKD", letters) if not unicodedata.combining(c))
    return " ".join(_NOT_WORDS.sub(" ", letters).split())


def title_key(title: str, organisations: Iterable) -> tuple:
    """The near-duplicate key of a story: its normalised title and its
    organisations (ids or slugs, in any order, each once)."""
    return normal_text(title), tuple(sorted(set(organisations)))
