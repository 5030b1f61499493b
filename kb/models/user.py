from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.extensions import db
from kb.models.base import Timestamps, utcnow

ROLES = ("contributor", "curator", "admin")


class User(UserMixin, Timestamps, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="contributor")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Changes when the password changes, so old sessions and remember-me cookies end.
    session_token: Mapped[str] = mapped_column(String(64))
    # None until the person follows the link sent to the address.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Kinds of email turned off or on, {kind: bool}; a missing kind takes its default.
    email_preferences: Mapped[dict] = mapped_column(JSON, default=dict)
    # The mail server refused the address or a message bounced: alerts stop.
    email_bounced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    email_bounce_reason: Mapped[str] = mapped_column(String(500), default="")
    digest_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated user cannot sign in
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(db.Model):
    """A personal API token; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class Attempt(db.Model):
    """One counted attempt (a failed sign-in, a registration, a password-reset
    request), kept in the database so that every worker and node counts it."""

    __tablename__ = "attempts"
    __table_args__ = (Index("ix_attempts_scope_key_at", "scope", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
