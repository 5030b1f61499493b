from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.extensions import db
from kb.models.base import Timestamps


class ActionArea(db.Model):
    """One of the four areas for action named by the scaling-innovation report."""

    __tablename__ = "action_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    wording: Mapped[str] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<ActionArea {self.slug}>"


class Tag(Timestamps, db.Model):
    """A term of the curated vocabulary. A merged tag points at its survivor."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tags.id"), index=True)

    merged_into: Mapped["Tag | None"] = relationship(remote_side=[id])
    aliases: Mapped[list["TagAlias"]] = relationship(
        back_populates="tag", cascade="all, delete-orphan", order_by="TagAlias.name"
    )

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None

    @property
    def survivor(self) -> "Tag":
        """The live tag this one was merged into, through a chain of merges; itself if not merged."""
        tag, seen = self, set()
        while tag.merged_into_id is not None and tag.id not in seen:
            seen.add(tag.id)
            tag = tag.merged_into
        return tag

    @classmethod
    def by_slug(cls, slug: str) -> "Tag | None":
        """The live tag a tag's or alias's slug resolves to, following merges; or None."""
        tag = db.session.scalar(select(cls).where(cls.slug == slug))
        if tag is None:
            alias = db.session.scalar(select(TagAlias).where(TagAlias.slug == slug))
            tag = alias.tag if alias else None
        return tag.survivor if tag is not None else None

    def __repr__(self) -> str:
        return f"<Tag {self.slug}>"


class TagAlias(db.Model):
    """A synonym that resolves to its tag, in curation and in search. Old
    slugs of renamed tags are kept here too, so their URLs redirect."""

    __tablename__ = "tag_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(120), unique=True)

    tag: Mapped[Tag] = relationship(back_populates="aliases")


class Organisation(Timestamps, db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(2000), default="")
    # The ONS code of the local authority it belongs to (kb/reference), the
    # place of its stories that name none.
    home_authority_code: Mapped[str] = mapped_column(String(9), default="")

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class Person(Timestamps, db.Model):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(2000), default="")

    def __repr__(self) -> str:
        return f"<Person {self.slug}>"
