"""The search page for readers: filters behind a control with selected filters
as removable tags, every value of a long facet, the way back from a story to
the search, and a page that explains following a search."""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from kb import search


def text(response) -> str:
    return response.get_data(as_text=True)


def many_organisations(make_story, n: int = 30):
    for i in range(n):
        make_story(title=f"Library hub {i:02d}", organisations=[f"Borough Council {i:02d}"])


def test_count_and_selected_filters_come_before_the_filters_and_the_filters_are_collapsible(app, client, make_story):
    many_organisations(make_story, 3)
    page = text(client.get("/search?q=library&org=borough-council-01"))
    count, tags, control, results = (page.index(marker) for marker in (
        'id="result-count"', 'kb-selected-filters"', "<summary", 'id="results"'))
    assert count < tags < control < results
    assert re.search(r'<details class="kb-filters[^"]*" id="filters" data-kb-filters>\s*'
                     r'<summary class="kb-filters__toggle">Filter results', page)
    assert '<script type="module" src="/static/search-filters.js"></script>' in page
    assert '<span class="govuk-visually-hidden">Remove filter </span>Organisation: Borough Council 01' in page


def test_a_long_facet_offers_every_value_on_a_page_of_its_own(app, client, make_story):
    many_organisations(make_story)
    page = text(client.get("/search?q=library"))
    assert len(re.findall(r'href="/search\?q=library&amp;org=borough-council-\d\d"', page)) == search.FACET_LIMIT
    link = re.search(r'<a class="govuk-link" href="([^"]+)">Show all 30<', page)
    assert link and unescape(link.group(1)) == "/search/facets/org?q=library"

    every = text(client.get("/search/facets/org?q=library"))
    assert len(re.findall(r'href="/search\?q=library&amp;org=borough-council-\d\d"', every)) == 30
    assert "30 organisation values" in every


def test_the_facet_page_finds_a_value_by_name_and_keeps_the_search(app, client, make_story):
    many_organisations(make_story)
    page = text(client.get("/search/facets/org?q=library&kind=case_study&within=council 2"))
    links = re.findall(r'href="(/search\?[^"]+)">Borough Council', page)
    assert len(links) == 10  # 20-29
    assert parse_qs(urlsplit(unescape(links[0])).query) == {"q": ["library"], "kind": ["case_study"],
                                                             "org": ["borough-council-20"]}
    assert 'name="q" value="library"' in page and 'name="kind" value="case_study"' in page


def test_an_unknown_facet_is_not_found(app, client):
    assert client.get("/search/facets/colour").status_code == 404


def test_story_links_from_a_search_lead_back_to_it(app, client, make_story):
    story = make_story(title="Library hub", organisations=["Borough Council"], kind="talk")
    page = text(client.get("/search?q=library&kind=talk&page=1"))
    href = unescape(re.search(r'href="(/stories/library-hub[^"]*)"', page).group(1))
    assert href == "/stories/library-hub?search=q%3Dlibrary%26kind%3Dtalk%26page%3D1"

    story_page = text(client.get(href))
    crumb = re.search(r'<a class="govuk-breadcrumbs__link" href="([^"]+)">Search</a>', story_page)
    assert unescape(crumb.group(1)) == "/search?q=library&kind=talk&page=1"
    assert f'<link rel="canonical" href="http://localhost/stories/{story.slug}">' in story_page


def test_the_way_back_keeps_only_search_parameters(app, client, make_story):
    make_story(title="Library hub")
    page = text(client.get("/stories/library-hub?search=q%3Dx%26next%3Dhttps%3A%2F%2Fevil.example"))
    crumb = re.search(r'<a class="govuk-breadcrumbs__link" href="([^"]+)">Search</a>', page)
    assert unescape(crumb.group(1)) == "/search?q=x"
    plain = text(client.get("/stories/library-hub"))
    assert '<a class="govuk-breadcrumbs__link" href="/search">Search</a>' in plain


def test_the_follow_link_explains_feeds_and_gives_the_address_to_copy(app, client, make_story):
    make_story(title="Library hub", kind="talk")
    page = text(client.get("/search?q=library&kind=talk&sort=newest"))
    link = unescape(re.search(r'href="([^"]+)">Follow this search<', page).group(1))
    assert link == "/search/follow?q=library&kind=talk"

    follow = text(client.get(link))
    assert "<h1 class=\"govuk-heading-xl\">Follow this search</h1>" in follow
    assert "feed reader" in follow
    address = unescape(re.search(r'id="feed-url" type="text" value="([^"]+)" readonly', follow).group(1))
    assert address == "http://localhost/search.atom?q=library&kind=talk"
    assert client.get(address).mimetype == "application/atom+xml"


def test_tag_organisation_and_area_pages_link_to_the_follow_page_not_raw_xml(app, client, make_story):
    from kb.policy import SYSTEM
    from kb.services import seed

    seed.load_action_areas(SYSTEM)
    make_story(title="Library hub", tags=["Open data"], organisations=["Leeds"], action_areas=["networks"])
    for url, param in (("/tags/open-data", "tag=open-data"), ("/organisations/leeds", "org=leeds"),
                       ("/areas/networks", "area=networks")):
        page = text(client.get(url))
        assert f'href="/search/follow?{param}">Follow' in page and '.atom">Atom feed' not in page
    follow = text(client.get("/search/follow?tag=open-data"))
    assert "Stories, tag: Open data, as they are published." in follow
    assert 'value="http://localhost/search.atom?tag=open-data" readonly' in follow


def test_links_to_the_results_page_are_the_addresses_url_for_builds(app):
    """Facet, sort and paging links are built without url_for per link, to the same address."""
    from flask import url_for

    from kb.web.search import search_url

    query = "q=caf%C3%A9+%26+bar%2Fbaz%3A+%22x%22&area=culture&tag=a+b&tag=c%2Bd&page=3&sort=newest"
    with app.test_request_context("/search?" + query):
        for changes, drop in (({}, ()), ({"tag": "e/f?"}, ()), ({"sort": None}, ()), ({"q": "new & 'old'"}, ()),
                              ({"page": "2"}, [("tag", "a b")]), ({"area": None, "tag": None}, ())):
            built = search_url(drop=drop, **changes)
            path, _, query_string = built.partition("?")
            assert path == url_for("search.results")
            pairs = parse_qs(query_string, keep_blank_values=True)
            again = url_for("search.results", **{k: v[0] if len(v) == 1 else v for k, v in pairs.items()})
            assert built == again
        assert search_url(area=None, tag=None, q=None, sort=None) == url_for("search.results")
