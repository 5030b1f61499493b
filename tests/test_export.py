"""Exports: published stories as kb JSON Lines or CSV, from the command and the
search page; an export imported into an empty instance gives back the same stories."""
from __future__ import annotations

import csv
import io
import json
import shutil

import pytest

from kb import create_app, database
from kb.extensions import db
from kb.importers import import_file
from kb.importers.export import export, published_stories, record
from kb.policy import SYSTEM
from kb.services import seed


@pytest.fixture
def empty_instance(tmp_path, sqlite_template):
    """A second, empty instance (schema and the four action areas, no stories)."""
    path = tmp_path / "empty.sqlite3"
    shutil.copy(sqlite_template, path)
    other = create_app({"INSTANCE_PATH": str(tmp_path / "other"), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                        "TESTING": True})
    return other


def export_text(fmt: str, q: str = "") -> str:
    return "".join(export(fmt, published_stories(q)))


def in_instance(other, fn):
    """Run ``fn`` in the other instance's app context and return its result."""
    with other.app_context():
        try:
            return fn()
        finally:
            db.session.remove()
            db.engine.dispose()


def test_jsonl_export_imported_into_an_empty_instance_gives_back_the_same_stories(seeded_app, make_story,
                                                                                    empty_instance):
    make_story(title="Draft stays home", status="draft")
    exported = export_text("jsonl")
    records = [json.loads(line) for line in exported.splitlines()]
    assert len(records) == 5 and "Draft stays home" not in exported

    def round_trip():
        seed.load_action_areas(SYSTEM)
        report = import_file(SYSTEM, exported.encode(), "jsonl", status="published", app=empty_instance)
        assert report.counts == {"imported": 5, "skipped": 0, "failed": 0}
        again = import_file(SYSTEM, exported.encode(), "jsonl", status="published", app=empty_instance)
        assert again.counts["imported"] == 0
        return [record(story) for story in published_stories()]

    copied = in_instance(empty_instance, round_trip)
    assert copied == records


def test_csv_export_round_trips_the_main_fields(seeded_app, empty_instance):
    exported = export_text("csv")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 5

    def round_trip():
        seed.load_action_areas(SYSTEM)
        report = import_file(SYSTEM, exported.encode(), "csv", status="published", app=empty_instance)
        assert report.counts == {"imported": 5, "skipped": 0, "failed": 0}
        return list(csv.DictReader(io.StringIO(export_text("csv"))))

    assert in_instance(empty_instance, round_trip) == rows


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(app, make_story):
    make_story(title="=HYPERLINK(\"http://evil\")", summary="+1 for this")
    row = next(csv.DictReader(io.StringIO(export_text("csv"))))
    assert row["title"] == "'=HYPERLINK(\"http://evil\")" and row["summary"] == "'+1 for this"


def test_export_command_with_a_query_exports_what_the_search_finds(seeded_app, cli, tmp_path):
    out = tmp_path / "found.jsonl"
    result = cli("export", "--format", "jsonl", "--query", "localgovcamp", "-o", str(out))
    assert result.exit_code == 0
    slugs = [json.loads(line)["slug"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert "ken-eastwood-on-localgovcamp" in slugs and len(slugs) < 5


def test_search_page_downloads_the_current_searchs_published_stories(seeded_app, client, make_story):
    make_story(title="LocalGovCamp draft notes", status="submitted")
    response = client.get("/search/export.csv?q=localgovcamp&area=culture")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    titles = [row["title"] for row in csv.DictReader(io.StringIO(response.get_data(as_text=True)))]
    assert titles == ["Ken Eastwood on LocalGovCamp"]
    jsonl = client.get("/search/export.jsonl").get_data(as_text=True)
    assert len(jsonl.splitlines()) == 5
    assert client.get("/search/export.xml").status_code == 404
    database.rollback()


def test_search_page_links_to_the_downloads_of_its_results(seeded_app, client):
    page = client.get("/search?q=localgovcamp&area=culture").get_data(as_text=True)
    assert 'href="/search/export.csv?q=localgovcamp&amp;area=culture"' in page
    assert 'href="/search/export.jsonl?q=localgovcamp&amp;area=culture"' in page
