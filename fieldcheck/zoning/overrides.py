"""A unit's final zone: its computed zone, unless a supervisor's override is in force.

The override is a publication decision (fieldcheck.publication sets and withdraws it, audited);
it lives here, below publication, because every reader of zoning results shows it beside the
computed zone (``final_zone``): the results API, a unit's result, the dashboard.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldcheck.auth.models import User
from fieldcheck.clock import utcnow
from fieldcheck.columns import UTCDateTime
from fieldcheck.extensions import db
from fieldcheck.units.models import Unit


class UnitOverride(db.Model):
    """A final zone set by hand with a reason for one assessment period (a year); the computed
    result stays beside it.

    It is shown beside every run of its period, later runs included, until withdrawn; runs of
    other periods never show it. Withdrawn rows are kept as history.
    """

    __tablename__ = "unit_overrides"
    __table_args__ = (
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
    #: A code of the zone catalogue (FK to the ``zones`` reference table, migration 0016).
    zone: Mapped[str] = mapped_column(ForeignKey("zones.code"))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdraw_reason: Mapped[str | None] = mapped_column(Text)

    creator: Mapped[User] = relationship(foreign_keys=[created_by], lazy="joined")
    withdrawer: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by], lazy="joined")


def active_overrides_by_code(codes: Iterable[str], period: int) -> dict[str, UnitOverride]:
    """Overrides in force for ``period`` for the given unit codes, by code: one query."""
    codes = list(codes)
    if not codes:
        return {}
    rows = db.session.execute(
        select(Unit.code, UnitOverride)
        .join(UnitOverride, UnitOverride.unit_id == Unit.id)
        .where(
            Unit.code.in_(codes),
            UnitOverride.period == period,
            UnitOverride.withdrawn_at.is_(None),
        )
    ).all()
    return {code: row for code, row in rows}


def final_zone(zone: str | None, override: UnitOverride | None) -> str | None:
    """A unit's final zone: that of its override in force for the run's period, else the
    computed ``zone`` (roll-ups stay computed from scores, decisions item 54)."""
    return zone if override is None else override.zone
