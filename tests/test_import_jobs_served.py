"""Upload imports through a real ``kb serve`` (gunicorn, two worker processes):
the progress and the report come from the database, whichever worker answers,
and an import left by a process that died is resumed there."""
from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.live import LiveServer, make_instance  # noqa: E402
from test_import_jobs import records  # noqa: E402
from test_serving import csrf_token  # noqa: E402

PASSWORD = "correct horse battery staple"
STOPPED = "c" * 32


@pytest.fixture
def import_instance(tmp_path, db_url):
    """An instance with a curator, three records a dead process imported, and its stopped job."""
    from kb import create_app, database
    from kb.extensions import db
    from kb.importers import import_file
    from kb.models import ImportJob
    from kb.models.base import utcnow
    from kb.policy import SYSTEM
    from kb.services import users

    env = make_instance(tmp_path / "imports", db_url)
    app = create_app({"INSTANCE_PATH": env["KB_INSTANCE_PATH"], "SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        curator = users.create_user(SYSTEM, "curator@example.org", PASSWORD, role="curator")
        import_file(SYSTEM, records(3), "jsonl", app=app)
        db.session.add(ImportJob(id=STOPPED, user_id=curator.id, filename="records.jsonl", format="jsonl",
                                 status="submitted", dry_run=False, include_private=False, data=records(6),
                                 state="running", done=3, total=6, error="", resumable=False, run=1, host="gone",
                                 pid=1, heartbeat_at=utcnow() - timedelta(hours=2)))
        database.commit(app)
        db.session.remove()
        db.engine.dispose()
    return env


def until_finished(browser, url: str) -> dict:
    """Poll the job's status (any worker may answer) until it is neither queued nor running."""
    for _ in range(600):
        state = browser.get(f"{url}/status.json", timeout=60).json()
        if state["state"] not in ("queued", "running"):
            return state
        time.sleep(0.5)
    raise AssertionError(f"the import at {url} did not finish: {state}")


def test_an_upload_and_a_resume_run_in_served_workers_and_report_from_the_database(import_instance):
    import requests

    with LiveServer({**import_instance, "KB_SECRET_KEY": "k" * 32}, workers=2) as server, \
            requests.Session() as browser:
        browser.post(f"{server.url}/account/sign-in", timeout=60, data={
            "csrf_token": csrf_token(browser, f"{server.url}/account/sign-in"), "email": "curator@example.org",
            "password": PASSWORD})
        stopped_url = f"{server.url}/curate/import/{STOPPED}"
        page = browser.get(stopped_url, timeout=60).text
        assert "stopped answering" in page and 'id="resume-import"' in page
        resumed = browser.post(f"{stopped_url}/resume", timeout=60, allow_redirects=False,
                               data={"csrf_token": csrf_token(browser, stopped_url)})
        assert resumed.status_code == 303
        assert until_finished(browser, stopped_url)["state"] == "done"
        assert "3 imported, 3 skipped, 0 failed" in browser.get(stopped_url, timeout=60).text

        uploaded = browser.post(f"{server.url}/curate/import/", timeout=120, allow_redirects=False, data={
            "csrf_token": csrf_token(browser, f"{server.url}/curate/import/"), "format": "auto",
            "status": "published"}, files={"file": ("many.jsonl", records(300))})
        assert uploaded.status_code == 303
        job_url = urljoin(server.url, uploaded.headers["Location"])
        assert until_finished(browser, job_url) == {"state": "done", "done": 300, "total": 300}
        assert "294 imported, 6 skipped, 0 failed" in browser.get(job_url, timeout=60).text
