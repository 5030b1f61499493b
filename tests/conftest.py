"""Fixtures: a real database (a SQLite file per test, or a real PostgreSQL
server) and a real search index in a temporary instance folder.

Every test that uses ``app`` runs once per database backend. PostgreSQL runs
when KB_TEST_DATABASE_URL is set; KB_REQUIRE_POSTGRES=1 turns its absence
into a failure instead of a skip.
"""
from __future__ import annotations

import os
import shutil
from itertools import count

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import create_engine, text

from clients import FreshClient
from smtp_server import certificate, mailbox, smtp_app, tls_mailbox  # noqa: F401  (fixtures)
from kb import create_app, database
from kb.extensions import db
from kb.policy import SYSTEM
from kb.services import seed, stories, users

PG_URL = os.environ.get("KB_TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("KB_REQUIRE_POSTGRES") == "1"
PASSWORD = "correct horse battery staple"
_ids = count(1)


def pg_url() -> str:
    url = PG_URL
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file, copied for each test (a fresh real file per test)."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "kb.sqlite3"
    app = create_app({"INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        database.upgrade()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema():
    """The test database, emptied and migrated once per session."""
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("KB_REQUIRE_POSTGRES=1 but KB_TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL tests need KB_TEST_DATABASE_URL (for example postgresql://postgres@127.0.0.1:5432/kb_test)")
    engine = create_engine(pg_url())
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": pg_url()})
    with app.app_context():
        database.upgrade()
        tables = [t.name for t in db.metadata.sorted_tables]
        db.engine.dispose()
    return tables


def _empty_postgres(tables) -> None:
    engine = create_engine(pg_url())
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The URL of an empty, migrated database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "kb.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    _empty_postgres(request.getfixturevalue("postgres_schema"))
    return pg_url()


@pytest.fixture
def app_config(tmp_path, db_url):
    return {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": db_url,
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "BASE_URL": "http://localhost",
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    app.test_client_class = FreshClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def seeded_app(app):
    seed.load_seed(SYSTEM)
    database.commit(app)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def cli(app):
    """Run a ``kb`` command against the test app: ``cli("seed")``."""
    from kb.cli import main

    def invoke(*args, input=None, env=None):
        runner = CliRunner()
        return runner.invoke(main, list(args), input=input, env=env, obj=ScriptInfo(create_app=lambda: app),
                             catch_exceptions=False)

    return invoke


@pytest.fixture
def make_user(app):
    """Create (and commit) a user through the services."""

    def make(role: str = "contributor", email: str | None = None, password: str = PASSWORD, name: str = ""):
        email = email or f"{role}{next(_ids)}@example.org"
        user = users.create_user(SYSTEM, email, password, display_name=name or role.capitalize(), role=role)
        database.commit(app)
        return user

    return make


@pytest.fixture
def make_story(app):
    """Create (and commit) a story through the services, as ``actor``, in ``status``."""

    def make(actor=SYSTEM, status: str = "published", **fields):
        data = {"title": f"Story {next(_ids)}", "kind": "case_study", "summary": "A summary.", **fields}
        story = stories.create_story(actor, data)
        if status in ("submitted", "published", "changes_requested", "rejected"):
            stories.submit_story(actor, story)
        if status == "published":
            stories.publish_story(SYSTEM, story)
        elif status == "changes_requested":
            stories.request_changes(SYSTEM, story, "Please add evidence.")
        elif status == "rejected":
            stories.reject_story(SYSTEM, story, "Out of scope.")
        elif status == "withdrawn":
            stories.withdraw_story(actor, story)
        database.commit(app)
        return story

    return make


@pytest.fixture
def sign_in(client):
    """Sign ``user`` in on the test client (the sign-in form has its own tests)."""

    def do(user):
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return user

    return do


def pytest_terminal_summary(terminalreporter):
    """A line per database backend and for the browser, so a CI log shows what ran."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") != "call" and outcome == "passed":
                continue
            node = report.nodeid
            groups = ["postgresql" if "[postgresql" in node or "-postgresql" in node else "sqlite" if "sqlite" in node else "no database"]
            if "tests/browser/" in node:
                groups.append("browser (Chromium)")
            for group in groups:
                counts.setdefault(group, {}).setdefault(outcome, 0)
                counts[group][outcome] += 1
    terminalreporter.section("kb: what ran")
    for group in ("sqlite", "postgresql", "no database", "browser (Chromium)"):
        if group in counts:
            summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts[group].items()))
            terminalreporter.write_line(f"{group}: {summary}")
