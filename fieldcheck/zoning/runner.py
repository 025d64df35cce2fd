"""Execute a zoning run: lease, snapshot, (re)score units, roll up, store everything in one commit.

Shape of a run (the CLI, the scheduler and the API queue all come here):

1. take the ``zoning`` lease (or record the run as skipped / leave it queued); a lease found
   expired means its holder died: every other ``running`` run is marked failed;
2. on ONE connection, read everything from one snapshot (REPEATABLE READ on PostgreSQL, a
   deferred read transaction on SQLite) into a temporary *work table*, one row per unit to
   compute: the sum and count of its inspection scores in integer hundredths and its inspection
   ids, by one SQL aggregate, so memory does not grow with the number of inspections;
3. an inspection scored at intake by the same methodology file and legal catalogue keeps its
   stored score (the pure core is deterministic, so re-deriving it gives the same number); a unit
   with any other inspection is re-scored from stored answers and posted standards with the same
   pure core (``fieldcheck.core.evaluate``, through ``inspections.scoring.evaluate_stored``) and
   its work row updated;
4. in one write transaction on the same connection (re-checking the lease): unit rows go from
   the work table to the results in SQL (half-up mean, band and rank as SQL expressions generated
   from the methodology); agencies, regencies and provinces are rolled up by the pure core from
   per-agency sums; changes against the official run, counts, outbox events, consumed dirty
   markers and ``state = succeeded`` are written in the same commit. Nothing of a run that fails
   or dies is ever visible as a result.

Incremental runs compute only units with dirty markers. Storage is shared: a run of the same
methodology, catalogue and period as a *complete* run (its anchor) stores only the unit rows that
differ from the anchor (fieldcheck.zoning.results); a run whose differences would exceed
``MAX_SHARED_FRACTION`` of the units stores everything and becomes the next anchor.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Date,
    Integer,
    Numeric,
    String,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    column,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import utcnow
from fieldcheck.core.model import ZONES, LegalCatalogue, Methodology
from fieldcheck.core.rollup import LEVELS, AgencyInput, complete_within, roll_up_agencies
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.scoring import evaluate_stored
from fieldcheck.regions.models import Region
from fieldcheck.regions.services import in_region
from fieldcheck.units.models import Agency, Unit
from fieldcheck.zoning import lease
from fieldcheck.zoning.models import (
    DirtyUnit,
    OutboxEvent,
    ZoningChange,
    ZoningResult,
    ZoningRun,
)
from fieldcheck.zoning.results import COLUMNS as RESULT_ROW_COLUMNS
from fieldcheck.zoning.results import code_in, unit_rows
from fieldcheck.zoning.services import COUNTED_STATUSES, apply_weights, official_run_query

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
#: From this many own unit rows a run refreshes the planner's statistics on run ids before
#: reading them back (_analyze_run_ids); below it a bad plan costs less than the ANALYZE.
ANALYZE_OWN_ROWS = 100

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
class Outcome:
    """What ``execute`` did with a run."""

    run_id: int
    state: str  # succeeded | failed | skipped | queued (lease busy, left for the next poll)
    message: str = ""
    holder_run_id: int | None = None


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


def _mark_failed(run_id: int, message: str) -> None:
    db.session.rollback()
    db.session.execute(
        update(ZoningRun)
        .where(ZoningRun.id == run_id)
        .values(state="failed", error=message[:2000], finished_at=utcnow())
    )
    db.session.commit()


def _reap_stale(run_id: int | None) -> int:
    """Mark failed every run still 'running' other than ours: we hold the lease, they cannot."""
    query = update(ZoningRun).where(ZoningRun.state == "running")
    if run_id is not None:
        query = query.where(ZoningRun.id != run_id)
    result = db.session.execute(
        query.values(
            state="failed",
            error=(
                "The process running it stopped (its lease expired or its process is gone); "
                "nothing was published."
            ),
            finished_at=utcnow(),
        )
    )
    return result.rowcount or 0


def reap_dead_runs() -> int:
    """Mark failed the runs left 'running' by a process that died, when no live run holds the
    lease; returns how many. The scheduler calls it on its heartbeat: a killed run shows as
    failed within a beat of its lease freeing up, not only when the next run starts.
    """
    db.session.rollback()
    running = db.session.execute(
        select(ZoningRun.id).where(ZoningRun.state == "running").limit(1)
    ).first()
    db.session.rollback()
    if running is None:
        return 0
    holder = lease.new_holder()
    grant = lease.acquire(LEASE_NAME, holder, current_app.config["ZONING_LEASE_SECONDS"])
    if not grant.acquired:
        return 0  # a live run holds it: 'running' is the truth
    try:
        reaped = _reap_stale(None)
        db.session.commit()
    finally:
        lease.release(LEASE_NAME, holder)
    if reaped:
        log.warning("marked %d stale zoning run(s) failed", reaped)
    return reaped


def execute(
    run_id: int,
    *,
    progress: Progress | None = None,
    leave_queued_when_busy: bool = False,
    from_answers: bool = False,
) -> Outcome:
    """Run a queued run to the end under the lease; commits. Never raises for a failed run.

    When another process holds the lease the run is recorded as ``skipped`` (or, for a run
    queued through the API, left queued for the next poll).
    """
    config = current_app.config
    holder = lease.new_holder()
    db.session.rollback()
    grant = lease.acquire(LEASE_NAME, holder, config["ZONING_LEASE_SECONDS"], run_id)
    if not grant.acquired:
        message = f"skipped: another run holds the lease (run #{grant.other_run_id})"
        if leave_queued_when_busy:
            return Outcome(run_id, "queued", message, grant.other_run_id)
        db.session.execute(
            update(ZoningRun)
            .where(ZoningRun.id == run_id, ZoningRun.state == "queued")
            .values(state="skipped", error=message, finished_at=utcnow())
        )
        db.session.commit()
        return Outcome(run_id, "skipped", message, grant.other_run_id)
    outcome = None
    try:
        reaped = _reap_stale(run_id)
        if reaped:
            log.warning("marked %d stale zoning run(s) failed", reaped)
        run = db.session.get(ZoningRun, run_id)
        if run is None or run.state != "queued":
            db.session.commit()
            return Outcome(run_id, run.state if run else "failed", "run is not queued")
        run.state = "running"
        run.started_at = utcnow()
        run.heartbeat_at = run.started_at
        db.session.flush()
        # Detached with every attribute loaded before the commit (which would expire them): the
        # session holds no transaction during the run (on SQLite it would hold the write lock).
        db.session.refresh(run)
        db.session.expunge(run)
        db.session.commit()
        outcome = _run(run, holder, progress, from_answers)
        return outcome
    finally:
        if outcome is None or outcome.state != "succeeded":
            lease.release(LEASE_NAME, holder)  # a successful run released it in its commit


def _run(run: ZoningRun, holder: str, progress: Progress | None, from_answers: bool) -> Outcome:
    run_id = run.id
    registry = get_registry()
    try:
        methodology = registry.methodology(run.methodology_id)
        if methodology is None:
            raise RuntimeError(f"methodology {run.methodology_id} is no longer loaded")
        methodology = apply_weights(methodology, run.weights)
        if registry.catalogue.content_hash != run.catalogue_hash or (
            not run.weights and methodology.content_hash != run.methodology_hash
        ):
            raise RuntimeError(
                "the methodology or legal catalogue changed since the run was queued"
            )
        heartbeat = _Heartbeat(run_id, holder, progress)
        # One connection for both phases: the work table is private to it.
        with db.engine.connect() as conn:
            try:
                with _read_snapshot(conn):
                    plan = _compute(
                        conn, run, methodology, registry.catalogue, heartbeat, from_answers
                    )
                with _write_transaction(conn):
                    _store(conn, run, holder, plan, methodology)
            except BaseException:
                # Do not return a connection holding a half-filled work table to the pool.
                conn.invalidate()
                raise
    except Exception as exc:
        log.exception("zoning run %s failed", run_id)
        _mark_failed(run_id, f"{type(exc).__name__}: {exc}")
        return Outcome(run_id, "failed", str(exc))
    return Outcome(run_id, "succeeded")


#: The stored columns of a result row, in table order (the id is generated).
RESULT_COLUMNS = RESULT_ROW_COLUMNS[1:]
CHANGE_COLUMNS = (
    "run_id",
    "level",
    "code",
    "name",
    "region_code",
    "old_score",
    "new_score",
    "old_zone",
    "new_zone",
    "is_zone_move",
)


def _bulk_insert(
    conn: Connection, table_: Any, columns: tuple[str, ...], rows: list[tuple]
) -> None:
    """Insert many rows (tuples in ``columns`` order; JSON columns as JSON text) in ``conn``'s
    transaction: COPY on PostgreSQL, the driver's executemany on SQLite.

    psycopg's executemany sends one INSERT per row; COPY streams them in one command. On SQLite,
    SQLAlchemy's per-row parameter processing cost more than the insert itself.
    """
    if not rows:
        return
    cursor = conn.connection.driver_connection.cursor()
    names = ", ".join(columns)  # our own identifiers
    if conn.dialect.name == "postgresql":
        with cursor.copy(f"COPY {table_.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cursor.executemany(f"INSERT INTO {table_.name} ({names}) VALUES ({marks})", rows)  # noqa: S608


def _sql_value(value: Any) -> Any:
    # sqlite3 cannot bind Decimal; the NUMERIC column stores the text as a number.
    return str(value) if isinstance(value, Decimal) else value


class _UnitSQL:
    """A unit row's values as SQL over the work table, generated from the methodology.

    The same rules as the pure core (rollup.unit_rows / banding): the mean of integer hundredths
    rounded half up is ``(2 * total + n) // (2 * n)``; a band covers ``min <= score <= max``;
    ranks are competition ranks by score. tests/zoning check both give the same rows.
    """

    def __init__(self, conn: Connection, methodology: Methodology) -> None:
        places = methodology.rounding_places
        scale = 10**places
        w = WORK.c
        self.rows = (
            select(
                w.code,
                w.name,
                w.region_code,
                w.agency_code,
                w.scored,
                w.ids,
                ((2 * w.total + w.scored) // (2 * w.scored)).label("scaled"),
            )
            .where(w.scored > 0)
            .subquery("computed")
        )
        c = self.rows.c
        self.postgresql = conn.dialect.name == "postgresql"
        if self.postgresql:
            self.score = cast(cast(c.scaled, Numeric) / scale, Numeric(5, places))
            self.ids = cast(literal("[").concat(c.ids).concat("]"), JSONB)
        else:
            # A REAL, as the NUMERIC column stores any score written as text.
            self.score = cast(c.scaled, Numeric).op("*")(literal_column("1.0")) / scale
            self.ids = literal("[").concat(c.ids).concat("]")
        # Scores are whole multiples of 10**-places: min rounds up, max down.
        bounds = [
            (math.ceil(band.min * scale), math.floor(band.max * scale), band)
            for band in methodology.bands
        ]
        self.zone, self.grade, self.label = (
            case(
                *[(and_(c.scaled >= lo, c.scaled <= hi), getattr(b, attr)) for lo, hi, b in bounds]
            )
            for attr in ("zone", "grade", "label")
        )

    def ids_differ(self, stored: Any) -> Any:
        """True when a stored row's inspection ids are not the computed ones (members equal).

        PostgreSQL aggregates ids in no particular order, so it compares sets: with as many
        distinct ids on both sides, containment is equality. Its text form is compared first:
        the same plan over the same rows gives the same order, and equal text settles it at a
        third of the cost of parsing the list (the set test decides only when the text
        differs). SQLite builds them ascending.
        """
        if self.postgresql:
            c = self.rows.c
            as_stored = literal("[").concat(func.replace(c.ids, ",", ", ")).concat("]")
            return and_(
                cast(stored, Text) != as_stored,
                ~stored.op("@>", return_type=Boolean)(self.ids),
            )
        return stored != self.ids

    def values(self, run_id: int, rank: Any) -> list[Any]:
        """The columns of RESULT_COLUMNS for a computed unit."""
        c = self.rows.c
        return [
            literal(run_id),
            literal("unit"),
            c.code,
            c.name,
            c.region_code,
            c.agency_code,
            self.score,
            self.zone,
            self.grade,
            self.label,
            rank,
            c.scored,
            self.ids,
        ]


def _insert_units(conn: Connection, run_id: int, plan: _Plan, sql: _UnitSQL) -> tuple[Any, int]:
    """Write the run's unit rows; returns (the anchor it shares rows with or None, rows written).

    Shares the anchor's rows when the run differs from it in few enough units; otherwise writes
    every unit row, ranked (a full run), or the run is a new anchor.
    """
    r = ZoningResult.__table__
    c = sql.rows.c
    anchor = plan.anchor
    full = plan.mode == "full"
    if anchor is not None:
        a = r.alias("anchor")
        w = WORK.alias("w")
        on_anchor = and_(a.c.run_id == anchor.id, a.c.level == "unit", a.c.code == c.code)
        differing = (
            select(*sql.values(run_id, literal(0)))
            .select_from(sql.rows.outerjoin(a, on_anchor))
            .where(
                or_(
                    a.c.id.is_(None),
                    a.c.score != sql.score,
                    a.c.name != c.name,
                    a.c.region_code.is_distinct_from(c.region_code),
                    a.c.agency_code.is_distinct_from(c.agency_code),
                    a.c.members != c.scored,
                    sql.ids_differ(a.c.inspection_ids),
                )
            )
        )
        # Anchor units the run no longer has: any of them in a full run, among its computed
        # units in an incremental one (driven from the work table: 1% of the units).
        tombstone = [
            literal(run_id),
            literal("unit"),
            a.c.code,
            a.c.name,
            a.c.region_code,
            a.c.agency_code,
            literal(0),
            literal(""),
            literal(""),
            literal(""),
            literal(0),
            literal(0),
            literal(None),
            literal(True),
        ]
        if full:
            tombstones = select(*tombstone).where(
                a.c.run_id == anchor.id,
                a.c.level == "unit",
                ~exists().where(w.c.code == a.c.code, w.c.scored > 0),
            )
        else:
            # Looked up by code (code_in), not joined: SQLite walked all the anchor's units to
            # probe the work table for each (4 ms of a 45 ms nightly run).
            tombstones = select(*tombstone).where(
                a.c.run_id == anchor.id,
                a.c.level == "unit",
                code_in(a.c.code, select(w.c.code).where(w.c.scored == 0)),
            )
        # An incremental run keeps what its base stored for the units it did not recompute.
        kept = None
        if not full and plan.base.anchor_run_id is not None:
            kept = select(
                literal(run_id), *[r.c[name] for name in RESULT_COLUMNS[1:]], r.c.is_removed
            ).where(
                r.c.run_id == plan.base.id,
                r.c.level == "unit",
                ~exists().where(w.c.code == r.c.code),
            )
        conn.execute(
            insert(r).from_select(
                [*RESULT_COLUMNS, "is_removed"], differing.add_columns(literal(False))
            )
        )
        if full and not _anchor_units_missing(conn, run_id, anchor):
            tombstones = None  # the usual full run: no anchor unit dropped out
        for query in (tombstones, kept):
            if query is not None:
                conn.execute(insert(r).from_select([*RESULT_COLUMNS, "is_removed"], query))
        if full and _own_unit_rows(conn, run_id) > _shared_limit(anchor):
            # Too different to share (rare: a methodology change already has no anchor): the
            # run is stored whole instead, and becomes the next anchor.
            conn.execute(delete(r).where(r.c.run_id == run_id, r.c.level == "unit"))
            anchor = None
    if anchor is None:
        if not full:
            raise RuntimeError("an incremental run needs an anchor")  # _plan guarantees one
        rank = func.rank().over(order_by=c.scaled.desc())
        conn.execute(insert(r).from_select(list(RESULT_COLUMNS), select(*sql.values(run_id, rank))))
    return anchor, _own_unit_rows(conn, run_id)


def _anchor_units_missing(conn: Connection, run_id: int, anchor: Any) -> bool:
    """Whether a full run lacks some of its anchor's units, counted rather than searched.

    The anchor's units less those the run computed and the anchor also has (computed, less
    the run's own rows the anchor has no row for) is the number missing. Both counts are cheap
    where the search is an anti-join over every anchor unit (10 ms of a national run).
    """
    units = (anchor.counts or {}).get("units")
    if units is None:
        return True
    computed = conn.execute(select(func.count()).where(WORK.c.scored > 0)).scalar_one()
    r = ZoningResult.__table__
    a = r.alias("a")
    new = conn.execute(
        select(func.count()).where(
            r.c.run_id == run_id,
            r.c.level == "unit",
            ~exists().where(a.c.run_id == anchor.id, a.c.level == "unit", a.c.code == r.c.code),
        )
    ).scalar_one()
    return units > computed - new


def _own_unit_rows(conn: Connection, run_id: int) -> int:
    # Counted, not summed from rowcounts: psycopg reports -1 for INSERT ... SELECT here.
    r = ZoningResult.__table__
    return conn.execute(
        select(func.count()).where(r.c.run_id == run_id, r.c.level == "unit")
    ).scalar_one()


def _unit_aggregates(
    conn: Connection, run_id: int, anchor: Any, plan: _Plan, sql: _UnitSQL, places: int
) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """Per agency, the sum of its unit scores in units of 10**-places and their number; and the
    run's units per zone.

    A full run groups its work table. A run sharing an anchor's rows starts from what the anchor
    stored (agency rows' ``score_total``, unit zone counts), takes out the anchor units it
    replaces and adds its own: work in the number of its own rows, not the country's units.
    """
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    zones: dict[str, int] = dict.fromkeys(ZONES, 0)

    def fold(rows: Any, sign: int) -> None:
        for agency_code, zone, total, count in rows:
            sums = totals[agency_code]
            sums[0] += sign * int(total)
            sums[1] += sign * count
            zones[zone] = zones.get(zone, 0) + sign * count

    if plan.mode == "full":
        c = sql.rows.c
        zone = sql.zone.label("zone")
        fold(
            conn.execute(
                select(c.agency_code, zone, func.sum(c.scaled), func.count()).group_by(
                    c.agency_code, zone
                )
            ),
            1,
        )
    else:
        r = ZoningResult.__table__
        stored = conn.execute(
            select(r.c.code, r.c.score_total, r.c.members).where(
                r.c.run_id == anchor.id, r.c.level == "agency"
            )
        ).all()
        if any(total is None for _, total, _ in stored):
            # An anchor written before agency sums were stored (migration 0006): every unit.
            units = unit_rows(run_id, anchor.id, ranked=False).subquery()
            fold(conn.execute(_grouped(units, places)), 1)
        else:
            for code, total, members in stored:
                totals[code] = [int(total), members]
            for zone_name, count in anchor.counts["zones"]["unit"].items():
                zones[zone_name] = zones.get(zone_name, 0) + count
            own_codes = select(r.c.code).where(r.c.run_id == run_id, r.c.level == "unit")
            # IN, not a join: both databases then probe the anchor by code for each own row
            # instead of walking all the anchor's units.
            fold(
                conn.execute(
                    _grouped(r, places).where(
                        r.c.run_id == anchor.id, r.c.level == "unit", code_in(r.c.code, own_codes)
                    )
                ),
                -1,
            )
            fold(
                conn.execute(
                    _grouped(r, places).where(
                        r.c.run_id == run_id, r.c.level == "unit", r.c.is_removed.is_(False)
                    )
                ),
                1,
            )
    return {code: (total, count) for code, (total, count) in totals.items() if count}, zones


def _grouped(rows: Any, places: int) -> Any:
    """Unit rows (a table or subquery) grouped by agency and zone: score sum and count."""
    c = rows.c
    return select(c.agency_code, c.zone, _scaled_sum(rows, places), func.count()).group_by(
        c.agency_code, c.zone
    )


def _scaled_sum(results: Any, places: int) -> Any:
    # Stored scores carry ``places`` decimals: round() only undoes float noise on SQLite.
    return func.sum(cast(func.round(results.c.score * 10**places), Integer))


def _store_changes(
    conn: Connection, run_id: int, anchor_id: int | None, compared: Any
) -> tuple[int, list[Any]]:
    """Write the unit and agency changes against the compared run; returns (how many, the zone
    moves in the core's order). One INSERT ... SELECT: both runs' rows grouped by key, a key
    kept when it is on one side only or its two rows differ in score or zone (``diff`` of the
    pure core; tests/zoning check both give the same changes).
    """
    r = ZoningResult.__table__
    c = ZoningChange.__table__
    sides = ((1, run_id, anchor_id), (0, compared.id, compared.anchor_run_id))
    parts = []
    if anchor_id is not None and compared.id == anchor_id:
        # The usual nightly case: compared with the complete run this one shares rows with.
        # Only its own rows can differ, and each is looked up in the anchor by code.
        conn.execute(
            insert(c).from_select(list(CHANGE_COLUMNS), _own_unit_changes(run_id, anchor_id))
        )
    else:
        codes = None
        if (anchor_id or run_id) == (compared.anchor_run_id or compared.id):
            # Both runs read the same complete run for every unit neither stores itself: only
            # the units one of them stores can differ.
            overlays = [rid for _, rid, aid in sides if aid is not None]
            codes = select(r.c.code).where(r.c.run_id.in_(overlays), r.c.level == "unit")
        for is_new, rid, aid in sides:
            u = unit_rows(rid, aid, ranked=False, codes=codes).subquery()
            parts.append(
                select(
                    literal(is_new).label("is_new"),
                    literal("unit").label("level"),
                    u.c.code,
                    u.c.name,
                    u.c.region_code,
                    u.c.score,
                    u.c.zone,
                )
            )
    parts.append(
        select(
            case((r.c.run_id == run_id, 1), else_=0).label("is_new"),
            r.c.level,
            r.c.code,
            r.c.name,
            r.c.region_code,
            r.c.score,
            r.c.zone,
        ).where(r.c.run_id.in_((run_id, compared.id)), r.c.level == "agency")
    )
    b = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("both_runs").c

    def side(value: Any, is_new: int) -> Any:
        return func.max(case((b.is_new == is_new, value)))

    # The row shown is the new one when the key is in the new run (a NULL region included).
    has_new = func.max(b.is_new) == 1
    old_zone, new_zone = side(b.zone, 0), side(b.zone, 1)
    changed = (
        select(
            literal(run_id),
            b.level,
            b.code,
            case((has_new, side(b.name, 1)), else_=side(b.name, 0)),
            case((has_new, side(b.region_code, 1)), else_=side(b.region_code, 0)),
            side(b.score, 0),
            side(b.score, 1),
            old_zone,
            new_zone,
            case((old_zone.is_distinct_from(new_zone), True), else_=False),
        )
        .group_by(b.level, b.code)
        .having(
            (func.count() == 1)
            | (func.min(b.score) != func.max(b.score))
            | (func.min(b.zone) != func.max(b.zone))
        )
    )
    conn.execute(insert(c).from_select(list(CHANGE_COLUMNS), changed))
    count = conn.execute(select(func.count()).where(c.c.run_id == run_id)).scalar_one()
    # "unit" < "agency" is the core's level order; codes ascending within a level.
    moves = conn.execute(
        select(c.c.level, c.c.code, c.c.old_zone, c.c.new_zone, c.c.old_score, c.c.new_score)
        .where(c.c.run_id == run_id, c.c.is_zone_move.is_(True))
        .order_by(c.c.level.desc(), c.c.code)
    ).all()
    return count, moves


def _own_unit_changes(run_id: int, anchor_id: int) -> Any:
    """The unit changes of a run against its own anchor, as CHANGE_COLUMNS.

    A run sharing its anchor's rows stores a row for every unit that differs from it: its own
    row (or tombstone, which carries the anchor's name and region) against the anchor's.
    """
    r = ZoningResult.__table__
    own, a = r.alias("own"), r.alias("a")
    removed = own.c.is_removed
    new_score = case((removed, None), else_=own.c.score)
    new_zone = case((removed, None), else_=own.c.zone)
    return (
        select(
            literal(run_id),
            literal("unit"),
            own.c.code,
            own.c.name,
            own.c.region_code,
            a.c.score,
            new_score,
            a.c.zone,
            new_zone,
            case((a.c.zone.is_distinct_from(new_zone), True), else_=False),
        )
        .select_from(
            own.outerjoin(
                a, and_(a.c.run_id == anchor_id, a.c.level == "unit", a.c.code == own.c.code)
            )
        )
        .where(
            own.c.run_id == run_id,
            own.c.level == "unit",
            or_(removed, a.c.id.is_(None), a.c.score != own.c.score, a.c.zone != own.c.zone),
        )
    )


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _refresh_statistics(conn: Connection, table_name: str) -> bool:
    """ANALYZE a table on PostgreSQL when it has no statistics or most of its rows are new.

    Without them (a fresh or bulk-loaded database, before autovacuum gets there) PostgreSQL
    guessed badly: an incremental run's 200-unit id list was planned as a sequential scan of
    every inspection, and the self-joins on unit code of shared runs as nested loops over whole
    runs (seconds instead of milliseconds). Once analyzed, autovacuum keeps them current.
    Returns whether it analyzed.
    """
    if conn.dialect.name != "postgresql":
        return False
    stale = conn.execute(
        text(
            "SELECT c.reltuples < 0 OR s.n_mod_since_analyze > c.reltuples "
            "FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.oid = CAST(:name AS regclass)"
        ),
        {"name": table_name},
    ).scalar()
    if stale:
        conn.exec_driver_sql(f"ANALYZE {table_name}")  # one of our own table names
    return bool(stale)


def _analyze_run_ids(conn: Connection) -> None:
    """PostgreSQL: refresh the planner's statistics on ``zoning_results.run_id``.

    Autovacuum re-analyzes a big results table only every ~10% of growth, so the newest runs'
    ids are unknown to the planner, which then expects one row for them. The queries that
    resolve a shared run's rows (semi- and anti-joins on unit code between its own rows and its
    anchor's) were then planned as nested loops re-scanning one side per row of the other:
    quadratic in the run's own rows (25 ms at 400 rows, seconds at the 4,000 a run may store).
    A complete run's rows are what later runs compare with: with them unknown, and no index
    on the work table's codes, the first run sharing a fresh national anchor took 16 s (a
    profiling run). One column's statistics cost ~5-10 ms.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {ZoningResult.__tablename__} (run_id)")


def _store(
    conn: Connection, run: ZoningRun, holder: str, plan: _Plan, methodology: Methodology
) -> None:
    """Write the run's rows and flip it to succeeded in one transaction (re-checking the lease)."""
    config = current_app.config
    now = utcnow()
    leases = lease.LEASES
    still_ours = conn.execute(
        update(leases)
        .where(leases.c.name == LEASE_NAME, leases.c.holder == holder)
        .values(
            heartbeat_at=now, expires_at=now + timedelta(seconds=config["ZONING_LEASE_SECONDS"])
        )
    )
    if still_ours.rowcount != 1:
        raise lease.LeaseLost("the lease expired and was taken over before the results were saved")

    places = methodology.rounding_places
    sql = _UnitSQL(conn, methodology)
    anchor, stored = _insert_units(conn, run.id, plan, sql)
    if not _refresh_statistics(conn, ZoningResult.__tablename__) and stored >= ANALYZE_OWN_ROWS:
        # Its rows are read back below, and by every run that shares them or builds on them.
        _analyze_run_ids(conn)
    anchor_id = None if anchor is None else anchor.id
    totals, unit_zones = _unit_aggregates(conn, run.id, anchor, plan, sql, places)
    upper = roll_up_agencies(totals, plan.agencies, plan.regions, methodology.bands, places)
    if run.scope:
        upper = complete_within(upper, run.scope)  # no partial agency or province scores
    # Agency rows keep their exact unit-score sum: what a run sharing this one's rows adjusts.
    _bulk_insert(
        conn,
        ZoningResult.__table__,
        (*RESULT_COLUMNS, "score_total"),
        [
            (
                run.id,
                r.level,
                r.code,
                r.name,
                r.region_code,
                r.agency_code,
                _sql_value(r.score),
                r.zone,
                r.grade,
                r.label,
                r.rank,
                r.members,
                None,
                totals[r.code][0] if r.level == "agency" else None,
            )
            for rows in upper.values()
            for r in rows
        ],
    )

    runs = ZoningRun.__table__
    # On the run's connection: it holds the write lock a session query would wait for.
    compared = conn.execute(official_run_query(run.methodology_id, run.period, run.scope)).first()
    changed, moves = (
        (0, []) if compared is None else _store_changes(conn, run.id, anchor_id, compared)
    )

    for ids in _chunks(plan.dirty_ids, 1000):
        conn.execute(delete(DirtyUnit).where(_among(DirtyUnit.id, ids, conn.dialect.name)))

    zones = {"unit": unit_zones}
    for level in LEVELS[1:]:
        zones[level] = dict.fromkeys(ZONES, 0)
        for row in upper.get(level, ()):
            zones[level][row.zone] = zones[level].get(row.zone, 0) + 1
    counts = {
        "inspections": plan.inspections,
        "inspections_rescored": plan.rescored,
        "units_recomputed": plan.units_recomputed,
        "unit_rows_stored": stored,
        "dirty_markers_consumed": len(plan.dirty_ids),
        "changes": changed,
        "zone_moves": len(moves),
        **{PLURALS[level]: sum(zones[level].values()) for level in LEVELS},
        "zones": zones,
    }
    finished = utcnow()
    conn.execute(
        update(runs)
        .where(runs.c.id == run.id)
        .values(
            state="succeeded",
            mode=plan.mode,
            base_run_id=None if plan.base is None else plan.base.id,
            anchor_run_id=anchor_id,
            compared_run_id=None if compared is None else compared.id,
            counts=counts,
            finished_at=finished,
            heartbeat_at=finished,
            progress_done=plan.units_recomputed,
            progress_total=plan.units_recomputed,
        )
    )
    if not run.is_dry_run:
        events = [
            {
                "topic": "zoning_run.succeeded",
                "payload": {
                    "run_id": run.id,
                    "methodology": run.methodology_id,
                    "methodology_version": run.methodology_version,
                    "period": run.period,
                    "scope": run.scope,
                    "mode": plan.mode,
                    "counts": counts,
                },
                "created_at": finished,
            }
        ]
        if moves:
            events.append(
                {
                    "topic": "zoning_run.zone_changes",
                    "payload": {
                        "run_id": run.id,
                        "compared_run_id": None if compared is None else compared.id,
                        "changes": [
                            {
                                "level": c.level,
                                "code": c.code,
                                "old_zone": c.old_zone,
                                "new_zone": c.new_zone,
                                "old_score": None if c.old_score is None else str(c.old_score),
                                "new_score": None if c.new_score is None else str(c.new_score),
                            }
                            for c in moves
                        ],
                    },
                    "created_at": finished,
                }
            )
        for event in events:
            conn.execute(insert(OutboxEvent.__table__).values(**event))
    conn.exec_driver_sql(f"DROP TABLE {_work_name(conn)}")
    # Free for the next run in the same commit that publishes this one's results.
    lease.release(LEASE_NAME, holder, conn)


def run_queued(limit: int = 10) -> list[Outcome]:
    """Execute queued runs, oldest first, while the lease is free (the scheduler's poll job)."""
    outcomes = []
    for _ in range(limit):
        db.session.rollback()
        run_id = db.session.execute(
            select(ZoningRun.id)
            .where(ZoningRun.state == "queued", ZoningRun.trigger == "api")
            .order_by(ZoningRun.id)
            .limit(1)
        ).scalar_one_or_none()
        db.session.rollback()
        if run_id is None:
            break
        outcome = execute(run_id, leave_queued_when_busy=True)
        outcomes.append(outcome)
        if outcome.state == "queued":
            break  # someone else is running; try again at the next poll
    return outcomes
