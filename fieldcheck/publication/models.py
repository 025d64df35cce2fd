"""A supervisor's override of a unit's final zone for one assessment period (not one run)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldcheck.auth.models import User
from fieldcheck.clock import utcnow
from fieldcheck.columns import UTCDateTime
from fieldcheck.extensions import db

ZONES = ("merah", "kuning", "hijau")


class UnitOverride(db.Model):
    """A final zone set by hand with a reason for one assessment period (a year); the computed
    result stays beside it.

    It is shown beside every run of its period, later runs included, until withdrawn; runs of
    other periods never show it. Withdrawn rows are kept as history.
    """

    __tablename__ = "unit_overrides"
    __table_args__ = (
        CheckConstraint(f"zone IN {ZONES!r}", name="zone"),
        CheckConstraint("period BETWEEN 2000 AND 2100", name="period"),
        # At most one active override per unit and period (enforced under concurrency).
        Index(
            "uq_unit_overrides_active",
            "unit_id",
            "period",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    #: The assessment period (calendar year) whose results it overrides.
    period: Mapped[int] = mapped_column(Integer)
    zone: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdraw_reason: Mapped[str | None] = mapped_column(Text)

    creator: Mapped[User] = relationship(foreign_keys=[created_by], lazy="joined")
    withdrawer: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by], lazy="joined")
