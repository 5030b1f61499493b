"""Dates keep their precision (a year, a month or a day): read from imports,
the API and the form, kept, shown, exported and sorted as they were given."""
from __future__ import annotations

import json
import re
import shutil
from datetime import date

import pytest
from alembic import command
from sqlalchemy import select, text

from kb import create_app, database, dates, search
from kb.extensions import db
from kb.importers import import_file
from kb.importers.export import export, published_stories
from kb.models import Story
from kb.policy import SYSTEM
from kb.services import seed, tokens


@pytest.mark.parametrize("given, iso, long", [
    ("2020", "2020", "2020"),
    (" 2020 ", "2020", "2020"),
    ("2020-03", "2020-03", "March 2020"),
    ("March 2020", "2020-03", "March 2020"),
    ("Sept. 2020", "2020-09", "September 2020"),
    ("2020-03-04", "2020-03-04", "4 March 2020"),
    ("4 March 2020", "2020-03-04", "4 March 2020"),
    ("4th of March, 2020", "2020-03-04", "4 March 2020"),
    ("March 4, 2020", "2020-03-04", "4 March 2020"),
    ("2020-03-04T10:30:00Z", "2020-03-04", "4 March 2020"),
    ("2020-03-04 23:30:00+00:00", "2020-03-04", "4 March 2020"),
    (date(2020, 3, 4), "2020-03-04", "4 March 2020"),
])
def test_a_date_is_read_to_the_precision_it_was_given_and_written_back_so(given, iso, long):
    when = dates.parse(given)
    assert (when.iso(), when.long()) == (iso, long)
    assert dates.parse(when.iso()) == when


@pytest.mark.parametrize("given", ["2019-13-45", "2019-02-29", "Smarch 2020", "20", "last spring", "0000"])
def test_what_is_not_a_date_is_refused(given):
    with pytest.raises(ValueError):
        dates.parse(given)


def test_a_year_or_a_month_is_kept_as_its_first_day_and_sorts_there():
    year, month, day = dates.parse("2020"), dates.parse("2020-03"), dates.parse("2020-03-04")
    assert (year.day, month.day) == (date(2020, 1, 1), date(2020, 3, 1))
    assert sorted([day, month, year, dates.parse("2019-12-31")]) == [dates.parse("2019-12-31"), year, month, day]
    assert dates.parse("  ") is None


def jsonl(*records) -> bytes:
    return "\n".join(json.dumps(record) for record in records).encode()


def by_title(title: str) -> Story:
    return db.session.scalar(select(Story).where(Story.title == title))


def published_on_page(client, story: Story) -> str:
    page = client.get(f"/stories/{story.slug}").get_data(as_text=True)
    match = re.search(r"First published\s*</dt>\s*<dd[^>]*>\s*([^<]*?)\s*<", page)
    return match[1] if match else ""


def test_imported_dates_keep_their_precision_and_are_shown_as_given(app, client):
    report = import_file(SYSTEM, jsonl(
        {"title": "A year", "summary": "S.", "kind": "report", "date": "2020", "source_id": "1"},
        {"title": "A month", "summary": "S.", "kind": "report", "date": "March 2020", "source_id": "2"},
        {"title": "A day", "summary": "S.", "kind": "report", "date": "2020-03-04", "source_id": "3"},
        {"title": "A time", "summary": "S.", "kind": "report", "date": "2020-03-04T09:00:00Z", "source_id": "4"},
    ), "jsonl", status="published", app=app)
    assert report.counts == {"imported": 4, "skipped": 0, "failed": 0}
    shown = {title: (by_title(title).published.iso(), published_on_page(client, by_title(title)))
             for title in ("A year", "A month", "A day", "A time")}
    assert shown == {"A year": ("2020", "2020"), "A month": ("2020-03", "March 2020"),
                     "A day": ("2020-03-04", "4 March 2020"), "A time": ("2020-03-04", "4 March 2020")}
    listing = client.get("/search?q=&sort=newest").get_data(as_text=True)
    assert '<time datetime="2020">2020</time>' in listing and "1 January 2020" not in listing


def test_a_csv_year_is_a_year(app):
    report = import_file(SYSTEM, b"title,summary,kind,published_on\nSheet,S.,report,2019\n", "csv",
                         status="published", app=app)
    assert report.counts["imported"] == 1
    assert by_title("Sheet").published == dates.PartialDate(date(2019, 1, 1), "year")


def test_the_api_takes_and_gives_a_date_as_precise_as_it_was_sent(app, client, make_user):
    _, token = tokens.create_token(make_user("contributor"), "tests")
    database.commit(app)
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/stories", json={"title": "Dated", "published_on": "2020"}, headers=headers)
    assert created.status_code == 201 and created.get_json()["published_on"] == "2020"
    for sent, kept in (("2020-03", "2020-03"), ("2020-03-04", "2020-03-04"), ("2020-03-04T10:00:00Z", "2020-03-04"),
                       (None, None)):
        edited = client.patch("/api/v1/stories/dated", json={"published_on": sent}, headers=headers)
        assert edited.status_code == 200 and edited.get_json()["published_on"] == kept
    refused = client.patch("/api/v1/stories/dated", json={"published_on": "March 2020"}, headers=headers)
    assert refused.status_code == 422
    assert "YYYY-MM" in refused.get_json()["errors"]["published_on"]


@pytest.fixture
def empty_instance(tmp_path, sqlite_template):
    path = tmp_path / "empty.sqlite3"
    shutil.copy(sqlite_template, path)
    return create_app({"INSTANCE_PATH": str(tmp_path / "other"), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                       "TESTING": True})


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_imported_again_keeps_each_dates_precision(app, make_story, empty_instance, fmt):
    for given in ("2018", "2018-06", "2018-06-30"):
        make_story(title=f"Story of {given}", published_on=given)
    exported = "".join(export(fmt, published_stories()))

    def round_trip():
        try:
            seed.load_action_areas(SYSTEM)
            import_file(SYSTEM, exported.encode(), fmt, status="published", app=empty_instance)
            return sorted((s.title, s.published.iso()) for s in db.session.scalars(select(Story)))
        finally:
            db.session.remove()
            db.engine.dispose()

    with empty_instance.app_context():
        copied = round_trip()
    assert copied == [("Story of 2018", "2018"), ("Story of 2018-06", "2018-06"),
                      ("Story of 2018-06-30", "2018-06-30")]


def test_newest_first_puts_a_year_at_its_first_day_and_the_year_facet_counts_it(app, make_story):
    for title, given in (("Ferry day", "2020-03-04"), ("Ferry year", "2020"), ("Ferry before", "2019-12-31"),
                         ("Ferry month", "2020-03")):
        make_story(title=title, published_on=given)
    results = search.search_stories(app, "ferry", sort="newest")
    assert [story.title for story, _ in search.load_hits(results)] == [
        "Ferry day", "Ferry month", "Ferry year", "Ferry before"]
    assert {f.value: f.count for f in results.facets["year"]} == {"2020": 3, "2019": 1}
    assert search.search_stories(app, "ferry", filters={"year": "2020"}).total == 3


def test_upgrading_marks_every_date_already_kept_as_a_day(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        with db.engine.begin() as connection:
            command.upgrade(database.alembic_config(connection), "0001")
            for n, day in ((1, "'2011-04-01'"), (2, "NULL")):
                connection.execute(text(
                    "INSERT INTO stories (id, title, slug, kind, summary, body, status, published_on, place, sector,"
                    " stage, evidence, featured, review_note, suggested_tags, suggested_areas, source, source_id,"
                    f" created_at, updated_at) VALUES ({n}, 'S', 's{n}', 'report', '', '', 'published', {day}, '',"
                    " '', '', '', false, '', '[]', '[]', '', '', '2020-01-01', '2020-01-01')"))
        database.upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT id, published_on_precision FROM stories ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [(1, "day"), (2, "")]
        db.engine.dispose()
