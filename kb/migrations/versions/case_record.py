"""The case record: sections (the old evidence text becomes results), evidence
level, contact, place as data, adoptions and "adapted from".

Revision ID: case_record
Revises: filing_suggestions
"""
from alembic import op
import sqlalchemy as sa


revision = "case_record"
down_revision = "filing_suggestions"
branch_labels = None
depends_on = None

SECTIONS = ("challenge", "approach", "results", "costs", "lessons", "replication")


def upgrade() -> None:
    with op.batch_alter_table("stories", schema=None) as batch_op:
        for name in SECTIONS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("evidence_level", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("proposed_evidence_level", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("evidence_level_reason", sa.Text(), nullable=False, server_default=""))
        for name, length in (("contact_name", 200), ("contact_role", 200), ("contact_organisation", 200),
                             ("contact_email", 320), ("contact_url", 2000)):
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("contact_agreed", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("contact_hidden", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("authority_code", sa.String(length=9), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("adapted_from_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_stories_evidence_level"), ["evidence_level"], unique=False)
        batch_op.create_index(batch_op.f("ix_stories_country"), ["country"], unique=False)
        batch_op.create_index(batch_op.f("ix_stories_authority_code"), ["authority_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_stories_adapted_from_id"), ["adapted_from_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_stories_adapted_from_id_stories"), "stories",
                                    ["adapted_from_id"], ["id"], ondelete="SET NULL")

    # The old free-text evidence is the start of the results section.
    op.execute("UPDATE stories SET results = evidence")

    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.drop_column("evidence")
        for name in (*SECTIONS, "evidence_level", "evidence_level_reason", "contact_name", "contact_role",
                     "contact_organisation", "contact_email", "contact_url", "contact_agreed",
                     "contact_hidden", "country", "authority_code"):
            batch_op.alter_column(name, server_default=None)

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home_authority_code", sa.String(length=9), nullable=False,
                                      server_default=""))
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.alter_column("home_authority_code", server_default=None)

    op.create_table(
        "adoptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("adopter_story_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["adopter_story_id"], ["stories.id"],
                                name=op.f("fk_adoptions_adopter_story_id_stories"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_adoptions_organisation_id_organisations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"],
                                name=op.f("fk_adoptions_story_id_stories"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adoptions")),
    )
    with op.batch_alter_table("adoptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adoptions_story_id"), ["story_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_adoptions_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_adoptions_adopter_story_id"), ["adopter_story_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("adoptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adoptions_adopter_story_id"))
        batch_op.drop_index(batch_op.f("ix_adoptions_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_adoptions_story_id"))
    op.drop_table("adoptions")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("home_authority_code")
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE stories SET evidence = results")
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.alter_column("evidence", server_default=None)
        batch_op.drop_constraint(batch_op.f("fk_stories_adapted_from_id_stories"), type_="foreignkey")
        for name in ("adapted_from_id", "authority_code", "country", "evidence_level"):
            batch_op.drop_index(batch_op.f(f"ix_stories_{name}"))
        for name in (*SECTIONS, "evidence_level", "proposed_evidence_level", "evidence_level_reason",
                     "contact_name", "contact_role", "contact_organisation", "contact_email", "contact_url",
                     "contact_agreed", "contact_hidden", "country", "authority_code", "adapted_from_id"):
            batch_op.drop_column(name)
