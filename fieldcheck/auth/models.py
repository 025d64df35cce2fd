"""Users and their API tokens (stored only as a SHA-256 hash)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
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
    #: Login name for the web app; NULL for a user who only has API tokens (phones, scripts).
    username: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    #: argon2id hash (argon2-cffi); NULL = no password, so no web login.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: Set when an admin sets the password: the user must choose their own at the next login.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    #: Wrong passwords in a row; LOGIN_MAX_FAILURES of them lock the account for a while.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    # Flask-Login's user protocol (the web app's session names a user by id).
    @property
    def is_authenticated(self) -> bool:
        """Always true for a stored user (Flask-Login)."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """Never anonymous (Flask-Login)."""
        return False

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session."""
        return str(self.id)


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is kept, the token itself is shown once at creation."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint("client IS NULL OR client IN ('odk-collect')", name="client_known"),
    )

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
    #: The app the token was issued for, so admins can tell a phone's Collect from an API
    #: client: "odk-collect", or NULL for the API (the JSON API, fieldcheck-sync, scripts).
    client: Mapped[str | None] = mapped_column(String(16))

    user: Mapped[User] = relationship(back_populates="tokens", lazy="joined")


class WebSession(db.Model):
    """A browser's login session, kept server-side: the cookie holds only a random id.

    Only the id's SHA-256 is stored (like API tokens), so a copy of the table logs nobody in.
    Deleting a user's rows logs them out everywhere (deactivation, password reset).
    """

    __tablename__ = "web_sessions"

    #: sha256 hex of the cookie's session id.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    #: The session's contents as JSON (CSRF secret, language, Flask-Login's keys).
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
