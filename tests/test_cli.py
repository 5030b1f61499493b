"""The kb command: init, seed and users, against the real database."""
import pytest
from sqlalchemy import func, select, text

from kb import create_app, database
from kb.config import ConfigError
from kb.extensions import db
from kb.models import Story, User


def table_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def test_seed_twice_leaves_the_database_as_after_once(app, cli):
    first = cli("seed")
    assert first.exit_code == 0, first.output
    assert "5 added" in first.output
    after_once = table_counts()
    second = cli("seed")
    assert "0 added, 5 already present" in second.output
    db.session.expire_all()
    assert table_counts() == after_once


def test_seed_publishes_every_story_through_the_services(app, cli):
    cli("seed")
    stories = db.session.scalars(select(Story)).all()
    assert len(stories) == 5
    assert {s.status for s in stories} == {"published"}
    revisions = db.session.scalar(text("SELECT count(*) FROM revisions"))
    audits = db.session.scalar(text("SELECT count(*) FROM audit_events WHERE action = 'publish'"))
    assert revisions >= 10 and audits == 5


def test_init_gives_every_instance_the_four_action_areas(app, cli):
    from kb.services import taxonomy

    assert cli("init").exit_code == 0
    assert [a.slug for a in taxonomy.all_action_areas()] == ["conditions", "culture", "networks", "evaluation"]


def test_init_on_an_existing_database_keeps_its_data(app, cli):
    cli("seed")
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    assert db.session.scalar(select(func.count()).select_from(Story)) == 5


def test_init_creates_an_empty_database_from_nothing(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        before, after = database.upgrade()
        assert before is None
        assert after == database.head_revisions()[0]
        db.engine.dispose()
    assert (tmp_path / "kb.sqlite3").exists()


def test_migrations_have_one_head():
    assert len(database.head_revisions()) == 1


def test_users_create_takes_the_password_from_the_environment(app, cli):
    result = cli("users", "create", "Curator@Example.org", "--role", "curator",
                 env={"KB_PASSWORD": "a long enough password"})
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "curator@example.org"))
    assert user.role == "curator"
    assert user.password_hash != "a long enough password"


def test_users_create_refuses_a_short_password_with_a_clear_message(app, cli):
    result = cli("users", "create", "a@example.org", env={"KB_PASSWORD": "short"})
    assert result.exit_code == 1
    assert "Password must be 10 characters or more" in result.output


def test_production_needs_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_ENV", "production")
    monkeypatch.delenv("KB_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="KB_SECRET_KEY must be set"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_production_with_a_secret_key_uses_secure_cookies(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_ENV", "production")
    monkeypatch.setenv("KB_SECRET_KEY", "s3cret-from-the-environment-of-32-bytes")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "s3cret-from-the-environment-of-32-bytes"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_database_url_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}")
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("elsewhere.sqlite3")
