"""Readers: the public pages show published stories and nothing else."""
import re

from kb import database
from kb.policy import SYSTEM
from kb.services import stories


def test_home_lists_the_four_action_areas_with_counts(seeded_app, client):
    page = client.get("/").get_data(as_text=True)
    for name in ("Conditions for scaling", "Culture, leadership and people",
                 "Networks that spread ideas", "Appraisal and evaluation"):
        assert name in page
    assert "4 stories" in page  # networks: the report, Ken Eastwood and the two reading lists


def test_home_links_to_every_seed_story(seeded_app, client):
    page = client.get("/").get_data(as_text=True)
    for slug in ("scaling-up-innovation-in-the-public-sector", "ken-eastwood-on-localgovcamp",
                 "what-ive-been-reading-bookmarks-on-pinboard", "bookmarks-for-april-6th-through-april-27th"):
        assert f"/stories/{slug}" in page


def test_story_page_shows_links_organisations_people_areas_with_reasons_and_tags(seeded_app, client):
    page = client.get("/stories/scaling-up-innovation-in-the-public-sector").get_data(as_text=True)
    assert "Executive summary of the report (PDF)" in page
    assert "The full report (PDF)" in page
    assert "/organisations/department-for-business-innovation-and-skills" in page
    assert "/people/dave-briggs" in page
    assert "Asks for appraisal and evaluation to make the business case for scaling." in page
    assert "/tags/scaling" in page


def test_draft_story_is_a_404_to_readers(app, client, make_story):
    draft = make_story(status="draft", title="Secret plan")
    response = client.get(f"/stories/{draft.slug}")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_unknown_address_is_the_404_page(app, client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_area_page_lists_only_published_stories(seeded_app, client, make_story):
    make_story(status="submitted", title="Waiting for review", action_areas=["culture"])
    page = client.get("/areas/culture").get_data(as_text=True)
    assert "Ken Eastwood on LocalGovCamp" in page
    assert "Waiting for review" not in page


def test_area_page_paginates(app, client, make_story):
    from kb.services import seed

    seed.load_action_areas(SYSTEM)
    for n in range(23):
        make_story(title=f"Paged story {n:02d}", action_areas=["evaluation"], published_on=f"2020-01-{n + 1:02d}")
    first = client.get("/areas/evaluation").get_data(as_text=True)
    second = client.get("/areas/evaluation?page=2").get_data(as_text=True)
    assert "Paged story 22" in first and "Paged story 02" not in first
    assert "Paged story 02" in second and "page 2 of 2" in second


def test_story_body_markdown_is_rendered_and_sanitised(app, client, make_story):
    story = make_story(body="**Bold** <script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>")
    page = client.get(f"/stories/{story.slug}").get_data(as_text=True)
    assert "<strong>Bold</strong>" in page
    assert "<script>alert(1)" not in page
    assert 'href="javascript:' not in page
    assert "onerror" not in page


def test_a_story_body_is_rendered_once_per_text_and_an_edit_shows_at_once(app, client, make_story):
    from kb.extensions import db
    from kb.markdown import RENDERED_MAX_CHARS, render_markdown
    from kb.policy import SYSTEM
    from kb.services import stories

    story = make_story(body="First *version* of the body")
    assert "<em>version</em>" in client.get(f"/stories/{story.slug}").get_data(as_text=True)
    assert render_markdown("First *version* of the body") is render_markdown("First *version* of the body")
    stories.update_story(SYSTEM, story, {"body": "Second **version** of the body"})
    db.session.commit()
    page = client.get(f"/stories/{story.slug}").get_data(as_text=True)
    assert "<strong>version</strong>" in page and "First" not in page
    long = "word " * (RENDERED_MAX_CHARS // 5 + 1)
    assert render_markdown(long) == render_markdown(long) and render_markdown(long) is not render_markdown(long)


def test_organisation_and_person_pages(seeded_app, client):
    org = client.get("/organisations/barnsley-council").get_data(as_text=True)
    assert "Ken Eastwood on LocalGovCamp" in org
    assert client.get("/organisations/nobody").status_code == 404
    assert "James Gardner" in client.get("/people/james-gardner").get_data(as_text=True)


def test_tag_page_redirects_when_tag_was_merged(seeded_app, client):
    from kb.extensions import db
    from kb.services import taxonomy

    old = taxonomy.find_tag("Bookmarks")
    survivor = taxonomy.find_tag("Reading list")
    old.merged_into = survivor
    db.session.commit()
    response = client.get("/tags/bookmarks")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/tags/reading-list")


def test_story_kept_private_until_published(app, client, make_story):
    story = make_story(status="submitted", title="Under review")
    assert client.get(f"/stories/{story.slug}").status_code == 404
    stories.publish_story(SYSTEM, story)
    from kb import database

    database.commit(app)
    assert client.get(f"/stories/{story.slug}").status_code == 200


def _area_counts(page: str) -> dict[str, int]:
    return {slug: int(n) for slug, n in re.findall(
        r'href="/areas/([a-z-]+)">.*?<p class="govuk-body-s">(\d+) stor', page, re.S)}


def _section(page: str, heading: str) -> str:
    start = page.find(f">{heading}</h2>")
    return page[start:page.find("</h2>", start + len(heading) + 7)] if start >= 0 else ""


def test_home_page_shows_every_write_at_once(seeded_app, client, make_story):
    """The home page's featured and latest stories and counts are kept between
    requests: a publication, featuring, edit or unpublication shows at the next one."""
    before = client.get("/").get_data(as_text=True)
    counts = _area_counts(before)
    assert counts["networks"] == 4
    reason = "Shows how a network spreads an idea."
    story = make_story(title="Newest network story", published_on="2099-01-01",
                       action_areas=[{"slug": "networks", "reason": reason}])
    page = client.get("/").get_data(as_text=True)
    assert _area_counts(page) == {**counts, "networks": 5}
    assert "Newest network story" in _section(page, "Latest stories")

    stories.set_featured(SYSTEM, story, True)
    database.commit(seeded_app)
    page = client.get("/").get_data(as_text=True)
    assert "Newest network story" in _section(page, "Featured stories")
    assert "Newest network story" not in _section(page, "Latest stories")

    stories.update_story(SYSTEM, story, {"title": "Renamed network story"})
    database.commit(seeded_app)
    assert "Renamed network story" in client.get("/").get_data(as_text=True)

    stories.unpublish_story(SYSTEM, story, "No longer current.")
    database.commit(seeded_app)
    page = client.get("/").get_data(as_text=True)
    assert "network story" not in page
    assert _area_counts(page) == counts


def test_the_newest_stories_are_read_off_an_index_not_sorted_whole(app, make_story):
    """Lists newest first (area, tag and organisation pages, the API's list)
    can be read in order from ``ix_stories_newest``: the plan has no sort of
    its own, even where the database would rather sort a table this small."""
    from datetime import date

    from sqlalchemy import text

    from kb.extensions import db
    from kb.services import listing

    for day in (date(2020, 1, 1), None, date(2021, 6, 1)):
        make_story(published_on=day.isoformat() if day else "")
    query = listing.newest_first(listing.published()).limit(20)
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL enable_sort = off"))
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(db.session.scalars(text("EXPLAIN " + sql)))
        assert "ix_stories_newest" in plan and "Sort" not in plan
    else:
        plan = " ".join(str(row[-1]) for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
        assert "ix_stories_newest" in plan and "TEMP B-TREE" not in plan
    # The order the index gives is the one asked for: newest first, undated last.
    dates = [story.published_on for story in db.session.scalars(query)]
    assert dates == sorted((d for d in dates if d), reverse=True) + [None]
