"""Counted attempts (failed sign-ins, registrations, password-reset requests),
shared by every worker and node

Revision ID: attempts
Revises: case_record
"""
import sqlalchemy as sa
from alembic import op

revision = "attempts"
down_revision = "case_record"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempts")),
    )
    op.create_index("ix_attempts_scope_key_at", "attempts", ["scope", "key", "at"])


def downgrade() -> None:
    op.drop_index("ix_attempts_scope_key_at", table_name="attempts")
    op.drop_table("attempts")
