"""Details readers notice: the favicon on every page and for pages that are
not HTML, and a mix of sources among the home page's latest stories."""
from __future__ import annotations

import re

from kb.services import listing


def text(response) -> str:
    return response.get_data(as_text=True)


def test_favicon_ico_is_served_for_browsers_that_ask_for_it(app, client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/vnd.microsoft.icon"
        assert response.data[:4] == b"\x00\x00\x01\x00"


def test_every_kind_of_page_links_icons_that_exist(app, client, make_story, make_user, sign_in):
    story = make_story(title="Library hub", organisations=["Leeds"], tags=["Open data"])
    sign_in(make_user("curator"))
    pages = ["/", "/search?q=library", f"/stories/{story.slug}", "/organisations", "/tags/open-data",
             "/search/follow", "/account", "/curate/", "/curate/tags", "/no-such-page"]
    for url in pages:
        page = text(client.get(url))
        icons = re.findall(r'<link rel="(?:icon|apple-touch-icon)" href="([^"]+)"', page)
        assert len(icons) == 3, url
        for icon in icons:
            with client.get(icon) as response:
                assert response.status_code == 200, (url, icon)


def test_latest_stories_mix_sources(app, make_story):
    for day in range(1, 9):
        make_story(title=f"18F story {day}", published_on=f"2024-03-{day + 10:02d}", source="18f",
                   source_id=str(day))
    make_story(title="Older IPS story", published_on="2023-01-01", source="ips-explorer", source_id="1")
    make_story(title="Written here", published_on="2022-06-01")
    latest = [s.title for s in listing.latest_stories(limit=6)]
    # two from each source, topped up with the newest of the rest, shown newest first
    assert latest == ["18F story 8", "18F story 7", "18F story 6", "18F story 5", "Older IPS story", "Written here"]
    assert [s.title for s in listing.latest_stories(limit=3)] == ["18F story 8", "18F story 7", "Older IPS story"]


def test_home_page_shows_the_mix(app, client, make_story):
    for day in range(1, 9):
        make_story(title=f"18F story {day}", published_on=f"2024-03-{day + 10:02d}", source="18f",
                   source_id=str(day))
    make_story(title="Older IPS story", published_on="2023-01-01", source="ips-explorer", source_id="1")
    assert "Older IPS story" in text(client.get("/"))
