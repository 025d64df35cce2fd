"""A supervisor's override of a unit's final zone; it belongs to the unit, not to a run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldcheck.auth.models import User
from fieldcheck.clock import utcnow
from fieldcheck.columns import UTCDateTime
from fieldcheck.extensions import db

ZONES = ("merah", "kuning", "hijau")


class UnitOverride(db.Model):
    """A final zone set by hand with a reason; the computed result stays beside it.

    It survives later zoning runs until withdrawn; withdrawn rows are kept as history.
    """

    __tablename__ = "unit_overrides"
    __table_args__ = (
        CheckConstraint(f"zone IN {ZONES!r}", name="zone"),
        # At most one active override per unit (the database enforces it under concurrency).
        Index(
            "uq_unit_overrides_active",
            "unit_id",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    zone: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdraw_reason: Mapped[str | None] = mapped_column(Text)

    creator: Mapped[User] = relationship(foreign_keys=[created_by], lazy="joined")
    withdrawer: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by], lazy="joined")
