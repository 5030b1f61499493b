"""Stories keep the precision of their date: a year, a month or a day

Revision ID: date_precision
Revises: import_jobs
"""
import sqlalchemy as sa
from alembic import op

revision = "date_precision"
down_revision = "import_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("published_on_precision", sa.String(length=5), nullable=False, server_default=""))
    # Every date kept so far was kept as a day.
    op.execute("UPDATE stories SET published_on_precision = 'day' WHERE published_on IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("published_on_precision")
