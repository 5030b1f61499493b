"""The curators' import page: upload, progress, report, download."""
from __future__ import annotations

import csv
import json
import io
from pathlib import Path

from sqlalchemy import select

from kb.extensions import db
from kb.models import Story
from kb.importers import jobs

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def upload(client, name: str, **fields):
    data = {"format": "auto", "status": "submitted", **fields}
    data["file"] = (io.BytesIO((FIXTURES / name).read_bytes()), name)
    return client.post("/curate/import/", data=data, content_type="multipart/form-data")


def finished(client, response) -> str:
    job_id = response.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    jobs.wait_for(job_id, timeout=120)
    db.session.expire_all()
    return job_id


def test_curator_uploads_a_bookmark_file_and_reads_and_downloads_the_report(app, client, make_user, sign_in):
    sign_in(make_user("curator"))
    assert client.get("/curate/import/").status_code == 200
    response = upload(client, "bookmarks.html")
    assert response.status_code == 303
    job_id = finished(client, response)
    page = client.get(f"/curate/import/{job_id}").get_data(as_text=True)
    assert "3 imported, 2 skipped, 2 failed" in page
    assert "the bookmark has no address" in page and "line 18" in page
    assert client.get(f"/curate/import/{job_id}/status.json").get_json()["state"] == "done"
    report = client.get(f"/curate/import/{job_id}/report.csv")
    assert report.status_code == 200 and "attachment" in report.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(report.get_data(as_text=True))))
    assert [r["outcome"] for r in rows].count("imported") == 3
    assert db.session.scalar(select(Story).where(Story.title == "Bad date")).status == "submitted"


def test_dry_run_from_the_page_saves_nothing(app, client, make_user, sign_in):
    sign_in(make_user("curator"))
    job_id = finished(client, upload(client, "pinboard.json", dry_run="1"))
    assert "2 would be imported" in client.get(f"/curate/import/{job_id}").get_data(as_text=True)
    assert db.session.scalar(select(Story)) is None


def test_a_file_that_is_not_of_its_format_ends_with_a_message(app, client, make_user, sign_in):
    sign_in(make_user("curator"))
    job_id = finished(client, upload(client, "not_bookmarks.html"))
    assert "The file holds no bookmarks" in client.get(f"/curate/import/{job_id}").get_data(as_text=True)


def test_missing_file_shows_the_form_again_with_422(app, client, make_user, sign_in):
    sign_in(make_user("curator"))
    response = client.post("/curate/import/", data={"format": "auto", "status": "submitted"})
    assert response.status_code == 422 and "Choose a file to import." in response.get_data(as_text=True)


def test_anonymous_visitors_sign_in_first(app, client):
    response = client.get("/curate/import/")
    assert response.status_code == 302 and "/account/sign-in" in response.headers["Location"]


def test_only_curators_import(app, client, make_user, sign_in):
    sign_in(make_user("contributor"))
    assert client.get("/curate/import/").status_code == 403
    assert upload(client, "pinboard.json").status_code == 403
    assert client.get("/curate/import/" + "0" * 32).status_code == 403


def test_an_unknown_import_is_a_404(app, client, make_user, sign_in):
    sign_in(make_user("curator"))
    assert client.get("/curate/import/" + "0" * 32).status_code == 404
    assert client.get("/curate/import/not-an-id/report.csv").status_code == 404


def jsonl_upload(client, records: list[dict], mapping: bytes | None = None, map_name: str = "map.json"):
    data = {"format": "jsonl", "status": "published",
            "file": (io.BytesIO("\n".join(json.dumps(r) for r in records).encode()), "records.jsonl")}
    if mapping is not None:
        data["map"] = (io.BytesIO(mapping), map_name)
    return client.post("/curate/import/", data=data, content_type="multipart/form-data")


MAPPED = {"title": "Mapped", "summary": "S.", "kind": "case_study", "tags": ["team: Ada", "beta", "Parks"],
          "links": [{"url": "https://example.org/mapped", "rel": "source"}]}


def test_an_uploaded_mapping_file_maps_the_records_as_kb_import_map_does(app, client, make_user, sign_in):
    sign_in(make_user("curator"))
    mapping = json.dumps({"prefixes": {"team": "people"}, "values": {"stage": {"beta": "pilot"}}}).encode()
    response = jsonl_upload(client, [MAPPED], mapping)
    assert response.status_code == 303
    finished(client, response)
    story = db.session.scalar(select(Story).where(Story.title == "Mapped"))
    assert [p.name for p in story.people] == ["Ada"] and story.stage == "pilot"
    assert [t.name for t in story.tags] == ["Parks"]


def test_a_mapping_file_that_cannot_be_used_is_shown_in_the_error_summary_and_at_the_field(
        app, client, make_user, sign_in):
    sign_in(make_user("curator"))
    for mapping, reason in ((b"{not json", "The mapping file is not JSON"),
                            (b'{"prefixes": {"team": "nowhere"}}', "prefix “team”: “nowhere” is not one of"),
                            (b"", "The mapping file is empty.")):
        response = jsonl_upload(client, [MAPPED], mapping)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, reason
        assert 'class="govuk-error-summary' in page and 'href="#map"' in page
        field_error = page.split('id="map-error"', 1)[1].split("</p>", 1)[0]
        assert reason in field_error
    assert db.session.scalar(select(Story)) is None
