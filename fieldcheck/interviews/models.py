"""Interview records as received from surveyors, with what the core made of their answers.

Personal data is minimised (UU 27/2022 on personal data protection): a record holds no name,
national ID number, telephone or address of the respondent, only the coarse attributes the
methodology needs to describe the sample (``respondent``: role, gender, age band). Interview
records are never exported.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldcheck.auth.models import User
from fieldcheck.clock import utcnow
from fieldcheck.columns import JSONType, UTCDateTime
from fieldcheck.extensions import db
from fieldcheck.units.models import Agency, Unit

#: ``received`` counts towards a result; a supervisor may ``reject`` a record (it then does not).
INTERVIEW_STATUSES = ("received", "rejected")
#: What an instrument's records are about (core.model.INSTRUMENT_LEVELS).
INTERVIEW_LEVELS = ("unit", "agency")


class Interview(db.Model):
    """One interview (or survey questionnaire) of one respondent, under one methodology version."""

    __tablename__ = "interviews"
    __table_args__ = (
        CheckConstraint(f"status IN {INTERVIEW_STATUSES!r}", name="status"),
        CheckConstraint(f"level IN {INTERVIEW_LEVELS!r}", name="level"),
        # A unit-level record names its unit; an agency-level one names none.
        CheckConstraint(
            "(level = 'unit' AND unit_id IS NOT NULL) OR (level = 'agency' AND unit_id IS NULL)",
            name="level_unit",
        ),
        Index("ix_interviews_agency_id_interview_date", "agency_id", "interview_date"),
        Index("ix_interviews_unit_id_interview_date", "unit_id", "interview_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Generated on the phone; makes the POST idempotent (one record per submission_id).
    submission_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    #: sha256 of the canonical JSON of the body, to tell a resend from a different body.
    payload_hash: Mapped[str] = mapped_column(String(64))
    #: The instrument code of the methodology (``staf``, ``pengguna``, ``petugas_pengaduan``...).
    instrument: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(8))
    methodology_id: Mapped[str] = mapped_column(String(64))
    methodology_version: Mapped[int] = mapped_column(Integer)
    #: sha256 of the methodology content the record was validated and scored with.
    methodology_hash: Mapped[str] = mapped_column(String(64))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    surveyor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: Local calendar date of the interview (which methodology version was in force).
    interview_date: Mapped[date] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Coarse respondent attributes only ({"role", "gender", "age_band"}); never a name.
    respondent: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: Indicator code -> answer (an integer on the question's scale, a yes_no word, or "na").
    answers: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: Dimension code -> the record's score on the methodology's scale (core.scoring), or null.
    dimensions: Mapped[dict] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="received")
    #: Why a supervisor rejected it.
    status_reason: Mapped[str | None] = mapped_column(Text)

    agency: Mapped[Agency] = relationship(lazy="joined")
    unit: Mapped[Unit | None] = relationship(lazy="joined")
    surveyor: Mapped[User] = relationship(lazy="joined")
