"""Stories keep the methods they used and their level of government (from an
import's field mapping)

Revision ID: import_fields
Revises: attempts
"""
import sqlalchemy as sa
from alembic import op

revision = "import_fields"
down_revision = "attempts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("methods", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("government_level", sa.String(length=20), nullable=False, server_default=""))
        batch.create_index("ix_stories_government_level", ["government_level"])


def downgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.drop_index("ix_stories_government_level")
        batch.drop_column("government_level")
        batch.drop_column("methods")
