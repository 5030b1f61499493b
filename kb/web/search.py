"""The search page, its help page, and Atom feeds of searches, areas, tags and organisations."""
from __future__ import annotations

from datetime import datetime, time, timezone

from feedgen.feed import FeedGenerator
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from kb import policy, search
from kb.errors import NotFound
from kb.models import Organisation
from kb.services import listing, taxonomy
from kb.web.hooks import actor
from kb.web.params import SEARCH_PARAMS, bounded_search, link_args, search_args

bp = Blueprint("search", __name__)

FEED_SIZE = 20
FACET_PAGE_SIZE = 50
FACET_TITLES = {"area": "Action area", "kind": "Kind", "tag": "Tag", "org": "Organisation",
                "year": "Year", "stage": "Stage", "evidence": "Evidence level", "place": "Place"}
# Filters that take one value: choosing another replaces it.
SINGLE_VALUE_FILTERS = ("evidence",)
# What url_for leaves unescaped in a query string (Werkzeug's choice, after the URL standard).
QUERY_SAFE = "!$'()*,/:;?@"


def visible_statuses() -> tuple[str, ...]:
    """The statuses this request may search (``status`` is heeded for curators only)."""
    return policy.visible_statuses(actor(), request.args.getlist("status"))


def search_url(endpoint: str = "search.results", drop=(), **changes) -> str:
    """This search's address with some parameters changed (a value of None removes it).

    ``drop`` is a list of (name, value) pairs to remove one filter value. A long
    query is carried by its key (``qt``), unless the change gives another query.
    """
    args: dict[str, list] = {}
    for name, value in (request.args.items(multi=True) if "q" in changes else _link_args()):
        args.setdefault(name, []).append(value)
    if "q" in changes:
        args.pop("qt", None)
    args.pop("page", None)
    for name, value in drop:
        args[name] = [v for v in args.get(name, []) if v != value]
    for name, value in changes.items():
        if value is None:
            args.pop(name, None)
        elif name in search.FILTERS and name not in SINGLE_VALUE_FILTERS:
            args[name] = [v for v in args.get(name, []) if v != value] + [value]
        else:
            args[name] = [value]
    if endpoint == "search.results":
        # A page has a link per facet value: the path is built once per request, the query as url_for would.
        query = urlencode([(k, v) for k, values in args.items() for v in values], safe=QUERY_SAFE)
        return _once_per_request("results_path", lambda: url_for(endpoint)) + ("?" + query if query else "")
    # A single value unwrapped, so that it can also fill a path part (a facet's name).
    return url_for(endpoint, **{k: v[0] if len(v) == 1 else v for k, v in args.items() if v})


def _unfiled_for_curators(found):
    """The area facet's "Not yet filed" value is curators' work: readers do not see it."""
    if not policy.can_view_suggestions(actor()) and "area" in found.facets:
        found.facets["area"] = [v for v in found.facets["area"] if v.value != search.UNFILED]
    return found


@bp.get("/search")
def results():
    """Search results with facets, snippets, suggestions and pages. Any input gives a page:
    a query longer than kb reads gives the form again with a message (400)."""
    args = search_args()
    length = len(search.clean_query(args["q"], limit=None))
    if length > search.MAX_QUERY_CHARS:
        return render_template("search/too_long.html", length=length, limit=search.MAX_QUERY_CHARS,
                               text=search.clean_query(args["q"])), 400
    with bounded_search(args["q"]):
        found = _unfiled_for_curators(search.search_stories(
            current_app, args["q"], args["filters"], args["sort"], args["page"], per_page=_per_page(),
            statuses=visible_statuses(), collapse=True))
    return render_template(
        "search/results.html",
        results=found,
        hits=listing.search_hits(found),
        facet_titles=FACET_TITLES,
        search_url=search_url,
        selected=_selected_filters(found),
        facet_limit=search.FACET_LIMIT,
        back=search_back_arg(),
    )


def search_back_arg() -> str:
    """This search's parameters as one value, for story links to carry back to it."""
    args = [(k, v) for k, v in _link_args() if k in SEARCH_PARAMS and v]
    return urlencode(args)


@bp.app_template_global("search_page_url")
def search_page_url(number: int) -> str:
    """This search's address at another page (a long query by its key)."""
    return search_url(page=str(number))


@bp.app_template_global("search_link_args")
def search_link_args() -> str:
    """This request's parameters for a link (a long query by its key), URL-encoded."""
    return urlencode(_link_args())


def _link_args() -> list[tuple[str, str]]:
    return _once_per_request("link_args", lambda: link_args(request.args))


def _once_per_request(name: str, make):
    """``make()``, kept for the rest of this request (in its WSGI environ: ``g``
    lasts as long as the app context, which a test may hold across requests)."""
    key = f"kb.{name}"
    if key not in request.environ:
        request.environ[key] = make()
    return request.environ[key]


@bp.get("/search/facets/<name>")
def facet(name: str):
    """Every value of one facet for this search, filterable by name, in pages.

    :raise 404: if there is no such facet.
    """
    if name not in FACET_TITLES:
        raise NotFound("There is no such filter.")
    args = search_args()
    with bounded_search(args["q"]):
        found = _unfiled_for_curators(search.search_stories(
            current_app, args["q"], args["filters"], page=1, per_page=1, snippets=False, suggest=False,
            statuses=visible_statuses(), full_facet=name))
    within = request.args.get("within", "").strip()[:200]
    values = [v for v in found.facets.get(name, []) if within.casefold() in v.label.casefold()]
    if name != "year":
        values.sort(key=lambda v: (-v.count, v.label.casefold()))
    number = max(1, request.args.get("page", 1, type=int) or 1)
    start = (number - 1) * FACET_PAGE_SIZE
    return render_template(
        "search/facet.html", name=name, title=FACET_TITLES[name], results=found, within=within,
        values=values[start:start + FACET_PAGE_SIZE], total=len(values), page=number,
        pages=max(1, -(-len(values) // FACET_PAGE_SIZE)),
        search_url=search_url,
    )


@bp.get("/search/follow")
def follow():
    """How to follow this search (or a tag, area or organisation as a filter):
    what a feed is, and its address to copy; email alerts after sign-in."""
    args = search_args()
    with bounded_search(args["q"]):
        found = search.search_stories(current_app, args["q"], args["filters"], "newest", 1, per_page=1,
                                      snippets=False, suggest=False)
    feed_url = request.host_url.rstrip("/") + search_url("search.feed", sort=None, within=None)
    return render_template("search/follow.html", results=found, selected=_selected_filters(found),
                           feed_url=feed_url, search_page=search_url(within=None),
                           save_url=search_url("saved_searches.new", sort=None, within=None))


@bp.get("/search/help")
def help():
    """How to search: natural language, quotes, operators and fields."""
    return render_template("search/help.html")


@bp.get("/search.atom")
def feed():
    """This search's newest stories as an Atom feed (same parameters as /search)."""
    args = search_args()
    with bounded_search(args["q"]):
        found = search.search_stories(current_app, args["q"], args["filters"], "newest", 1, per_page=FEED_SIZE,
                                      snippets=False, suggest=False)
    title = f"kb search: {found.query}" if found.query else "kb: newest stories"
    return atom(title, request.host_url.rstrip("/") + search_url(), found)


@bp.get("/areas/<slug>.atom")
def area_feed(slug: str):
    """The newest stories in one action area as an Atom feed.

    :raise 404: if there is no such area.
    """
    area = taxonomy.get_action_area(slug)
    return _filter_feed(f"kb: {area.name}", url_for("public.area", slug=slug, _external=True), "area", slug)


@bp.get("/tags/<slug>.atom")
def tag_feed(slug: str):
    """The newest stories with one tag as an Atom feed; an alias or merged tag redirects.

    :raise 404: if no tag or alias has this slug.
    """
    tag = taxonomy.tag_at(slug)
    if tag.slug != slug:
        return redirect(url_for("search.tag_feed", slug=tag.slug), 301)
    return _filter_feed(f"kb: {tag.name}", url_for("public.tag", slug=slug, _external=True), "tag", slug)


@bp.get("/organisations/<slug>.atom")
def organisation_feed(slug: str):
    """The newest stories from one organisation as an Atom feed.

    :raise 404: if there is no such organisation.
    """
    organisation = taxonomy.get_by_slug(Organisation, slug)
    page_url = url_for("public.organisation", slug=slug, _external=True)
    return _filter_feed(f"kb: {organisation.name}", page_url, "org", slug)


def _filter_feed(title: str, page_url: str, name: str, value: str):
    found = search.search_stories(current_app, "", {name: [value]}, "newest", 1, per_page=FEED_SIZE,
                                  snippets=False, suggest=False)
    return atom(title, page_url, found)


def atom(title: str, page_url: str, found) -> Response:
    """An Atom document of the results' stories, newest first."""
    fg = FeedGenerator()
    fg.id(request.url)
    fg.title(title)
    fg.link(href=request.url, rel="self", type="application/atom+xml")
    fg.link(href=page_url, rel="alternate", type="text/html")
    fg.language("en")
    fg.author({"name": "kb"})
    stories = [story for story, _ in listing.search_hits(found)]
    updated = [_updated(story) for story in stories]
    fg.updated(max(updated) if updated else datetime(2000, 1, 1, tzinfo=timezone.utc))
    for story in reversed(stories):  # feedgen puts the last added first
        entry = fg.add_entry()
        link = url_for("public.story", slug=story.slug, _external=True)
        entry.id(link)
        entry.title(story.title)
        entry.link(href=link, rel="alternate", type="text/html")
        entry.summary(story.summary or story.title)
        entry.updated(_updated(story))
        if story.published_on:
            entry.published(datetime.combine(story.published_on, time(), tzinfo=timezone.utc))
        for organisation in story.organisations:
            entry.author(name=organisation.name)
    return Response(fg.atom_str(pretty=True), mimetype="application/atom+xml")


def _updated(story) -> datetime:
    value = story.updated_at or story.created_at
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _per_page() -> int:
    return current_app.config["PAGE_SIZE"]


def _selected_filters(found) -> list[dict]:
    """The filters in force, each with a label and the address without it."""
    labels = {name: {v.value: v.label for v in values} for name, values in found.facets.items()}
    return [
        {"name": name, "title": FACET_TITLES[name], "label": labels.get(name, {}).get(value, value),
         "remove_url": search_url(drop=[(name, value)])}
        for name, values in found.filters.items()
        for value in values
    ]


@bp.app_template_global("similar_stories")
def similar_story_rows(story, limit: int = 5) -> list:
    """Published stories most like ``story``, for its page."""
    return listing.similar_stories(story, limit)
