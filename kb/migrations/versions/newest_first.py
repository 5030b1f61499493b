"""An index that lists stories newest first without sorting them all

Revision ID: newest_first
Revises: suggestion_models
"""
import sqlalchemy as sa
from alembic import op

revision = "newest_first"
down_revision = "suggestion_models"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_stories_newest", "stories",
                        ["status", sa.text("published_on DESC NULLS LAST"), sa.text("id DESC")])
    else:
        op.create_index("ix_stories_newest_sqlite", "stories",
                        ["status", sa.text("published_on DESC"), sa.text("id DESC")])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_stories_newest", table_name="stories")
    else:
        op.drop_index("ix_stories_newest_sqlite", table_name="stories")
