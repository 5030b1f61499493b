"""Filing suggestions: kb's suggested action areas and tags per story, and
curators' declines

Revision ID: filing_suggestions
Revises: email_accounts
"""
import sqlalchemy as sa
from alembic import op

revision = "filing_suggestions"
down_revision = "email_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "area_suggestions",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("action_area_id", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["action_area_id"], ["action_areas.id"],
                                name=op.f("fk_area_suggestions_action_area_id_action_areas"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], name=op.f("fk_area_suggestions_story_id_stories"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("story_id", "action_area_id", name=op.f("pk_area_suggestions")),
    )
    with op.batch_alter_table("area_suggestions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_area_suggestions_action_area_id"), ["action_area_id"], unique=False)

    op.create_table(
        "tag_suggestions",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], name=op.f("fk_tag_suggestions_story_id_stories"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], name=op.f("fk_tag_suggestions_tag_id_tags"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("story_id", "tag_id", name=op.f("pk_tag_suggestions")),
    )
    with op.batch_alter_table("tag_suggestions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tag_suggestions_tag_id"), ["tag_id"], unique=False)

    op.create_table(
        "suggestion_declines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("action_area_id", sa.Integer(), nullable=True),
        sa.Column("tag_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("declined_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["action_area_id"], ["action_areas.id"],
                                name=op.f("fk_suggestion_declines_action_area_id_action_areas"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["declined_by_id"], ["users.id"],
                                name=op.f("fk_suggestion_declines_declined_by_id_users")),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], name=op.f("fk_suggestion_declines_story_id_stories"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], name=op.f("fk_suggestion_declines_tag_id_tags"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_declines")),
    )
    with op.batch_alter_table("suggestion_declines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suggestion_declines_story_id"), ["story_id"], unique=False)


def downgrade() -> None:
    op.drop_table("suggestion_declines")
    op.drop_table("tag_suggestions")
    op.drop_table("area_suggestions")
