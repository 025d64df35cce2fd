"""Review history, comments on inspections and objections (sanggahan) to findings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldcheck.auth.models import User
from fieldcheck.clock import utcnow
from fieldcheck.columns import JSONType, UTCDateTime
from fieldcheck.extensions import db

DECISIONS = ("approve", "reject", "return")
OBJECTION_STATES = ("pending", "upheld", "dismissed")


class Review(db.Model):
    """One review decision on an inspection; the inspection row carries only the latest."""

    __tablename__ = "reviews"
    __table_args__ = (CheckConstraint(f"decision IN {DECISIONS!r}", name="decision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Comment(db.Model):
    """A remark on an inspection by anyone who may see it."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")


class Objection(db.Model):
    """The assessed agency's reply to a finding, recorded by a supervisor, and its decision."""

    __tablename__ = "objections"
    __table_args__ = (CheckConstraint(f"status IN {OBJECTION_STATES!r}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), index=True
    )
    #: Denormalised from the finding so "objections of an inspection" is one indexed query.
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    #: The agency's counter-evidence, as text.
    text: Mapped[str] = mapped_column(Text)
    #: sha256 hex of photos supporting the objection.
    photos: Mapped[list] = mapped_column(JSONType, default=list)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
