"""Imports: every format through one pipeline; bad rows reported with their
line and reason, never stopping the good ones; the same import twice adds nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from itertools import islice
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb import database
from kb.extensions import db
from kb.importers import import_file
from kb.models import Story, Tag
from kb.policy import SYSTEM
from kb.services import seed, sources, tags, taxonomy

FIXTURES = Path(__file__).parent / "fixtures" / "import"
CORPUS = next((folder / "shared" / "corpus" for folder in Path(__file__).resolve().parents[2:4]
               if (folder / "shared" / "corpus").is_dir()), Path("/nonexistent"))


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def story_count() -> int:
    return db.session.scalar(select(func.count(Story.id)))


def by_title(title: str) -> Story | None:
    return db.session.scalar(select(Story).where(Story.title == title))


@pytest.fixture
def areas(app):
    seed.load_action_areas(SYSTEM)
    database.commit(app)


@pytest.fixture
def corpus_slice(tmp_path):
    """The first 30 records of the real 18F corpus file, unchanged."""
    source = CORPUS / "18f.jsonl"
    if not source.exists():
        pytest.skip("the shared corpus is not beside the project")
    path = tmp_path / "18f-slice.jsonl"
    with source.open(encoding="utf-8") as handle:
        path.write_text("".join(islice(handle, 30)), encoding="utf-8")
    return path


def test_corpus_file_imports_as_is_and_a_second_run_adds_nothing(app, cli, corpus_slice):
    first = cli("import", str(corpus_slice))
    assert first.exit_code == 0, first.output
    assert "30 imported, 0 skipped, 0 failed" in first.output
    assert story_count() == 30
    story = by_title("Expedited path to the cloud: Reducing the compliance and labor burden of moving to the cloud")
    assert story.status == "submitted"
    assert story.kind == "case_study"  # the corpus's "project"
    assert (story.source, story.source_id) == ("18f", "pages/projects/products/cloud-gov.md")
    assert [o.name for o in story.organisations] == ["cloud.gov"]
    assert story.links[0].url == "https://18f.gsa.gov/our-work/cloud-gov/" and story.links[0].rel == "source"
    assert {t.name for t in story.tags} == {"cloud.gov", "products"}

    second = cli("import", str(corpus_slice))
    assert "0 imported, 30 skipped, 0 failed" in second.output
    assert story_count() == 30


def test_jsonl_records_are_lost_only_without_title_and_address_and_each_change_is_reported(app, cli, areas):
    result = cli("import", fixture("stories.jsonl"))
    assert result.exit_code == 0, result.output
    assert "7 imported, 0 skipped, 4 failed" in result.output
    for expected in ("line 3: failed: not valid JSON",
                     "line 4: failed: title: Enter a title (or give the record's address).",
                     "line 5 (“Wrong types”): imported: tags must be a list of text: left out",
                     "date “2019-13-45” is not a date: left out",
                     "line 8: failed: not a JSON object",
                     "line 11 (“No summary”): imported: no summary: taken from the title",
                     "line 12 (“A link without its address”): failed: links: Add at least one link"):
        assert expected in result.output
    kb_format = by_title("Written in kb's own format")
    assert kb_format.status == "submitted"  # a record's own status is not taken over
    assert [p.name for p in kb_format.people] == ["Ada Lovelace"]
    assert kb_format.stage == "pilot"
    assert [(a.action_area.slug, a.reason) for a in kb_format.area_links] == [("evaluation", "Measured it.")]
    assert [link.rel for link in kb_format.links] == ["source", "video"]
    assert by_title("Unknown kind").kind == "talk"  # "podcast", through the mapping table
    assert by_title("Not a real date").published_on is None
    assert by_title("No summary").summary == "No summary"


def test_a_row_that_fails_half_way_leaves_nothing_behind(app, cli):
    """The draft of a row whose submit fails (a link with no address) is rolled back with its row only."""
    cli("import", fixture("stories.jsonl"))
    assert by_title("A link without its address") is None
    assert by_title("Cloud hosting for councils") is not None


def test_records_of_one_source_with_one_url_but_different_ids_are_different_stories(app, cli, areas):
    cli("import", fixture("stories.jsonl"))
    assert by_title("Cloud hosting for councils") is not None
    assert by_title("Second case, same report") is not None


def test_csv_with_the_documented_header(app, cli, areas):
    result = cli("import", fixture("stories.csv"), "--status", "draft")
    assert "4 imported, 0 skipped, 2 failed" in result.output
    assert "the row has 11 cells but the header has 10" in result.output
    assert "Columns kb does not read were left out: Colour." in result.output
    story = by_title("Spreadsheet story")
    assert story.status == "draft" and story.kind == "case_study"
    assert [o.name for o in story.organisations] == ["Department for Business, Innovation and Skills", "Another Org"]
    assert {t.name for t in story.tags} == {"Spreadsheets", "Data"}
    assert [a.slug for a in story.action_areas] == ["culture", "networks"]
    assert [(link.url, link.title) for link in story.links] == [
        ("https://example.net/sheet", "Spreadsheet story"), ("https://example.net/more", "More reading"),
        ("https://example.net/video", "A talk")]
    formula = by_title("=SUM(A1) looks like a formula")
    assert formula.summary == "-starts with a minus"
    assert by_title("Multi-line summary").summary == "First line\nsecond line"
    assert by_title("Bad date").published_on is None


def test_csv_without_a_title_column_is_refused_whole(app, cli):
    result = cli("import", fixture("no_title_column.csv"))
    assert result.exit_code == 1
    assert "no “title” column" in result.output
    assert story_count() == 0


def test_bookmark_html_becomes_link_stories_awaiting_review(app, cli):
    result = cli("import", fixture("bookmarks.html"))
    assert "3 imported, 2 skipped, 2 failed" in result.output
    assert "line 12 (“A private bookmark”): skipped: private bookmark" in result.output
    assert "the bookmark has no address" in result.output
    story = by_title("Scaling & spreading ideas – a guide")
    assert story.kind == "link" and story.status == "submitted"
    assert story.summary == "Notes about <scaling> & spread over two lines."
    assert story.published_on.isoformat() == "2011-04-06"
    assert {t.name for t in story.tags} == {"scaling", "local gov"}
    untitled = by_title("example.com/untitled/page")
    assert untitled is not None and untitled.published_on.isoformat() == "2011-04-06"  # ADD_DATE in milliseconds
    assert by_title("Bad date").published_on is None
    assert by_title("The same page again") is None  # same page as the first, once normalised
    assert by_title("A private bookmark") is None


def test_private_bookmarks_come_in_when_asked(app, cli):
    cli("import", fixture("bookmarks.html"))
    result = cli("import", fixture("bookmarks.html"), "--private")
    assert "1 imported, 4 skipped, 2 failed" in result.output
    assert by_title("A private bookmark") is not None


def test_pinboard_json(app, cli):
    result = cli("import", fixture("pinboard.json"))
    assert "2 imported, 1 skipped, 3 failed" in result.output
    assert "line 5, bookmark 5: failed: href must be text" in result.output
    one = by_title("Pinboard one")
    assert one.summary == "What I thought of it." and one.published_on.isoformat() == "2014-02-03"
    assert (one.source, one.source_id) == ("pinboard", "1111")
    assert {t.name for t in one.tags} == {"scaling_up", "evaluation"}


def test_a_pinboard_file_cut_short_keeps_the_bookmarks_before_the_cut(app, cli):
    result = cli("import", fixture("pinboard_truncated.json"))
    assert "1 imported, 0 skipped, 1 failed" in result.output
    assert "not valid JSON" in result.output
    assert by_title("Fine") is not None


def test_files_that_are_not_of_the_format_stop_with_a_message(app, cli):
    for name, fmt in (("not_bookmarks.html", "bookmarks"), ("stories.csv", "pinboard"), ("bookmarks.html", "jsonl")):
        assert cli("import", fixture(name), "--format", fmt).exit_code == 1
    assert story_count() == 0


def test_the_same_page_is_skipped_across_formats(app, cli):
    cli("import", fixture("pinboard.json"))
    data = b'<DT><A HREF="http://www.example.org/pinboard-one/?utm_campaign=x">Again</A>'
    report = import_file(SYSTEM, data, "bookmarks", app=app)
    assert report.counts == {"imported": 0, "skipped": 1, "failed": 0}
    assert report.rows[0].slug == by_title("Pinboard one").slug


def test_dry_run_saves_nothing(app, cli, areas):
    result = cli("import", fixture("stories.jsonl"), "--dry-run")
    assert "7 would be imported, 0 skipped, 4 failed (dry run: nothing was saved)" in result.output
    db.session.expire_all()
    assert story_count() == 0


def test_tags_go_through_the_vocabulary_and_only_curators_create_new_ones(app, cli, make_user):
    tag = tags.create_tag(SYSTEM, "Scaling up")
    tags.add_alias(SYSTEM, tag, "scaling")
    database.commit(app)
    contributor = make_user("contributor", email="ada@example.org")
    result = cli("import", fixture("bookmarks.html"), "--as", "ada@example.org")
    assert "3 imported" in result.output
    story = by_title("Scaling & spreading ideas – a guide")
    assert story.submitted_by_id == contributor.id
    assert story.tags == []  # contributors suggest; curators decide
    assert story.suggested_tags == ["Scaling up", "local gov"]  # the alias resolved, the new name kept as a suggestion
    assert taxonomy.find_tag("local gov") is None

    report = import_file(SYSTEM, b'<DT><A HREF="https://example.org/n" TAGS="scaling,brand new">N</A>', "bookmarks",
                         app=app)
    assert report.counts["imported"] == 1
    assert {t.name for t in by_title("N").tags} == {"Scaling up", "brand new"}


def test_only_curators_import_as_published(app, cli, make_user):
    make_user("contributor", email="bob@example.org")
    refused = cli("import", fixture("pinboard.json"), "--as", "bob@example.org", "--status", "published")
    assert refused.exit_code == 1 and "Only curators can import stories as published." in refused.output
    assert story_count() == 0
    result = cli("import", fixture("pinboard.json"), "--status", "published")
    assert "2 imported" in result.output
    assert by_title("Pinboard one").status == "published"


def test_report_file_lists_every_record(app, cli, tmp_path):
    report_path = tmp_path / "report.csv"
    cli("import", fixture("pinboard.json"), "--report", str(report_path))
    lines = report_path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "line,record,outcome,title,reason,slug,warnings"
    assert len(lines) == 1 + 6
    assert any(line.startswith("3,bookmark 3,failed,,not a JSON object") for line in lines)


def test_a_long_summary_is_shortened_with_a_warning(app):
    record = {"title": "Long", "kind": "report", "summary": "word " * 400, "source": "t", "source_id": "1"}
    report = import_file(SYSTEM, json.dumps(record).encode(), "jsonl", app=app)
    assert report.counts["imported"] == 1
    assert "summary shortened to 1,000 characters" in report.rows[0].warnings
    assert len(by_title("Long").summary) <= 1000


def test_find_by_source_url_ignores_spelling_differences(app, make_story):
    story = make_story(links=[{"url": "https://www.example.org/a/?b=2&a=1", "title": "A", "rel": "source"}])
    assert sources.find_by_source_url("http://example.org/a?a=1&b=2#top") == story
    assert sources.find_by_source_url("https://example.org/b") is None


def test_imported_stories_are_searchable_after_the_import(seeded_app, cli):
    from kb import search

    app = seeded_app
    cli("import", fixture("pinboard.json"), "--status", "published")
    found = search.search_stories(app, "pinboard")
    assert by_title("Pinboard one").id in found.story_ids
    assert index_verify(app).returncode == 0


def index_verify(app):
    """``kb index verify`` run as an operator would, in a process of its own."""
    env = {**os.environ, "KB_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "KB_INSTANCE_PATH": app.instance_path, "KB_INDEX_DIR": app.config["INDEX_DIR"]}
    kb = Path(sys.executable).with_name("kb")
    return subprocess.run([str(kb), "index", "verify"], env=env, capture_output=True, text=True, timeout=120)


def test_tag_names_longer_than_the_vocabulary_allows_are_left_out(app):
    record = {"title": "Tagged", "kind": "report", "summary": "S", "tags": ["ok", "x" * 150]}
    report = import_file(SYSTEM, json.dumps(record).encode(), "jsonl", app=app)
    assert report.counts["imported"] == 1
    assert [t.name for t in by_title("Tagged").tags] == ["ok"]
    assert db.session.scalar(select(func.count(Tag.id))) == 1


def test_real_data_quirks_line_separators_in_text_and_several_addresses_in_url(app):
    records = [
        {"title": "Separator", "kind": "case", "summary": "One\u2028record\u2029only", "source": "q", "source_id": "1"},
        {"title": "Two addresses", "kind": "case", "summary": "S", "source": "q", "source_id": "2",
         "url": "https://example.org/a#intro, \nhttps://example.org/b"},
        {"title": "Words for an address", "kind": "case", "summary": "S", "source": "q", "source_id": "3",
         "url": "internal web address"},
    ]
    data = "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()
    report = import_file(SYSTEM, data, "jsonl", app=app)
    assert report.counts == {"imported": 3, "skipped": 0, "failed": 0}
    assert by_title("Separator").summary == "One\u2028record\u2029only"
    assert [(link.url, link.rel) for link in by_title("Two addresses").links] == [
        ("https://example.org/a#intro", "source"), ("https://example.org/b", "related")]
    assert by_title("Words for an address").links == []
    assert "is not a web address; it was left out" in report.rows[2].warnings[0]
