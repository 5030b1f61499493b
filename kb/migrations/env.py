"""Alembic environment: runs on the connection kb.database hands it."""
from alembic import context

from kb.database import on_dialect
from kb.extensions import db
import kb.models  # noqa: F401  (registers every table on the metadata)

config = context.config
target_metadata = db.metadata


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=on_dialect(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
