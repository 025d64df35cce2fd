"""The zone codes as a reference table, so that a stored zone is constrained by a foreign key.

The zone catalogue (``data/zones.toml``) is the one home of zones; this table only mirrors its
codes for the database (migration 0016 seeds them; a new zone needs a migration inserting its
code, and tests/zones/test_catalogue.py checks the two agree). Names and colours stay in the file.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fieldcheck.columns import UTCDateTime
from fieldcheck.extensions import db


class ZoneCode(db.Model):
    """One known zone code (``merah``, ``hitam``...)."""

    __tablename__ = "zones"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)


class MethodologyVersion(db.Model):
    """A methodology version an admin uploaded (issue 16): the file's bytes, kept as uploaded.

    Shipped files stay in ``data/methodologies``; the registry reads both. A draft may be
    replaced by uploading the same version again; a published (or retired) row is immutable:
    migration 0017 adds triggers refusing to change its content, hash, version or dates, or to
    delete it, and the service answers 409 before that (fieldcheck.methodologies.services).
    """

    __tablename__ = "methodology_versions"
    __table_args__ = (
        UniqueConstraint("methodology_id", "version"),
        CheckConstraint("status IN ('draft', 'published', 'retired')", name="status"),
        CheckConstraint("format IN ('toml', 'json')", name="format"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint(
            "status = 'draft' OR (effective_from IS NOT NULL AND published_at IS NOT NULL)",
            name="published_dated",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    methodology_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    #: Set by publishing (the file's own effective_from is only the draft's default).
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    #: The uploaded bytes, exactly: their sha256 is ``content_hash``, the hash scores name.
    content: Mapped[bytes] = mapped_column(LargeBinary)
    format: Mapped[str] = mapped_column(String(8))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the row last changed (upload, re-upload, publish).
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
