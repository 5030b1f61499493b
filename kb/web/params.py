"""Reading the search parameters of a request, shared by the search page,
the API and the story page's way back to its search."""
from __future__ import annotations

from urllib.parse import parse_qsl

from flask import request, url_for

from kb import search

SEARCH_PARAMS = ("q", *search.FILTERS, "sort", "page", "status")


def search_args() -> dict:
    """The search parameters of this request, as the search function takes them."""
    args = request.args
    return {
        "q": args.get("q", ""),
        "filters": {name: args.getlist(name) for name in search.FILTERS},
        "sort": args.get("sort", "relevance"),
        "page": args.get("page", 1),
    }


def search_from(value: str | None) -> str:
    """The search page's address from a story link's ``search`` value; the plain
    search page when there is none. Only search parameters are kept."""
    args: dict[str, list[str]] = {}
    for name, item in parse_qsl(value or "", keep_blank_values=False):
        if name in SEARCH_PARAMS:
            args.setdefault(name, []).append(item[:500])
    return url_for("search.results", **args)
