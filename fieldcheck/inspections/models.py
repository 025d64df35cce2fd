"""Inspections as received from phones, with their answers, posted standards and findings."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    select,
)
from sqlalchemy.orm import Mapped, aliased, column_property, mapped_column, relationship

from fieldcheck.auth.models import User

# The zones reference table, for the zone column's foreign key.
from fieldcheck.catalogue.models import ZoneCode  # noqa: F401
from fieldcheck.clock import utcnow
from fieldcheck.columns import JSONType, UTCDateTime
from fieldcheck.extensions import db
from fieldcheck.units.models import Unit

STATUSES = ("received", "approved", "rejected", "returned")
SEVERITIES = ("violation", "warning")


class Inspection(db.Model):
    """One unannounced visit: the phone's payload as received and what the core made of it."""

    __tablename__ = "inspections"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
        CheckConstraint("finished_at >= started_at", name="finished_after_started"),
        Index("ix_inspections_unit_id_received_at", "unit_id", "received_at"),
        Index("ix_inspections_status_received_at", "status", "received_at"),
        # Intake's impossible-travel check: a surveyor's nearest visits in time (migration 0012).
        Index("ix_inspections_surveyor_id_started_at", "surveyor_id", "started_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Generated on the phone; makes the POST idempotent (one inspection per submission_id).
    submission_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    #: sha256 of the canonical JSON of the body, to tell a resend from a different body.
    payload_hash: Mapped[str] = mapped_column(String(64))
    #: The body exactly as parsed, kept as evidence of what the phone sent.
    payload: Mapped[dict] = mapped_column(JSONType)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    surveyor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    methodology_id: Mapped[str] = mapped_column(String(64))
    methodology_version: Mapped[int] = mapped_column(Integer)
    #: sha256 of the methodology file that scored it, so a score names exactly what produced it.
    methodology_hash: Mapped[str] = mapped_column(String(64))
    catalogue_hash: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Local calendar date of the visit in the unit's time zone (which legal values were in force).
    visit_date: Mapped[date] = mapped_column(Date, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="received")
    #: 0..100 rounded half-up to 2 decimals; NULL when no indicator applied.
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    #: A code of the zone catalogue (FK to the ``zones`` reference table, migration 0016).
    zone: Mapped[str | None] = mapped_column(ForeignKey("zones.code"))
    grade: Mapped[str | None] = mapped_column(String(32))
    label: Mapped[str | None] = mapped_column(String(64))
    #: The per-indicator and per-dimension breakdown the scorer returned.
    breakdown: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: Integrity flags (list of {"code", "message", ...}); filled by the evidence checks.
    flags: Mapped[list] = mapped_column(JSONType, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    #: Who took the current review decision, when, and why (the history is in ``reviews``).
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str | None] = mapped_column(Text)
    #: The returned inspection this one corrects; unique: a returned version is corrected once.
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspections.id"), unique=True, index=True
    )

    unit: Mapped[Unit] = relationship(lazy="joined")
    surveyor: Mapped[User] = relationship(lazy="joined", foreign_keys=[surveyor_id])
    # Loaded with selectinload() by the queries that show them, so lists stay one query each.
    answers: Mapped[list[Answer]] = relationship(
        cascade="all, delete-orphan", order_by="Answer.indicator_code"
    )
    posted_standards: Mapped[list[PostedStandardRow]] = relationship(
        cascade="all, delete-orphan", order_by="PostedStandardRow.position"
    )
    findings: Mapped[list[FindingRow]] = relationship(
        cascade="all, delete-orphan", order_by="FindingRow.position"
    )


class Answer(db.Model):
    """A surveyor's answer to one unit-scope indicator."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("inspection_id", "indicator_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    indicator_code: Mapped[str] = mapped_column(String(32))
    #: "yes" | "partial" | "no" | "na", or the integer on an ordinal scale as text.
    value: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    #: sha256 hex of the photos the surveyor attached to this answer.
    photos: Mapped[list] = mapped_column(JSONType, default=list)


class PostedStandardRow(db.Model):
    """What the unit displayed for one service, as recorded by the surveyor."""

    __tablename__ = "posted_standards"
    __table_args__ = (
        UniqueConstraint("inspection_id", "service_code"),
        CheckConstraint("fee_idr IS NULL OR fee_idr >= 0", name="fee_non_negative"),
        CheckConstraint("max_days IS NULL OR max_days >= 0", name="days_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    service_code: Mapped[str] = mapped_column(String(64), index=True)
    components: Mapped[list] = mapped_column(JSONType)
    fee_idr: Mapped[int | None] = mapped_column(Integer)
    max_days: Mapped[int | None] = mapped_column(Integer)
    requirements: Mapped[list] = mapped_column(JSONType, default=list)


class FindingRow(db.Model):
    """A legal finding about an inspection, citing the article it rests on."""

    __tablename__ = "findings"
    __table_args__ = (CheckConstraint(f"severity IN {SEVERITIES!r}", name="severity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    citation: Mapped[str] = mapped_column(String(200))
    #: A gettext msgid rendered with ``params`` in the reader's language (fieldcheck.i18n);
    #: rows written before migration 0008 hold finished Indonesian text and no params.
    message: Mapped[str] = mapped_column(Text)
    params: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    expected: Mapped[object] = mapped_column(JSONType, nullable=True)
    observed: Mapped[object] = mapped_column(JSONType, nullable=True)
    service_code: Mapped[str | None] = mapped_column(String(64))
    component: Mapped[str | None] = mapped_column(String(32))
    sanction: Mapped[str | None] = mapped_column(String(200))
    #: Set when an objection (sanggahan) against this finding was upheld; re-scoring skips it.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The upheld objection. No foreign key: objections already point here, and a cycle of keys
    #: would make table ordering (and SQLite batch migrations) ambiguous.
    withdrawn_by_objection_id: Mapped[int | None] = mapped_column(Integer)

    @property
    def is_withdrawn(self) -> bool:
        """True when an upheld objection withdrew this finding."""
        return self.withdrawn_at is not None


def _superseded_by_id():
    later = aliased(Inspection)
    return (
        select(later.id)
        .where(later.supersedes_id == Inspection.id)
        .correlate_except(later)
        .scalar_subquery()
    )


#: The correction that supersedes this inspection, if any (one indexed lookup, no N+1).
Inspection.superseded_by_id = column_property(_superseded_by_id())
