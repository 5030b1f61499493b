"""The trained filing-suggestion model is stored, for every worker to load

Revision ID: suggestion_models
Revises: import_job_map
"""
import sqlalchemy as sa
from alembic import op

revision = "suggestion_models"
down_revision = "import_job_map"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suggestion_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("decisions", sa.String(length=200), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_models")),
    )
    with op.batch_alter_table("suggestion_models") as batch_op:
        batch_op.create_index(batch_op.f("ix_suggestion_models_kind"), ["kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("suggestion_models") as batch_op:
        batch_op.drop_index(batch_op.f("ix_suggestion_models_kind"))
    op.drop_table("suggestion_models")
