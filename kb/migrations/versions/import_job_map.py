"""Upload imports keep the field mapping file they were given

Revision ID: import_job_map
Revises: near_duplicates
"""
import sqlalchemy as sa
from alembic import op

revision = "import_job_map"
down_revision = "near_duplicates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.add_column(sa.Column("field_map", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_column("field_map")
