"""Users and their API tokens (stored only as a SHA-256 hash)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldcheck.clock import utcnow
from fieldcheck.columns import UTCDateTime
from fieldcheck.extensions import db

ROLES = ("surveyor", "supervisor", "admin")


class User(db.Model):
    """A person (or the nightly job) acting on the API, with one role and an optional region."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    #: Region code prefix the user is limited to (``35`` covers ``35.15``); NULL = national.
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is kept, the token itself is shown once at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: sha256 hex of the whole token. Tokens carry 256 random bits, so a fast hash is enough
    #: (no dictionary to attack) and lookups stay one indexed equality.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: First characters of the token, to tell tokens apart in listings without revealing them.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens", lazy="joined")
