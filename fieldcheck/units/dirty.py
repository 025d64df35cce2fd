"""Dirty markers: a unit whose zoning inputs changed since the last run.

Intake, review decisions, objections and unit imports all mark units dirty in the transaction that
changes them, and the zoning run reads and clears the markers. The writers sit below zoning in the
layer order, so the marker lives here, with the unit it marks, where all of them can reach it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldcheck.clock import utcnow
from fieldcheck.columns import UTCDateTime
from fieldcheck.extensions import db


class DirtyUnit(db.Model):
    """A marker that a unit's zoning inputs changed; written in the same transaction as the change.

    A run reads the markers in its snapshot and deletes exactly those ids when it succeeds, so a
    marker committed while a run was working survives for the next run.
    """

    __tablename__ = "zoning_dirty_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(32), default="")


def mark_unit_dirty(unit_id: int, reason: str = "") -> None:
    """Record that a unit's zoning inputs changed; call it in the transaction making the change.

    The next incremental run recomputes the unit (intake, review decisions, unit imports call it).
    """
    db.session.add(DirtyUnit(unit_id=unit_id, changed_at=utcnow(), reason=reason[:32]))
