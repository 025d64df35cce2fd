"""A zoning run's read phase: one snapshot of the database into the run's work table.

The whole run (lease, read, write, one commit) is told in fieldcheck.zoning.lifecycle; this is
its read phase. On the run's one connection, inside one snapshot (REPEATABLE READ on
PostgreSQL, a deferred read transaction on SQLite), it decides full or incremental and which
anchor (the plan, ``_plan``), and fills a temporary *work table*: one row per unit to compute,
with the sum and count of its inspection scores in integer hundredths and its inspection ids,
by one SQL aggregate, so memory does not grow with the number of inspections (``_fill_work``).

An inspection scored at intake by the same methodology file and legal catalogue keeps its
stored score (the pure core is deterministic, so re-deriving it gives the same number); a unit
with any other inspection is re-scored from stored answers and posted standards with the same
core call as intake (``fieldcheck.core.evaluate``, through ``inspections.scoring.evaluate_stored``),
and its work row updated (``_compute_per_inspection``). The write phase
(fieldcheck.zoning.store) turns the work table and the plan into the run's rows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    Integer,
    String,
    Text,
    any_,
    bindparam,
    case,
    cast,
    column,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    table,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from fieldcheck.clock import utcnow
from fieldcheck.core.model import LegalCatalogue, Methodology
from fieldcheck.core.rollup import AgencyInput
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.scoring import evaluate_stored
from fieldcheck.regions.models import Region
from fieldcheck.regions.services import in_region
from fieldcheck.units.dirty import DirtyUnit
from fieldcheck.units.models import Agency, Unit
from fieldcheck.zoning import lease
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.services import COUNTED_STATUSES
from fieldcheck.zoning.sql import _refresh_statistics

log = logging.getLogger(__name__)

LEASE_NAME = "zoning"
#: Units per read on the per-inspection path: bounds memory (answers of ~5 inspections x 60
#: answers per unit) and IN lists.
UNIT_CHUNK = 500
#: Above this many dirty units an incremental run is not worth it: it runs full.
MAX_DIRTY_FOR_INCREMENTAL = 5000
#: A run shares its anchor's unit rows while it differs in at most this fraction of them (or
#: this many rows, whichever is more); beyond it stores every row and becomes the next anchor.
#: Bounds what a reader resolves and what each nightly run copies from the one before.
MAX_SHARED_FRACTION = 0.2
MIN_SHARED_ROWS = 1000

Progress = Callable[[int, int, int], None]

#: The work table: one row per unit the run computes, on the run's own connection.
WORK = table(
    "zoning_work",
    column("unit_id", Integer),
    column("code", String),
    column("name", String),
    column("region_code", String),
    column("agency_code", String),
    column("total", BigInteger),
    column("scored", Integer),
    column("counted", Integer),
    column("stale", Integer),
    column("ids", Text),
)


@dataclass
class _Plan:
    """What the read phase decided and found."""

    mode: str = "full"
    #: The run an incremental run builds on (the latest national run), or None.
    base: Any = None
    #: The complete run whose unit rows this run may share, or None.
    anchor: Any = None
    inspections: int = 0
    rescored: int = 0
    units_recomputed: int = 0
    dirty_ids: list[int] = field(default_factory=list)
    agencies: dict[str, AgencyInput] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)


#: Count keys of a run: {"units", "agencies", "regencies", "provinces"}.
PLURALS = {"unit": "units", "agency": "agencies", "regency": "regencies", "province": "provinces"}


def _among(column: Any, ids: list[int], dialect: str) -> Any:
    """``column IN ids``. On PostgreSQL ``column = ANY(:ids)`` with one array parameter: an IN
    list is one parameter per id, rendered by SQLAlchemy and parsed by psycopg at every run."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Integer)))
    return column.in_(ids)


class _Heartbeat:
    """Renews the lease and records progress at most every few seconds."""

    def __init__(self, run_id: int, holder: str, progress: Progress | None) -> None:
        self.run_id = run_id
        self.holder = holder
        self.progress = progress
        self.every = current_app.config["ZONING_HEARTBEAT_SECONDS"]
        self.lease_seconds = current_app.config["ZONING_LEASE_SECONDS"]
        self.last = time.monotonic()

    def beat(self, done: int, total: int, inspections: int, force: bool = False) -> None:
        if self.progress is not None:
            self.progress(done, total, inspections)
        if not force and time.monotonic() - self.last < self.every:
            return
        self.last = time.monotonic()
        now = utcnow()
        with db.engine.begin() as conn:
            lease.renew(LEASE_NAME, self.holder, self.lease_seconds, conn)
            conn.execute(
                update(ZoningRun.__table__)
                .where(ZoningRun.__table__.c.id == self.run_id)
                .values(progress_done=done, progress_total=total, heartbeat_at=now)
            )


def _counted(run: ZoningRun, dialect: str) -> list[Any]:
    period_from, period_to = date(run.period, 1, 1), date(run.period, 12, 31)
    if dialect == "postgresql":
        # Plain conditions: the run ANALYZEs inspections first when it has no statistics
        # (_refresh_statistics), and with them the planner picks the unit_id index for a list
        # of units and a hash aggregate for all of them. (Index-proof forms, date + 0, made
        # every estimate 1 row: a sort-based aggregate spilling to disk, twice as slow.)
        return [
            Inspection.status.in_(COUNTED_STATUSES),
            Inspection.visit_date >= period_from,
            Inspection.visit_date <= period_to,
        ]
    # SQLite: the same values through expressions no index covers, so the planner walks the
    # unit_id index (ids come out ascending, see _fill_work) instead of range-scanning the date
    # or status index (every row of the period, in random order).
    visit_date = Inspection.visit_date.op("||", return_type=Date)("")
    return [
        Inspection.status.concat("").in_(COUNTED_STATUSES),
        visit_date >= period_from,
        visit_date <= period_to,
    ]


@contextmanager
def _read_snapshot(conn: Connection) -> Iterator[Connection]:
    """A transaction on one consistent snapshot of the database (for the read phase)."""
    if conn.dialect.name == "sqlite":
        # A deferred BEGIN: WAL gives a stable snapshot without taking the write lock (writes to
        # the temporary work table do not take it either).
        conn.execution_options(fieldcheck_read_snapshot=True)
    else:
        conn.execution_options(isolation_level="REPEATABLE READ")
    with conn.begin():
        yield conn


@contextmanager
def _write_transaction(conn: Connection) -> Iterator[Connection]:
    """A write transaction on the same connection (it still sees the work table)."""
    if conn.dialect.name == "sqlite":
        conn.execution_options(fieldcheck_read_snapshot=False)
    else:
        conn.execution_options(isolation_level="READ COMMITTED")
    with conn.begin():
        yield conn


def _work_name(conn: Connection) -> str:
    # Qualified, so neither statement can touch a permanent table of the same name.
    return ("temp." if conn.dialect.name == "sqlite" else "pg_temp.") + WORK.name


def _create_work_table(conn: Connection) -> None:
    # A run that died on this pooled connection may have left its work table behind.
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_work_name(conn)}")
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {WORK.name} (unit_id INTEGER NOT NULL, "
        "code VARCHAR(64) NOT NULL, name VARCHAR(200) NOT NULL, region_code VARCHAR(13), "
        "agency_code VARCHAR(64) NOT NULL, total BIGINT NOT NULL, scored INTEGER NOT NULL, "
        "counted INTEGER NOT NULL, stale INTEGER NOT NULL, ids TEXT)"
    )


def _previous_run(conn: Connection, run: ZoningRun) -> Any:
    """The latest national run, when this run may build on it (incremental) or share its anchor.

    Dirty markers are consumed only by national, non-dry runs, so the markers present now are
    exactly the changes since the latest such run. It is usable only when it used the same
    methodology file, legal catalogue and period; what-if and regional runs store everything.
    """
    if run.is_dry_run or run.scope or run.weights:
        return None
    runs = ZoningRun.__table__
    previous = conn.execute(
        select(runs)
        .where(runs.c.state == "succeeded", runs.c.is_dry_run.is_(False), runs.c.scope == "")
        .order_by(runs.c.id.desc())
        .limit(1)
    ).first()
    if previous is None or (
        previous.methodology_hash,
        previous.catalogue_hash,
        previous.period,
    ) != (run.methodology_hash, run.catalogue_hash, run.period):
        return None
    return previous


def _plan(conn: Connection, run: ZoningRun) -> tuple[_Plan, list[int]]:
    """Full or incremental, which anchor; returns the plan and the dirty unit ids."""
    plan = _Plan()
    dirty_units: set[int] = set()
    if not run.is_dry_run and not run.scope:
        for marker_id, unit_id in conn.execute(select(DirtyUnit.id, DirtyUnit.unit_id)):
            plan.dirty_ids.append(marker_id)
            dirty_units.add(unit_id)
    previous = _previous_run(conn, run)
    if previous is None:
        return plan, []
    runs = ZoningRun.__table__
    anchor_id = previous.anchor_run_id or previous.id
    plan.anchor = (
        previous
        if anchor_id == previous.id
        else conn.execute(select(runs).where(runs.c.id == anchor_id)).first()
    )
    shared_by_previous = (previous.counts or {}).get("unit_rows_stored", 0)
    if previous.anchor_run_id is None:
        shared_by_previous = 0
    if (
        run.requested_mode != "full"
        and len(dirty_units) <= MAX_DIRTY_FOR_INCREMENTAL
        and shared_by_previous + len(dirty_units) <= _shared_limit(plan.anchor)
    ):
        plan.mode, plan.base = "incremental", previous
        return plan, sorted(dirty_units)
    return plan, []


def _shared_limit(anchor: Any) -> int:
    """How many own unit rows a run sharing ``anchor``'s rows may store."""
    units = (anchor.counts or {}).get("units", 0)
    return max(MIN_SHARED_ROWS, int(MAX_SHARED_FRACTION * units))


def _compute(
    conn: Connection,
    run: ZoningRun,
    methodology: Methodology,
    catalogue: LegalCatalogue,
    heartbeat: _Heartbeat,
    from_answers: bool,
) -> _Plan:
    """Read the snapshot into the work table (one row per unit to compute)."""
    _refresh_statistics(conn, Inspection.__tablename__)
    plan, dirty_units = _plan(conn, run)
    plan.agencies = {
        code: AgencyInput(code, name, region)
        for code, name, region in conn.execute(select(Agency.code, Agency.name, Agency.region_code))
    }
    plan.regions = {code: name for code, name in conn.execute(select(Region.code, Region.name))}

    if plan.mode == "incremental":
        # The ids themselves, not a subquery: PostgreSQL without statistics on inspections
        # planned the subquery form as a probe of the id list per inspection row.
        unit_filter = _among(Unit.id, dirty_units, conn.dialect.name)
        inspection_filter = _among(Inspection.unit_id, dirty_units, conn.dialect.name)
    elif run.scope:
        unit_filter = in_region(Unit.region_code, run.scope)
        inspection_filter = Inspection.unit_id.in_(select(Unit.id).where(unit_filter))
    else:
        unit_filter = inspection_filter = None
    counting = select(func.count()).select_from(Unit)
    if unit_filter is not None:
        counting = counting.where(unit_filter)
    total = conn.execute(counting).scalar_one()
    heartbeat.beat(0, total, 0, force=True)

    _create_work_table(conn)
    _fill_work(conn, run, methodology.rounding_places, unit_filter, inspection_filter)
    slow_query = select(WORK.c.unit_id).where(WORK.c.counted > 0).order_by(WORK.c.unit_id)
    if not from_answers:
        slow_query = slow_query.where(WORK.c.stale > 0)
    slow = list(conn.execute(slow_query).scalars())
    if slow:
        _index_work(conn, "unit_id")  # each of their rows is updated by unit id
        _compute_per_inspection(
            conn, run, methodology, catalogue, slow, from_answers, plan, heartbeat, total
        )
    plan.inspections = int(
        conn.execute(select(func.coalesce(func.sum(WORK.c.counted), 0))).scalar_one()
    )
    plan.units_recomputed = total
    # No forced write: the store writes the final progress in its own commit.
    heartbeat.beat(total, total, plan.inspections)
    return plan


def _fill_work(
    conn: Connection, run: ZoningRun, places: int, unit_filter: Any, inspection_filter: Any
) -> None:
    """One row per unit in the run's reach: sum and count of its scores in units of
    10**-places, its counted inspections, how many were scored by another methodology file or
    catalogue (``stale``), and the ids of the scored ones (comma-separated, ascending)."""
    scale = 10**places
    source: Any = Inspection.__table__
    if conn.dialect.name == "sqlite":
        # SQLite 3.40 has no ORDER BY inside group_concat; it concatenates in the order rows
        # arrive, so they come from a subquery ordered by unit and id (a walk of the unit_id
        # index, no sort). Ascending ids keep a unit's row identical across runs, which is what
        # lets a run share it with its anchor.
        inner = select(
            Inspection.id,
            Inspection.unit_id,
            Inspection.score,
            Inspection.methodology_hash,
            Inspection.catalogue_hash,
        ).where(*_counted(run, conn.dialect.name))
        if inspection_filter is not None:
            inner = inner.where(inspection_filter)
        source = inner.order_by(Inspection.unit_id, Inspection.id).subquery("ordered")
    i = source.c
    scored = i.score.isnot(None)
    fresh = (i.methodology_hash == run.methodology_hash) & (i.catalogue_hash == run.catalogue_hash)
    if conn.dialect.name == "postgresql":
        # In no particular order: an ordered aggregate forbids the hash aggregate and sorts
        # every inspection (a third of a national run). Readers do not depend on the order,
        # and a shared run compares id lists as sets (_UnitSQL.ids_differ).
        ids = func.string_agg(cast(case((scored, i.id)), Text), literal_column("','"))
    else:
        ids = func.group_concat(case((scored, i.id)), ",")
    per_unit = select(
        i.unit_id.label("unit_id"),
        func.sum(cast(func.round(i.score * scale), Integer)).label("total"),
        func.count(i.score).label("scored"),
        func.count().label("counted"),
        func.sum(case((fresh, 0), else_=1)).label("stale"),
        ids.label("ids"),
    ).group_by(i.unit_id)
    if conn.dialect.name == "postgresql":
        per_unit = per_unit.where(*_counted(run, conn.dialect.name))
        if inspection_filter is not None:
            per_unit = per_unit.where(inspection_filter)
    agg = per_unit.subquery()
    # Driven by the aggregate (units with inspections), as the one SQL aggregate of the design.
    query = select(
        Unit.id,
        Unit.code,
        Unit.name,
        Unit.region_code,
        Agency.code,
        agg.c.total,
        agg.c.scored,
        agg.c.counted,
        agg.c.stale,
        agg.c.ids,
    ).select_from(
        agg.join(Unit, Unit.id == agg.c.unit_id).join(Agency, Agency.id == Unit.agency_id)
    )
    if unit_filter is not None:
        query = query.where(unit_filter)
    names = [c.name for c in WORK.columns]
    conn.execute(insert(WORK).from_select(names, query))
    # Units are looked up by code when compared with the anchor's or the base run's rows. A
    # planner that does not know how many rows those runs have (PostgreSQL before statistics
    # catch up) picks a nested loop: without this index, one scan of the work table per row.
    _index_work(conn, "code")
    # Units in reach without a counted inspection: a row each, so a shared run knows to hide
    # the anchor's row for them (they are few: an incremental run's dirty units).
    if unit_filter is not None:
        zero = literal(0)
        conn.execute(
            insert(WORK).from_select(
                names,
                select(
                    Unit.id,
                    Unit.code,
                    Unit.name,
                    Unit.region_code,
                    Agency.code,
                    zero,
                    zero,
                    zero,
                    zero,
                    literal(None),
                )
                .join(Agency, Agency.id == Unit.agency_id)
                .where(unit_filter, ~exists().where(WORK.c.unit_id == Unit.id)),
            )
        )


def _index_work(conn: Connection, key: str) -> None:
    # Indexed once filled, and only where a lookup needs it: building an index at the end costs
    # a fraction of maintaining it row by row (about 30 ms of a national run on PostgreSQL).
    conn.exec_driver_sql(f"CREATE UNIQUE INDEX ix_{WORK.name}_{key} ON {WORK.name} ({key})")


def _compute_per_inspection(
    conn: Connection,
    run: ZoningRun,
    methodology: Methodology,
    catalogue: LegalCatalogue,
    todo: list[int],
    from_answers: bool,
    plan: _Plan,
    heartbeat: _Heartbeat,
    total: int,
) -> None:
    """Units scored inspection by inspection, re-scoring stale ones from their answers; their
    work rows get the new sums, counts and ids.

    The slow part of a run (a methodology change re-scores every inspection from its answers):
    it beats after every chunk, so the lease is renewed and progress shown while it works. A
    run that only beat at its ends lost its lease to the next run after ZONING_LEASE_SECONDS.
    """
    places = methodology.rounding_places
    scale = 10**places
    for start in range(0, len(todo), UNIT_CHUNK):
        chunk = todo[start : start + UNIT_CHUNK]
        rows = conn.execute(
            select(
                Inspection.id,
                Inspection.unit_id,
                # Integer units of 10**-places: exact, and far cheaper to fetch than Decimals.
                cast(func.round(Inspection.score * scale), Integer).label("scaled"),
                # Computed in SQL so 64-character hashes are not shipped and compared per row.
                (
                    (Inspection.methodology_hash == run.methodology_hash)
                    & (Inspection.catalogue_hash == run.catalogue_hash)
                ).label("is_fresh"),
            )
            .where(Inspection.unit_id.in_(chunk), *_counted(run, conn.dialect.name))
            .order_by(Inspection.unit_id, Inspection.id)
        ).all()
        stale = [r[0] for r in rows if from_answers or not r[3]]
        # Stale scores are re-derived from stored answers by the same core call as intake.
        rescored = {
            i: evaluation.result.score
            for i, evaluation in evaluate_stored(stale, methodology, catalogue, conn).items()
        }
        per_unit: dict[int, tuple[list[int], list[int]]] = {u: ([], []) for u in chunk}
        for inspection_id, unit_id, stored, _fresh in rows:
            if rescored and inspection_id in rescored:
                exact = rescored[inspection_id]
                stored = None if exact is None else int(exact.scaleb(places))
            if stored is not None:
                ids, values = per_unit[unit_id]
                ids.append(inspection_id)
                values.append(stored)
        plan.rescored += len(rescored)
        heartbeat.beat(total - len(todo) + start + len(chunk), total, plan.rescored)
        conn.execute(
            update(WORK)
            .where(WORK.c.unit_id == bindparam("w_unit"))
            .values(
                total=bindparam("w_total"),
                scored=bindparam("w_scored"),
                stale=0,
                ids=bindparam("w_ids"),
            ),
            [
                {
                    "w_unit": unit_id,
                    "w_total": sum(values),
                    "w_scored": len(values),
                    "w_ids": ",".join(map(str, ids)) or None,
                }
                for unit_id, (ids, values) in per_unit.items()
            ],
        )
