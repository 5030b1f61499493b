"""Reading the search parameters of a request, shared by the search page,
the API and the story page's way back to its search."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl

from flask import current_app, request, url_for

from kb import search
from kb.errors import Busy, NotFound
from kb.search import budget
from kb.services import search_texts

SEARCH_PARAMS = ("q", "qt", *search.FILTERS, "sort", "page", "status")
UNKNOWN_SEARCH_LINK = ("This search link names a search kb no longer holds. "
                       "Search again with the words you were looking for.")


def query_text(args) -> str:
    """The query of these parameters: ``q``, or the long text that ``qt`` names.

    :raise NotFound: if ``qt`` names no text kb holds.
    """
    if args.get("q") or not args.get("qt"):
        return args.get("q", "")
    found = search_texts.text_for(args.get("qt"))
    if not found:
        raise NotFound(UNKNOWN_SEARCH_LINK)
    return found


def link_args(args) -> list[tuple[str, str]]:
    """These parameters for a link, a long query replaced by its key (``qt``)."""
    pairs = [(k, v) for k, v in args.items(multi=True)]
    q = args.get("q", "")
    key = (search_texts.key_for(q, current_app.config["SEARCH_TEXTS_KEEP"])
           if len(q) > search_texts.LINK_QUERY_CHARS else None)
    if key:
        pairs = [(k, v) for k, v in pairs if k not in ("q", "qt")] + [("qt", key)]
    return pairs


def search_args() -> dict:
    """The search parameters of this request, as the search function takes them."""
    args = request.args
    return {
        "q": query_text(args),
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


@contextmanager
def bounded_search(q: str):
    """Run a search in this block within the bounds its cost calls for: a costly
    one (wildcards, ranges, very long text) takes one of ``SEARCH_COSTLY_SLOTS``
    places on this node, with a smaller CPU allowance, so that several at once
    cannot starve other pages.

    :raise Busy: (429) if every place is taken.
    """
    if not budget.is_costly(q):
        yield
        return
    with budget.costly_slot(Path(current_app.instance_path), current_app.config["SEARCH_COSTLY_SLOTS"]) as placed:
        if not placed:
            raise Busy(budget.BUSY_MESSAGE)
        yield
