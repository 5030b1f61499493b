"""kb's own suggestions for filing a story (computed, replaced on every
refresh) and the curators' declines (decisions, kept)."""
from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.extensions import db
from kb.models.base import utcnow
from kb.models.taxonomy import ActionArea, Tag


class AreaSuggestion(db.Model):
    """How confident kb is that a story speaks to an area, and the sentence that shows it."""

    __tablename__ = "area_suggestions"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    action_area_id: Mapped[int] = mapped_column(
        ForeignKey("action_areas.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    confidence: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(300), default="")

    action_area: Mapped[ActionArea] = relationship(lazy="joined")


class TagSuggestion(db.Model):
    """A tag of the vocabulary that a story's text names but the story does not carry."""

    __tablename__ = "tag_suggestions"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True)
    score: Mapped[float] = mapped_column(Float)

    tag: Mapped[Tag] = relationship(lazy="joined")


class SuggestionDecline(db.Model):
    """A curator's "no" to one suggested area or tag of one story: never suggested again."""

    __tablename__ = "suggestion_declines"

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    action_area_id: Mapped[int | None] = mapped_column(ForeignKey("action_areas.id", ondelete="CASCADE"))
    tag_id: Mapped[int | None] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(300), default="")
    declined_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SuggestionModel(db.Model):
    """The filing-suggestion model trained on the curators' decisions as they
    stood (``decisions``), stored so that every worker and node loads it
    instead of training it: ``kind`` names the method and the versions of
    the classifier and scikit-learn that made ``data`` (a pickle of
    ``kb.classifier.Model``), and only a model of the running kind is loaded."""

    __tablename__ = "suggestion_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(100), index=True)
    decisions: Mapped[str] = mapped_column(String(200))
    examples: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
