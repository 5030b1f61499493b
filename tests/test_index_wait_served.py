"""A save through a real ``kb serve`` while another process holds the search
index's write lock (an import indexing): the request waits at most
INDEX_REQUEST_WAIT, answers, and the change is searchable once the lock is free."""
from __future__ import annotations

import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.corpus import generate  # noqa: E402
from bench.live import LiveServer, make_instance  # noqa: E402


def call(url: str, method: str = "GET", body: dict | None = None, token: str = "") -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    # Far shorter than the index's own write timeout below: a save that waited
    # for the lock as a sync outside a request does would not answer in time.
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.status, json.loads(response.read())


def test_a_save_answers_while_another_process_holds_the_index_and_is_found_after(tmp_path, db_url):
    from kb import create_app, database
    from kb.policy import SYSTEM
    from kb.search.index import IndexHome, writer
    from kb.services import tokens, users

    env = make_instance(tmp_path / "held", db_url, stories=generate(30))
    instance = Path(env["KB_INSTANCE_PATH"])
    (instance / "config.py").write_text("INDEX_WRITE_TIMEOUT = 900.0\n")
    app = create_app({"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": env.get("KB_DATABASE_URL", db_url)})
    with app.app_context():
        curator = users.create_user(SYSTEM, "curator@example.org", "correct horse battery staple", role="curator")
        _, token = tokens.create_token(curator, "tests")
        database.commit(app, sync=False)
        from kb.extensions import db

        db.session.remove()
        db.engine.dispose()
    ix = IndexHome(instance / "index").open()
    with LiveServer(env, workers=2) as server:
        _, listed = call(f"{server.url}/api/v1/stories?per_page=1")
        slug = listed["results"][0]["slug"]
        with writer(ix, 5):
            status, _ = call(f"{server.url}/api/v1/stories/{slug}", "PATCH",
                             {"summary": "Quokkalantern residents ran the library."}, token)
            assert status == 200
        found = [call(f"{server.url}/api/v1/search?q=quokkalantern")[1]["total"] for _ in range(3)]
    assert found[-1] == 1, found
