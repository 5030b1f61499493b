"""Imports keep real records, cleaned the same way in every format: records
shaped like the news feeds, case records and bookmark exports that kb met."""
from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from kb.extensions import db
from kb.importers import import_file
from kb.models import KINDS, Story
from kb.policy import SYSTEM
from kb.services import stories
from kb.errors import Invalid


def jsonl(*records) -> bytes:
    return "\n".join(json.dumps(record, ensure_ascii=False) for record in records).encode()


def by_title(title: str) -> Story | None:
    return db.session.scalar(select(Story).where(Story.title == title))


def warnings_of(report, title: str) -> str:
    return "; ".join(w for row in report.rows if row.title == title for w in row.warnings)


def test_events_are_a_kind_and_other_kinds_go_through_the_mapping_table(app):
    report = import_file(SYSTEM, jsonl(
        {"title": "Open data camp", "summary": "A camp.", "kind": "event", "url": "https://example.gov/camp"},
        {"title": "A webinar on APIs", "summary": "An hour online.", "kind": "Webinar", "source_id": "w"},
        {"title": "Something else", "summary": "An odd kind.", "kind": "zine", "source_id": "z"},
        {"title": "No kind at all", "summary": "The feed left it out.", "source_id": "n"},
    ), "jsonl", status="published", app=app)
    assert report.counts == {"imported": 4, "skipped": 0, "failed": 0}
    assert by_title("Open data camp").kind == "event" and by_title("Open data camp").kind_label == "Event"
    assert by_title("A webinar on APIs").kind == "event"
    assert by_title("Something else").kind == "report"
    warning = warnings_of(report, "Something else")
    assert "“zine”" in warning and "event" in warning and "case_study" in warning
    assert "no kind" in warnings_of(report, "No kind at all")


def test_an_unknown_kind_is_refused_by_the_services_with_the_value_and_the_kinds_allowed(app):
    with pytest.raises(Invalid) as caught:
        stories.create_story(SYSTEM, {"title": "T", "kind": "zine"})
    message = caught.value.errors["kind"]
    assert "“zine”" in message and all(kind in message for kind in KINDS)


def test_a_record_is_lost_only_without_a_title_and_an_address(app):
    long_place = "Municipality of " + "Very Long Place Name, " * 12
    report = import_file(SYSTEM, jsonl(
        {"title": "", "summary": "Only an address.", "url": "https://example.org/only-an-address/", "kind": "case"},
        {"title": "", "summary": "Neither title nor address.", "kind": "case"},
        {"title": "A long place", "summary": "S.", "place": long_place, "kind": "case", "source_id": "p"},
        {"title": "No summary", "body": "## Background\n\nThe council tried it first. It worked well! "
                                        "Then others copied it.", "kind": "case", "source_id": "s"},
    ), "jsonl", status="published", app=app)
    assert report.counts == {"imported": 3, "skipped": 0, "failed": 1}
    assert by_title("example.org/only-an-address").status == "published"
    failed = [row for row in report.rows if row.outcome == "failed"]
    assert "title" in failed[0].reason
    place = by_title("A long place").place
    assert len(place) <= 200 and place.endswith("…")
    assert "place shortened to 200 characters" in warnings_of(report, "A long place")
    assert by_title("No summary").summary == "The council tried it first. It worked well! Then others copied it."
    assert "no summary: taken from the body" in warnings_of(report, "No summary")


def test_a_source_longer_than_its_column_is_shortened_on_both_databases(app):
    report = import_file(SYSTEM, jsonl(
        {"title": "Long source", "summary": "S.", "kind": "case", "source": "s" * 80, "source_id": "1"},
    ), "jsonl", app=app)
    assert report.counts["imported"] == 1
    assert len(by_title("Long source").source) == Story.__table__.c.source.type.length


def test_entities_and_html_tags_are_cleaned_from_plain_text_fields(app):
    report = import_file(SYSTEM, jsonl({
        "title": "EPA&amp;#8217;s new air quality &quot;sensor&quot; toolbox",
        "summary": "<p>The <strong>toolbox</strong> helps&nbsp;communities.</p>",
        "organisation": "U.S. EPA &amp; partners", "tags": ["air &amp; water"], "kind": "news",
        "body": "Keep <strong>HTML</strong> in Markdown bodies.", "source_id": "epa",
    }), "jsonl", app=app)
    assert report.counts["imported"] == 1
    story = by_title("EPA’s new air quality \"sensor\" toolbox")
    assert story is not None and story.kind == "blog_post"
    assert story.summary == "The toolbox helps communities."
    assert [o.name for o in story.organisations] == ["U.S. EPA & partners"]
    assert [t.name for t in story.tags] == ["air & water"]
    assert story.body == "Keep <strong>HTML</strong> in Markdown bodies."


def test_csv_gets_the_same_cleaning_as_json_lines(app):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["title", "summary", "kind", "url", "body"])
    writer.writerow(["Council&#8217;s <em>hack</em> day", "", "event", "https://example.gov/news/hack/",
                     "A day of hacking. See [the photos](/photos/hack/)."])
    report = import_file(SYSTEM, out.getvalue().encode(), "csv", app=app)
    assert report.counts["imported"] == 1
    story = by_title("Council’s hack day")
    assert story.kind == "event" and story.summary == "A day of hacking. See the photos."
    assert "(https://example.gov/photos/hack/)" in story.body


def test_relative_links_in_bodies_lead_to_the_records_site(app):
    body = ("We ran a [hackathon](/2015/04/02/govtechhack/) and wrote [notes](notes/).\n\n"
            "<a href=\"/team/\">The team</a> ![photo](/assets/img/hack.jpg) [top](#top) "
            "[elsewhere](https://example.com/x)")
    import_file(SYSTEM, jsonl({"title": "Hack", "summary": "S.", "kind": "blog_post", "body": body,
                               "url": "https://18f.gsa.gov/2015/05/01/hack/"}), "jsonl", app=app)
    story = by_title("Hack")
    assert "[hackathon](https://18f.gsa.gov/2015/04/02/govtechhack/)" in story.body
    assert "[notes](https://18f.gsa.gov/2015/05/01/hack/notes/)" in story.body
    assert 'href="https://18f.gsa.gov/team/"' in story.body
    assert "(https://18f.gsa.gov/assets/img/hack.jpg)" in story.body
    assert "[top](#top)" in story.body and "[elsewhere](https://example.com/x)" in story.body


def test_a_summary_repeated_as_the_bodys_first_paragraph_is_dropped_from_the_body(app):
    summary = "As of 2020, the employment service profiles job seekers with an algorithm."
    import_file(SYSTEM, jsonl(
        {"title": "Same", "summary": summary, "body": summary, "kind": "case", "source_id": "1"},
        {"title": "Starts with it", "summary": summary, "body": summary + " Based on a model.\n\nMore.",
         "kind": "case", "source_id": "2"},
        {"title": "Own paragraph", "summary": summary, "body": summary + "\n\nThe rest.", "kind": "case",
         "source_id": "3"},
        {"title": "Different", "summary": summary, "body": "Something else entirely.", "kind": "case",
         "source_id": "4"},
    ), "jsonl", app=app)
    assert by_title("Same").body == ""
    assert by_title("Starts with it").body == "Based on a model.\n\nMore."
    assert by_title("Own paragraph").body == "The rest."
    assert by_title("Different").body == "Something else entirely."
