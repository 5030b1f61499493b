"""Stories flagged by an import as near-duplicates of another, and stories
merged into another

Revision ID: near_duplicates
Revises: date_precision
"""
import sqlalchemy as sa
from alembic import op

revision = "near_duplicates"
down_revision = "date_precision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_stories_duplicate_of_id_stories", "stories", ["duplicate_of_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_foreign_key("fk_stories_merged_into_id_stories", "stories", ["merged_into_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index("ix_stories_duplicate_of_id", ["duplicate_of_id"])
        batch.create_index("ix_stories_merged_into_id", ["merged_into_id"])


def downgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.drop_index("ix_stories_merged_into_id")
        batch.drop_index("ix_stories_duplicate_of_id")
        batch.drop_constraint("fk_stories_merged_into_id_stories", type_="foreignkey")
        batch.drop_constraint("fk_stories_duplicate_of_id_stories", type_="foreignkey")
        batch.drop_column("merged_into_id")
        batch.drop_column("duplicate_of_id")
