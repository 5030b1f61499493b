"""Schemathesis against the live app: a real server on 127.0.0.1 serving a
seeded instance; every operation of /api/v1/openapi.json is called with
generated requests (valid and invalid), with a curator's token. No response
may be a 500, and every response must match the document."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from kb import create_app, database
from kb.extensions import db
from kb.policy import SYSTEM
from kb.search.index import close_searchers
from kb.services import seed, tokens, users

from conftest import PASSWORD, _empty_postgres, pg_url
from kb.web import openapi

MAX_EXAMPLES = 12


# The server runs in a process of its own: Hypothesis seeds the random module of
# the process it runs in, and Whoosh names new index segments with it, so index
# writes from a thread of the test process would reuse one segment name.
SERVER = """
import sys
from werkzeug.serving import WSGIRequestHandler, make_server
from kb import create_app

class Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass

app = create_app({"INSTANCE_PATH": sys.argv[1], "SQLALCHEMY_DATABASE_URI": sys.argv[2], "TESTING": True,
                  "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": False})
server = make_server("127.0.0.1", 0, app, request_handler=Quiet)
print(server.server_port, flush=True)
server.serve_forever()
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_api(request, tmp_path_factory):
    """A seeded instance served by werkzeug on a free port, and a curator's token."""
    folder = tmp_path_factory.mktemp("live-api")
    if request.param == "sqlite":
        path = folder / "kb.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        _empty_postgres(request.getfixturevalue("postgres_schema"))
        url = pg_url()
    instance = str(folder / "instance")
    app = create_app({"INSTANCE_PATH": instance, "SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": False})
    with app.app_context():
        seed.load_seed(SYSTEM)
        curator = users.create_user(SYSTEM, "curator@example.org", PASSWORD, role="curator")
        _, token = tokens.create_token(curator, "schemathesis")
        database.commit(app)
        db.session.remove()
        db.engine.dispose()
    close_searchers()
    server = subprocess.Popen([sys.executable, "-c", SERVER, instance, url], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        yield {"base_url": f"http://127.0.0.1:{port}", "token": token}
    finally:
        server.terminate()
        server.wait(30)
        server.stdout.close()


# The document the app serves (the test below also checks that it is what is served).
schema = schemathesis.openapi.from_dict(openapi.document("http://127.0.0.1/api/v1"))


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case, live_api):
    """Not checked: that every schema-valid body is accepted. The services check
    more than a schema can say (a real date, a web address, a known action area,
    a story ready for review) and answer 422, as the document says."""
    case.call_and_validate(base_url=f"{live_api['base_url']}/api/v1",
                           headers={"Authorization": f"Bearer {live_api['token']}"},
                           excluded_checks=[positive_data_acceptance])


def test_the_served_document_is_the_one_tested(live_api):
    import requests

    served = requests.get(f"{live_api['base_url']}/api/v1/openapi.json", timeout=10).json()
    assert served["paths"] == openapi.document("http://127.0.0.1/api/v1")["paths"]
