"""Upload imports are jobs kept in the database: any app instance on the same
database shows them, and one whose process died is shown failed and resumed."""
from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from kb import create_app, database, policy
from kb.extensions import db
from kb.importers import import_file, jobs
from kb.models import ImportJob, Story
from kb.models.base import utcnow
from kb.policy import SYSTEM

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def records(count: int) -> bytes:
    lines = [json.dumps({"title": f"Kept once {n}", "summary": f"Record {n}.", "kind": "report",
                         "source": "jobs", "source_id": f"rec-{n}"}) for n in range(count)]
    return ("\n".join(lines) + "\n").encode()


def other_node(app):
    """A second app on the same database, with an instance folder of its own."""
    config = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "BASE_URL")}
    return create_app({**config, "INSTANCE_PATH": str(Path(app.instance_path).parent / "other-node"),
                       "TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})


def signed_in_client(app, user):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


def stopped_job(user, data: bytes, **values) -> str:
    """A job as a process leaves it when it dies while running: no heartbeat for hours."""
    job = ImportJob(id="a" * 32, user_id=user.id, filename="records.jsonl", format="jsonl", status="submitted",
                    dry_run=False, include_private=False, data=data, state="running", done=3, total=6, error="",
                    resumable=False, run=1, host="gone", pid=1, heartbeat_at=utcnow() - timedelta(hours=2),
                    **values)
    db.session.add(job)
    return job.id


def test_an_uploaded_import_is_read_from_the_database_by_another_instance(app, client, make_user, sign_in):
    curator = sign_in(make_user("curator"))
    response = client.post("/curate/import/", content_type="multipart/form-data", data={
        "format": "auto", "status": "submitted",
        "file": (io.BytesIO((FIXTURES / "pinboard.json").read_bytes()), "pinboard.json")})
    job_id = response.headers["Location"].rsplit("/", 1)[1]
    jobs.wait_for(job_id, timeout=120)
    assert not (Path(app.instance_path) / "imports").exists()
    other = other_node(app)
    try:
        reader = signed_in_client(other, curator)
        assert reader.get(f"/curate/import/{job_id}/status.json").get_json() == {"state": "done", "done": 6,
                                                                                  "total": 6}
        assert "2 imported, 1 skipped, 3 failed" in reader.get(f"/curate/import/{job_id}").get_data(as_text=True)
        assert reader.get(f"/curate/import/{job_id}/report.csv").status_code == 200
        # done, the job keeps its report and drops the uploaded file, which no resume will read
        assert db.session.scalar(select(func.length(ImportJob.data)).where(ImportJob.id == job_id)) == 0
    finally:
        with other.app_context():
            db.engine.dispose()


def test_a_running_import_shows_its_progress_on_another_instance(app, make_user):
    curator = make_user("curator")
    db.session.add(ImportJob(id="b" * 32, user_id=curator.id, filename="big.jsonl", format="jsonl",
                             status="submitted", dry_run=False, include_private=False, data=b"", state="running",
                             done=40, total=100, error="", resumable=False, run=1, host="node-a", pid=1,
                             heartbeat_at=utcnow()))
    database.commit(app)
    other = other_node(app)
    try:
        reader = signed_in_client(other, curator)
        assert reader.get(f"/curate/import/{'b' * 32}/status.json").get_json() == {"state": "running", "done": 40,
                                                                                   "total": 100}
        page = reader.get(f"/curate/import/{'b' * 32}").get_data(as_text=True)
        assert "40 of 100 records" in page and "Resume" not in page
    finally:
        with other.app_context():
            db.engine.dispose()


def test_an_import_whose_process_died_is_failed_and_resuming_adds_each_record_once(app, client, make_user,
                                                                                      sign_in):
    curator = sign_in(make_user("curator"))
    data = records(6)
    import_file(SYSTEM, records(3), "jsonl", app=app)  # what the dead process committed before it died
    job_id = stopped_job(curator, data)
    database.commit(app)

    assert client.get(f"/curate/import/{job_id}/status.json").get_json()["state"] == "failed"
    page = client.get(f"/curate/import/{job_id}").get_data(as_text=True)
    assert "the server running it stopped answering" in page and 'id="resume-import"' in page

    assert client.post(f"/curate/import/{job_id}/resume").status_code == 303
    jobs.wait_for(job_id, timeout=120)
    page = client.get(f"/curate/import/{job_id}").get_data(as_text=True)
    assert "3 imported, 3 skipped, 0 failed" in page and 'id="resume-import"' not in page
    db.session.expire_all()
    titles = db.session.scalars(select(Story.title)).all()
    assert sorted(titles) == [f"Kept once {n}" for n in range(6)]
    assert client.post(f"/curate/import/{job_id}/resume").status_code == 409


def test_a_running_import_cannot_be_resumed(app, client, make_user, sign_in):
    curator = sign_in(make_user("curator"))
    job_id = stopped_job(curator, records(2))
    db.session.get(ImportJob, job_id).heartbeat_at = utcnow()
    database.commit(app)
    assert client.post(f"/curate/import/{job_id}/resume").status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Story)) == 0


def test_a_job_is_seen_by_whoever_started_it_while_they_may_import_and_by_curators(app, make_user):
    starter, other, contributor = make_user("curator"), make_user("admin"), make_user()
    job = ImportJob(user_id=starter.id)
    assert policy.can_view_import_job(starter, job) and policy.can_resume_import_job(starter, job)
    assert policy.can_view_import_job(other, job) and policy.can_resume_import_job(other, job)
    assert not policy.can_view_import_job(contributor, job)
    assert not policy.can_view_import_job(contributor, ImportJob(user_id=contributor.id))


def test_the_upload_page_lists_recent_imports_a_stopped_one_as_failed(app, client, make_user, sign_in):
    curator = sign_in(make_user("curator", name="Ada Curator"))
    stopped_job(curator, records(2))
    database.commit(app)
    page = client.get("/curate/import/").get_data(as_text=True)
    listed = page[page.index('id="recent-imports"'):]
    assert f'href="/curate/import/{"a" * 32}"' in listed and "by Ada Curator" in listed
    assert "Failed" in listed and "Running" not in listed
