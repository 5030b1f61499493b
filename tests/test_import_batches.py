"""Imports in batches: a failing record costs only itself, published imports
keep a revision and the audit events, and a killed import run again adds each
record once."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sqlalchemy import create_engine, func, select, text

from kb import database, search
from kb.extensions import db
from kb.importers import import_file, pipeline
from kb.models import AuditEvent, Revision, Story
from kb.policy import SYSTEM


def jsonl(records) -> bytes:
    return "\n".join(json.dumps(record) for record in records).encode()


def case(n: int, **fields) -> dict:
    return {"title": f"Case {n}", "summary": f"What happened in case {n}.", "kind": "case",
            "source": "bench", "source_id": str(n), **fields}


def test_a_record_failing_inside_a_batch_costs_only_itself(app):
    records = [case(1, place="x" * 250), case(2), case(3, kind="link"), case(4), case(5)]
    report = import_file(SYSTEM, jsonl(records), "jsonl", status="published", app=app)
    assert report.counts == {"imported": 4, "skipped": 0, "failed": 1}
    assert [row.outcome for row in report.rows] == ["imported", "imported", "failed", "imported", "imported"]
    # The batch ran twice; the first record's warning is reported once.
    assert report.rows[0].warnings == ["place shortened to 200 characters"]
    assert db.session.scalar(select(func.count(Story.id))) == 4


def test_stories_are_numbered_in_file_order_whichever_name_another(app):
    records = [case(1, adapted_from=""), case(2, adapted_from="case-4"), case(3),
               case(4, adoptions=[{"organisation": "Leeds City Council", "year": 2015, "story": "case-2", "note": ""}])]
    import_file(SYSTEM, jsonl(records), "jsonl", status="published", app=app)
    assert list(db.session.scalars(select(Story.title).order_by(Story.id))) == [f"Case {n}" for n in (1, 2, 3, 4)]
    assert db.session.scalar(select(Story).where(Story.slug == "case-2")).adapted_from.slug == "case-4"


def test_related_stories_earlier_in_the_batch_are_kept_and_unknown_ones_reported(app):
    records = [case(1), case(2, related=["case-1", "no-such-story"])]
    report = import_file(SYSTEM, jsonl(records), "jsonl", status="published", app=app)
    story = db.session.scalar(select(Story).where(Story.slug == "case-2"))
    assert [s.slug for s in story.related] == ["case-1"]
    assert report.rows[1].warnings == ["related stories left out, there are none at: no-such-story"]


def _imported_in_small_batches(app, monkeypatch, count: int, follower_rows: int = pipeline.FOLLOWER_ROWS) -> None:
    """Import ``count`` cases in batches of 7, the index following every 10;
    all are imported, the index is clean after, and search finds them all."""
    monkeypatch.setattr(pipeline, "BATCH_SIZE", 7)
    monkeypatch.setattr(pipeline, "INDEX_BATCH", 10)
    monkeypatch.setattr(pipeline, "FOLLOWER_ROWS", follower_rows)
    report = import_file(SYSTEM, jsonl(case(n) for n in range(count)), "jsonl", status="published", app=app)
    assert report.counts["imported"] == count
    assert search.verify(app).clean
    assert search.search_stories(app, "case", per_page=1).total == count


def test_rows_are_committed_in_batches_and_the_index_is_clean_after(app, monkeypatch):
    _imported_in_small_batches(app, monkeypatch, 40)


def test_a_long_import_has_a_child_process_index_its_batches_as_it_goes(app, monkeypatch):
    from kb.search.follower import IndexFollower
    from kb.search.sync import latest_change, watermark

    seen = {}
    finish = IndexFollower.finish

    def finish_and_look(follower, *args):
        finish(follower, *args)
        # The import itself has not synced yet: what is indexed, the child did.
        seen.update(watermark=watermark(app) or 0, latest=latest_change())

    monkeypatch.setattr(IndexFollower, "finish", finish_and_look)
    _imported_in_small_batches(app, monkeypatch, 60, follower_rows=20)
    assert 0 < seen["watermark"] <= seen["latest"]


def test_a_long_import_whose_index_process_dies_is_indexed_by_its_last_commit(app, monkeypatch):
    from kb.search.follower import IndexFollower

    kick = IndexFollower.kick

    def die_then_kick(follower):
        follower._process.kill()
        follower._process.wait()
        kick(follower)

    monkeypatch.setattr(IndexFollower, "kick", die_then_kick)
    _imported_in_small_batches(app, monkeypatch, 60, follower_rows=20)


def test_published_imports_keep_one_revision_and_the_audit_of_submit_and_publish(app):
    import_file(SYSTEM, jsonl([case(1)]), "jsonl", status="published", app=app)
    story = db.session.scalar(select(Story))
    assert story.status == "published" and story.first_published_at is not None
    revisions = list(db.session.scalars(select(Revision).where(Revision.story_id == story.id)))
    assert [(r.number, r.reason, r.snapshot["status"]) for r in revisions] == [(1, "Imported (jsonl)", "published")]
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == story.id)
                                      .order_by(AuditEvent.id)))
    assert actions == ["submit", "publish"]


def _kb_env(app) -> dict:
    return {**os.environ, "KB_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "KB_INSTANCE_PATH": app.instance_path, "KB_INDEX_DIR": app.config["INDEX_DIR"]}


def _count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text("SELECT count(*) FROM stories"))
    finally:
        engine.dispose()


def test_a_killed_import_run_again_adds_each_record_once(app, tmp_path):
    path = tmp_path / "many.jsonl"
    path.write_bytes(jsonl(case(n, body="A longer body. " * 40) for n in range(1500)))
    kb = str(Path(sys.executable).with_name("kb"))
    env, url = _kb_env(app), app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    process = subprocess.Popen([kb, "import", str(path), "--status", "published"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while _count(url) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert _count(url) > 0
    rerun = subprocess.run([kb, "import", str(path), "--status", "published"], env=env, capture_output=True,
                           text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert _count(url) == 1500
    assert db.session.scalar(select(func.count(func.distinct(Story.source_id)))) == 1500
    verify = subprocess.run([kb, "index", "verify"], env=env, capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stdout


def test_a_contributor_cannot_claim_a_records_source_id_so_its_import_is_not_skipped(app, client, make_user):
    from kb import database
    from kb.services import tokens

    contributor = make_user("contributor")
    _, plaintext = tokens.create_token(contributor, "tests")
    database.commit(app)
    headers = {"Authorization": f"Bearer {plaintext}"}
    claim = client.post("/api/v1/stories", headers=headers,
                        json={"title": "Mine", "source": "18f", "source_id": "pages/projects/cloud-gov.md"})
    assert claim.status_code == 403
    assert "source" in claim.get_json()["error"]
    draft = client.post("/api/v1/stories", headers=headers, json={"title": "Mine"})
    assert draft.status_code == 201, draft.get_json()
    slug = draft.get_json()["slug"]
    patch = client.patch(f"/api/v1/stories/{slug}", headers=headers,
                         json={"source": "18f", "source_id": "pages/projects/cloud-gov.md"})
    assert patch.status_code == 403
    report = import_file(SYSTEM, jsonl([{"title": "cloud.gov", "summary": "S.", "kind": "project", "source": "18f",
                                         "source_id": "pages/projects/cloud-gov.md"}]), "jsonl", app=app)
    assert report.counts["imported"] == 1


def test_curators_may_set_a_stories_source(app, make_user):
    from kb.services import stories

    curator = make_user("curator")
    story = stories.create_story(curator, {"title": "Curated", "source": "ips", "source_id": "1"})
    assert (story.source, story.source_id) == ("ips", "1")


def test_imported_stories_get_their_filing_suggestions_at_the_end_of_the_import(app):
    from kb.models import AreaSuggestion
    from kb.services import seed

    seed.load_action_areas(SYSTEM)
    database.commit(app)
    body = ("The council changed its procurement rules and contracts so that small suppliers could bid. "
            "Open source code and open data standards let other councils reuse the shared platform.")
    report = import_file(SYSTEM, jsonl([case(1, body=body), case(2, body="Goats and chickens on a farm.")]),
                         "jsonl", status="published", app=app)
    assert report.counts["imported"] == 2
    suggested = {story_id: dict(rows) for story_id, rows in _by_story(db.session.execute(
        select(AreaSuggestion.story_id, AreaSuggestion.action_area_id, AreaSuggestion.confidence)))}
    assert len(suggested) == 2
    first, second = (db.session.scalar(select(Story.id).where(Story.source_id == n)) for n in ("1", "2"))
    conditions = db.session.scalar(select(AreaSuggestion.action_area_id).where(
        AreaSuggestion.reason.contains("open source")))
    assert suggested[first][conditions] > suggested[second][conditions]


def test_an_import_stopped_after_a_batch_leaves_that_batch_with_its_suggestions(app, monkeypatch):
    from kb.models import AreaSuggestion
    from kb.services import seed

    seed.load_action_areas(SYSTEM)
    database.commit(app)
    monkeypatch.setattr(pipeline, "BATCH_SIZE", 2)

    def stop(done):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(SYSTEM, jsonl(case(n) for n in range(5)), "jsonl", status="published", app=app, progress=stop)
    database.rollback()
    kept = set(db.session.scalars(select(Story.id)))
    assert len(kept) == 2
    assert set(db.session.scalars(select(AreaSuggestion.story_id))) == kept


def test_links_between_stories_are_set_in_short_transactions_each_kept(app, monkeypatch):
    monkeypatch.setattr(pipeline, "BATCH_SIZE", 2)
    records = [case(1)] + [case(n, related=[f"case-{n - 1}"], adapted_from=f"case-{n - 1}") for n in range(2, 8)]
    report = import_file(SYSTEM, jsonl(records), "jsonl", status="published", app=app)
    assert report.counts["imported"] == 7 and not any(row.warnings for row in report.rows)
    db.session.expire_all()
    for n in range(2, 8):
        story = db.session.scalar(select(Story).where(Story.slug == f"case-{n}"))
        assert [s.slug for s in story.related] == [f"case-{n - 1}"] and story.adapted_from.slug == f"case-{n - 1}"


def test_names_met_again_in_later_batches_are_the_same_tags_organisations_and_people(app, monkeypatch):
    from kb.models import Organisation, Person, Tag
    from kb.services import taxonomy

    taxonomy.find_or_create_tag(SYSTEM, "Open data")
    database.commit(app)
    monkeypatch.setattr(pipeline, "BATCH_SIZE", 3)
    records = [case(n, tags=["open data", "Digital  inclusion"], organisations=["Leeds City Council", "GDS"],
                    people=["Ada Lovelace"]) for n in range(8)]
    report = import_file(SYSTEM, jsonl(records), "jsonl", status="published", app=app)
    assert report.counts["imported"] == 8
    assert sorted(db.session.scalars(select(Tag.name))) == ["Digital inclusion", "Open data"]
    assert db.session.scalar(select(func.count(Organisation.id))) == 2
    assert db.session.scalar(select(func.count(Person.id))) == 1
    leeds = db.session.scalar(select(Organisation).where(Organisation.slug == "leeds-city-council"))
    assert leeds.home_authority_code  # a council's home authority, as one made through the web gets
    for story in db.session.scalars(select(Story)):
        assert sorted(t.name for t in story.tags) == ["Digital inclusion", "Open data"]
        assert [o.name for o in story.organisations] == ["Leeds City Council", "GDS"]


def test_two_records_with_one_title_get_different_addresses_in_one_batch(app):
    report = import_file(SYSTEM, jsonl([case(1, title="Same"), case(2, title="Same"), case(3, title="Same")]),
                         "jsonl", status="published", app=app)
    assert [row.slug for row in report.rows] == ["same", "same-2", "same-3"]


def _by_story(rows):
    grouped: dict[int, list] = {}
    for story_id, area_id, confidence in rows:
        grouped.setdefault(story_id, []).append((area_id, confidence))
    return grouped.items()


def test_one_page_under_other_spellings_of_its_address_is_skipped_as_already_in_kb(app):
    spellings = ["https://www.example.gov/guides/open-data/index.html",
                 "http://example.gov/guides/open-data/",
                 "https://EXAMPLE.gov/guides/open-data?utm_source=newsletter&utm_medium=email",
                 "https://example.gov/guides/open-data/#part-2",
                 "https://example.gov/guides/open-data/Default.aspx"]
    records = [{"title": f"Open data guide {n}", "summary": "A guide.", "kind": "report", "url": url, "source": "feed"}
               for n, url in enumerate(spellings)]
    report = import_file(SYSTEM, jsonl(records), "jsonl", status="published", app=app)
    assert [row.outcome for row in report.rows] == ["imported"] + ["skipped"] * 4
    assert {row.slug for row in report.rows} == {"open-data-guide-0"}
    other = import_file(SYSTEM, jsonl([{"title": "Another page", "summary": "x", "kind": "report", "source": "feed",
                                        "url": "https://example.gov/guides/open-data/index.html?page=2"}]),
                        "jsonl", status="published", app=app)
    assert other.counts["imported"] == 1
