"""Upgrading an existing database keeps its data."""
from alembic import command
from sqlalchemy import text

from kb import create_app, database
from kb.extensions import db

FIRST = "0001"


def test_upgrading_from_the_first_schema_keeps_every_row(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        with db.engine.begin() as connection:
            command.upgrade(database.alembic_config(connection), FIRST)
            connection.execute(text(
                "INSERT INTO users (id, email, display_name, password_hash, role, active, session_token,"
                " created_at, updated_at) VALUES (1, 'a@example.org', 'A', 'x', 'contributor', true, 't',"
                " '2020-01-01', '2020-01-01')"))
            connection.execute(text(
                "INSERT INTO stories (id, title, slug, kind, summary, body, status, place, sector, stage, evidence,"
                " featured, review_note, suggested_tags, suggested_areas, source, source_id, submitted_by_id,"
                " created_at, updated_at) VALUES (1, 'Kept', 'kept', 'report', 's', 'b', 'published', '', '', '',"
                " '', false, '', '[]', '[]', '', '', 1, '2020-01-01', '2020-01-01')"))
        before, after = database.upgrade()
        assert before == FIRST
        assert after == database.head_revisions()[0]
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT title FROM stories")).scalar_one() == "Kept"
            # Added later: no methods and no level of government for a story that had none.
            methods, level = connection.execute(text("SELECT methods, government_level FROM stories")).one()
            assert (str(methods), level) == ("[]", "")
            assert connection.execute(text("SELECT email FROM users")).scalar_one() == "a@example.org"
        db.engine.dispose()


def test_the_models_and_the_migrations_describe_the_same_schema(app):
    """Alembic finds nothing to add, drop or change between the migrated
    database and the models (tables, columns, types, indexes, constraints),
    leaving out only what the models make on the other database alone."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from kb.database import on_dialect

    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": on_dialect(connection.dialect.name)})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
