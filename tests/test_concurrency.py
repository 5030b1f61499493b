"""Real concurrent requests against a threaded server on the test's database."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from kb import database
from kb.models import Organisation, Person, Tag
from kb.services import tokens
from kb.extensions import db
from sqlalchemy import func, select


class Quiet(WSGIRequestHandler):
    def log(self, *args) -> None:
        pass


@pytest.fixture
def served(app):
    """The test app served by a threaded werkzeug server on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        # Request threads may still be returning their connections.
        db.session.remove()
        deadline = time.monotonic() + 10
        while db.engine.pool.checkedout() and time.monotonic() < deadline:
            time.sleep(0.05)


def test_requests_adding_the_same_new_organisation_tag_and_person_at_once_all_succeed(app, served, make_user):
    _, token = tokens.create_token(make_user("curator"), "concurrency")
    database.commit(app)
    statuses = []
    for round_ in range(6):
        barrier = threading.Barrier(4)

        def create(n: int, round_=round_, barrier=barrier) -> int:
            body = {"title": f"Round {round_} story {n}", "kind": "talk", "summary": "At once.",
                    "organisations": [f"Ferret Borough {round_}"], "people": [f"Ann Ferret {round_}"],
                    "tags": [f"ferret care {round_}"]}
            barrier.wait(30)
            return requests.post(f"{served}/api/v1/stories", json=body, timeout=60,
                                 headers={"Authorization": f"Bearer {token}"}).status_code

        with ThreadPoolExecutor(4) as pool:
            statuses += list(pool.map(create, range(4)))
    assert statuses == [201] * 24
    db.session.remove()
    for model in (Organisation, Person, Tag):
        assert db.session.scalar(select(func.count()).select_from(model)) == 6
