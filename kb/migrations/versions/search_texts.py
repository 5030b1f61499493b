"""Long search texts named in links by a short key

Revision ID: search_texts
Revises: import_fields
"""
import sqlalchemy as sa
from alembic import op

revision = "search_texts"
down_revision = "import_fields"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_texts",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_search_texts")),
    )


def downgrade() -> None:
    op.drop_table("search_texts")
