"""Zoning runs and what they own: results, changes; plus the lease, dirty markers and the outbox."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from fieldcheck.clock import utcnow
from fieldcheck.columns import JSONType, UTCDateTime
from fieldcheck.extensions import db

RUN_STATES = ("queued", "running", "succeeded", "failed", "skipped")
RUN_MODES = ("full", "incremental")
LEVELS = ("unit", "agency", "regency", "province")


class ZoningRun(db.Model):
    """One computation of zones for a methodology, a period and a region scope."""

    __tablename__ = "zoning_runs"
    __table_args__ = (
        CheckConstraint(f"state IN {RUN_STATES!r}", name="state"),
        CheckConstraint(f"mode IN {RUN_MODES!r}", name="mode"),
        CheckConstraint("NOT (is_dry_run AND is_official)", name="dry_run_never_official"),
        CheckConstraint("NOT is_official OR state = 'succeeded'", name="official_succeeded"),
        # At most one official (published) run per methodology, period and scope.
        Index(
            "uq_zoning_runs_official",
            "methodology_id",
            "period",
            "scope",
            unique=True,
            sqlite_where=text("is_official"),
            postgresql_where=text("is_official"),
        ),
        Index("ix_zoning_runs_state_created_at", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    methodology_id: Mapped[str] = mapped_column(String(64))
    methodology_version: Mapped[int] = mapped_column(Integer)
    #: sha256 of the methodology file; with weights, of the file plus the weights.
    methodology_hash: Mapped[str] = mapped_column(String(64))
    catalogue_hash: Mapped[str] = mapped_column(String(64))
    #: Assessment period: a calendar year of visit dates (local to each unit).
    period: Mapped[int] = mapped_column(Integer)
    #: Region prefix the run covers; "" = national.
    scope: Mapped[str] = mapped_column(String(13), default="")
    #: What was asked ("incremental" may still run full when no usable base run exists).
    requested_mode: Mapped[str] = mapped_column(String(16), default="incremental")
    mode: Mapped[str] = mapped_column(String(16), default="full")
    #: What-if: stores its rows for inspection but is never official and consumes no dirty marks.
    is_dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Draft indicator weights of a what-if run: {indicator_code: weight}.
    weights: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    #: "api", "web" (a page), "cli" or "schedule".
    trigger: Mapped[str] = mapped_column(String(16), default="cli")
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The succeeded run whose clean unit results an incremental run reused.
    base_run_id: Mapped[int | None] = mapped_column(ForeignKey("zoning_runs.id"))
    #: Set when the run stores only the unit rows that differ from a complete run (its anchor)
    #: and shares the anchor's other unit rows; NULL when the run stores every unit row itself.
    #: See fieldcheck.zoning.results.
    anchor_run_id: Mapped[int | None] = mapped_column(ForeignKey("zoning_runs.id"))
    #: The published run the changes are measured against.
    compared_run_id: Mapped[int | None] = mapped_column(ForeignKey("zoning_runs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    #: {"inspections", "units", "units_recomputed", "agencies", "regencies", "provinces", ...}.
    counts: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: Why the run failed or was skipped: a gettext msgid rendered with ``error_params`` in the
    #: reader's language (fieldcheck.i18n); runs stored before migration 0009, and an unexpected
    #: exception's text, have no params and are shown as stored.
    error: Mapped[str | None] = mapped_column(Text)
    error_params: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    is_official: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The run this one repeats (``zoning.services.rerun``): its results are compared with it.
    rerun_of_id: Mapped[int | None] = mapped_column(ForeignKey("zoning_runs.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def duration_seconds(self) -> float | None:
        """Wall time from start to finish, or None while it has not finished."""
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)


class ZoningResult(db.Model):
    """One row of a run's result: a unit, agency, regency or province with score, zone and rank.

    Written once, in the transaction that marks the run succeeded; never updated afterwards. A run
    with an ``anchor_run_id`` stores only the unit rows that differ from its anchor (and a
    tombstone, ``is_removed``, for an anchor unit it no longer has); its unit ranks are computed
    when read. Read unit rows through ``fieldcheck.zoning.results``, never straight from here.
    """

    __tablename__ = "zoning_results"
    __table_args__ = (
        UniqueConstraint("run_id", "level", "code"),
        CheckConstraint(f"level IN {LEVELS!r}", name="level"),
        # A tombstone hides an anchor run's unit row in a run that shares the anchor's rows.
        CheckConstraint("NOT is_removed OR level = 'unit'", name="removed_unit"),
        Index("ix_zoning_results_run_id_level_rank", "run_id", "level", "rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("zoning_runs.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    #: Where it is: the unit's region, the agency's location, or the region itself.
    region_code: Mapped[str | None] = mapped_column(String(13))
    agency_code: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    zone: Mapped[str] = mapped_column(String(8))
    grade: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(64))
    rank: Mapped[int] = mapped_column(Integer)
    #: Inspections (unit), units (agency) or agencies (region) averaged.
    members: Mapped[int] = mapped_column(Integer)
    #: Unit rows: ids of the inspections used, so a unit result can be explained and re-derived.
    inspection_ids: Mapped[list | None] = mapped_column(JSONType, nullable=True)
    is_removed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    #: Agency rows: the exact sum of their unit scores in units of 10**-places (the score is
    #: its rounded mean), so a run sharing this run's unit rows can adjust it by its own rows.
    score_total: Mapped[int | None] = mapped_column(BigInteger)


class ZoningSubject(db.Model):
    """What a run scored a subject from, for methodologies scored by dimensions (issue 16).

    One row per agency (``zoning_level = "agency"``) or unit (unit-level instruments, SKM) the
    run read any record for: its dimension scores with each source's value, records and units,
    and, when it is *incomplete*, the gaps that keep it from a zone. A complete subject also has
    its ``zoning_results`` row (score, zone, grade, label, rank); an incomplete one never does.
    Written in the run's commit, never updated (fieldcheck.zoning.dimensional).
    """

    __tablename__ = "zoning_subjects"
    __table_args__ = (
        UniqueConstraint("run_id", "level", "code"),
        CheckConstraint("level IN ('unit', 'agency')", name="level"),
        # A complete subject has a total; an incomplete one has none (never silently zoned).
        CheckConstraint("is_complete = (score IS NOT NULL)", name="complete_scored"),
        Index("ix_zoning_subjects_run_id_is_complete", "run_id", "is_complete"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("zoning_runs.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(13))
    agency_code: Mapped[str | None] = mapped_column(String(64))
    is_complete: Mapped[bool] = mapped_column(Boolean)
    #: The weighted total (None when incomplete); the same number as its zoning_results row.
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    #: [{"code", "weight", "score", "sources": [{"source", "weight", "score", "records",
    #: "units"}]}] in the methodology's dimension order (core.dimensions.DimensionResult).
    dimensions: Mapped[list] = mapped_column(JSONType, default=list)
    #: [{"kind", "message" (msgid), "params", "source", "dimension", "unit", "have", "need"}];
    #: empty when complete. Rendered in the reader's language when read.
    gaps: Mapped[list] = mapped_column(JSONType, default=list)
    #: Source (``observation`` or an instrument code) -> records read.
    counts: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: Codes of the units some record is about (the sampled units).
    units: Mapped[list] = mapped_column(JSONType, default=list)
    #: Ids of the inspections and interviews read, so the result can be re-derived.
    inspection_ids: Mapped[list] = mapped_column(JSONType, default=list)
    interview_ids: Mapped[list] = mapped_column(JSONType, default=list)
    #: Each sampled unit's own inputs: {unit: {source: {"records", "dimensions": {code:
    #: mean}}}}, what a unit of an agency-level methodology shows (it is not zoned itself).
    unit_inputs: Mapped[dict] = mapped_column(JSONType, default=dict)


class ZoningChange(db.Model):
    """A unit or agency whose zone or score differs from the run it was compared with."""

    __tablename__ = "zoning_changes"
    __table_args__ = (UniqueConstraint("run_id", "level", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("zoning_runs.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(13))
    old_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    new_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    old_zone: Mapped[str | None] = mapped_column(String(8))
    new_zone: Mapped[str | None] = mapped_column(String(8))
    is_zone_move: Mapped[bool] = mapped_column(Boolean, default=False)


class Lease(db.Model):
    """A named, expiring lock in the database: only its holder may run the guarded work."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: "host:pid:uuid" of the process that holds it; NULL when free.
    holder: Mapped[str | None] = mapped_column(String(120))
    run_id: Mapped[int | None] = mapped_column(Integer)
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The outbox moved to fieldcheck.outbox (every package writes it now); the name stays importable
# from here for code and tests written before the move.
from fieldcheck.outbox.models import OutboxEvent  # noqa: E402, F401
