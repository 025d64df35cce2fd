"""Execute a zoning run: lease, snapshot, (re)score units, roll up, store everything in one commit.

Shape of a run (the CLI, the scheduler and the API queue all come here):

1. take the ``zoning`` lease (or record the run as skipped / leave it queued); a lease found
   expired means its holder died: every other ``running`` run is marked failed;
2. read everything from ONE snapshot (REPEATABLE READ on PostgreSQL, a deferred read transaction
   on SQLite); unit means come from one SQL aggregate (sums of integer hundredths, inspection ids
   as JSON text), so memory does not grow with the number of inspections;
3. score units: an inspection scored at intake by the same methodology file and legal catalogue
   keeps its stored score (the pure core is deterministic, so re-deriving it gives the same
   number); any other inspection is re-scored from its stored answers and posted standards with
   the same pure core (derive_facts -> check -> score);
4. incremental mode recomputes only units with dirty markers and copies the base run's other
   unit rows in SQL (ranked there with a window function), then re-aggregates upward;
5. roll up with the pure core, diff against the official run, and write results, changes, outbox
   events, consumed dirty markers and ``state = succeeded`` in one transaction that also re-checks
   the lease. Nothing of a run that fails or dies is ever visible as a result.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import (
    Connection,
    Date,
    Integer,
    Text,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import utcnow
from fieldcheck.core.checks import check
from fieldcheck.core.facts import derive_facts
from fieldcheck.core.model import Finding, LegalCatalogue, Methodology, ScoreResult
from fieldcheck.core.rollup import (
    LEVELS,
    AgencyInput,
    UnitInput,
    diff,
    mean_scaled,
    mean_scaled_total,
    roll_up,
    roll_up_agencies,
    unit_rows,
)
from fieldcheck.core.scoring import score
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Answer, FindingRow, Inspection, PostedStandardRow
from fieldcheck.regions.models import Region
from fieldcheck.units.models import Agency, Unit
from fieldcheck.zoning import lease
from fieldcheck.zoning.models import (
    DirtyUnit,
    OutboxEvent,
    ZoningChange,
    ZoningResult,
    ZoningRun,
)
from fieldcheck.zoning.services import COUNTED_STATUSES, apply_weights, official_run

log = logging.getLogger(__name__)

LEASE_NAME = "zoning"
#: Units per read: bounds memory (answers of ~5 inspections x 60 answers per unit) and IN lists.
UNIT_CHUNK = 500
#: Above this many dirty units an incremental run is not worth it: it runs full.
MAX_DIRTY_FOR_INCREMENTAL = 5000

Progress = Callable[[int, int, int], None]


@dataclass
class Outcome:
    """What ``execute`` did with a run."""

    run_id: int
    state: str  # succeeded | failed | skipped | queued (lease busy, left for the next poll)
    message: str = ""
    holder_run_id: int | None = None


@dataclass
class _UnitRef:
    id: int
    code: str
    name: str
    agency_code: str
    region_code: str


@dataclass
class _UnitScore:
    """A computed unit: its score in units of 10**-places and the ids of the inspections used."""

    unit: _UnitRef
    scaled: int
    members: int
    #: JSON text of the inspection ids (built by the database): a short string per unit rather
    #: than a list of int objects, so memory hardly grows with inspections per unit.
    ids_json: str


@dataclass
class _Computed:
    units: list[_UnitScore] = field(default_factory=list)
    inspections: int = 0
    rescored: int = 0
    units_recomputed: int = 0
    dirty_ids: list[int] = field(default_factory=list)
    #: Units whose markers this run consumes (an incremental run copies every other unit).
    dirty_units: set[int] = field(default_factory=set)


#: Count keys of a run: {"units", "agencies", "regencies", "provinces"}.
PLURALS = {"unit": "units", "agency": "agencies", "regency": "regencies", "province": "provinces"}


def parse_answer(methodology: Methodology, code: str, value: str) -> Any:
    """A stored answer (text) as the core expects it: an int on a scale indicator, else the word."""
    indicator = methodology.indicator(code)
    if indicator is not None and indicator.is_scale and value != "na":
        try:
            return int(value)
        except ValueError:
            return value
    return value


def score_inspection(
    methodology: Methodology,
    catalogue: LegalCatalogue,
    answers: dict[str, str],
    posted: list[dict[str, Any]],
    visit_date: date,
    withdrawn: Collection[tuple[str, str | None, str | None]] = (),
) -> tuple[ScoreResult, list[Finding]]:
    """Re-score one stored inspection with the pure core (the same path as intake).

    Answers to indicators this methodology does not have are ignored (an inspection made under
    another methodology is scored on what it observed in common). ``withdrawn``: (rule, service,
    component) of findings withdrawn by an upheld objection; they are dropped before scoring.
    """
    known = {
        code: parse_answer(methodology, code, value)
        for code, value in answers.items()
        if methodology.indicator(code) is not None
    }
    facts = derive_facts(known, posted, methodology, visit_date)
    findings = check(facts, catalogue)
    if withdrawn:
        # Issue 4: an upheld objection removed these findings; re-deriving must not resurrect them.
        findings = [f for f in findings if (f.rule, f.service, f.component) not in withdrawn]
    return score(facts, findings, methodology), findings


@contextmanager
def snapshot() -> Iterator[Connection]:
    """A read-only connection on one consistent snapshot for the whole run."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # A deferred BEGIN: WAL gives a stable snapshot without taking the write lock.
            conn.execution_options(fieldcheck_read_snapshot=True)
        else:
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def _scope_condition(column: Any, scope: str) -> Any:
    return (column == scope) | column.like(scope + ".%")


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
        lease.renew(LEASE_NAME, self.holder, self.lease_seconds)
        now = utcnow()
        with db.engine.begin() as conn:
            conn.execute(
                update(ZoningRun.__table__)
                .where(ZoningRun.__table__.c.id == self.run_id)
                .values(progress_done=done, progress_total=total, heartbeat_at=now)
            )


def _base_run(conn: Connection, run: ZoningRun) -> Any:
    """The run an incremental run may build on, or None (then it runs full).

    Dirty markers are consumed only by national, non-dry runs, so the markers present now are
    exactly the changes since the latest such run. That run is a usable base only when it used the
    same methodology file, legal catalogue and period.
    """
    if run.requested_mode == "full" or run.is_dry_run or run.scope or run.weights:
        return None
    runs = ZoningRun.__table__
    base = conn.execute(
        select(runs)
        .where(runs.c.state == "succeeded", runs.c.is_dry_run.is_(False), runs.c.scope == "")
        .order_by(runs.c.id.desc())
        .limit(1)
    ).first()
    if base is None:
        return None
    if (base.methodology_hash, base.catalogue_hash, base.period) != (
        run.methodology_hash,
        run.catalogue_hash,
        run.period,
    ):
        return None
    return base


def _compute(
    conn: Connection,
    run: ZoningRun,
    methodology: Methodology,
    catalogue: LegalCatalogue,
    heartbeat: _Heartbeat,
    from_answers: bool,
) -> tuple[_Computed, dict[str, AgencyInput], dict[str, str], Any]:
    """Read the snapshot and compute unit scores for the run (full or incremental)."""
    out = _Computed()
    consumes = not run.is_dry_run and not run.scope
    dirty_units: set[int] = set()
    if consumes:
        for marker_id, unit_id in conn.execute(select(DirtyUnit.id, DirtyUnit.unit_id)):
            out.dirty_ids.append(marker_id)
            dirty_units.add(unit_id)
    base = _base_run(conn, run)
    if base is not None and len(dirty_units) > MAX_DIRTY_FOR_INCREMENTAL:
        base = None

    unit_filter = _scope_condition(Unit.region_code, run.scope) if run.scope else None
    if base is not None:
        # Incremental: only dirty units are computed here; _store copies the others.
        unit_filter = Unit.id.in_(list(dirty_units))
    out.dirty_units = dirty_units
    agencies = {
        code: AgencyInput(code, name, region)
        for code, name, region in conn.execute(select(Agency.code, Agency.name, Agency.region_code))
    }
    regions = {code: name for code, name in conn.execute(select(Region.code, Region.name))}

    counting = select(func.count()).select_from(Unit)
    if unit_filter is not None:
        counting = counting.where(unit_filter)
    total = conn.execute(counting).scalar_one()
    heartbeat.beat(0, total, 0, force=True)
    if from_answers:
        slow = _units(conn, unit_filter)
    else:
        places = methodology.rounding_places
        only = None if base is None else sorted(dirty_units)
        slow = _aggregate(conn, run, unit_filter, places, out, heartbeat, total, only)
    if slow:
        _compute_from_rows(conn, run, methodology, catalogue, slow, from_answers, out)
    out.units_recomputed = total
    heartbeat.beat(total, total, out.inspections, force=True)
    return out, agencies, regions, base


def _units(conn: Connection, unit_filter: Any) -> list[_UnitRef]:
    query = (
        select(Unit.id, Unit.code, Unit.name, Agency.code, Unit.region_code)
        .join(Agency, Unit.agency_id == Agency.id)
        .order_by(Unit.id)
    )
    if unit_filter is not None:
        query = query.where(unit_filter)
    return [_UnitRef(*row) for row in conn.execute(query)]


def _counted(run: ZoningRun, dialect: str) -> list[Any]:
    period_from, period_to = date(run.period, 1, 1), date(run.period, 12, 31)
    # The same value through an expression no index covers (text || '' on SQLite, date + 0 on
    # PostgreSQL): without statistics both planners range-scan the date index (every row of the
    # period) instead of the unit_id index, once per unit on PostgreSQL (seconds for 200 units).
    if dialect == "sqlite":
        visit_date = Inspection.visit_date.op("||", return_type=Date)("")
    else:
        visit_date = Inspection.visit_date.op("+", return_type=Date)(0)
    return [
        # status || '': likewise, not the status index (every approved row, in random order).
        Inspection.status.concat("").in_(COUNTED_STATUSES),
        visit_date >= period_from,
        visit_date <= period_to,
    ]


def _aggregate(
    conn: Connection,
    run: ZoningRun,
    unit_filter: Any,
    places: int,
    out: _Computed,
    heartbeat: _Heartbeat,
    total_units: int,
    only_units: list[int] | None,
) -> list[_UnitRef]:
    """Unit means from ONE SQL aggregate (sum and count of integer hundredths, and the
    inspection ids as JSON text) joined to the units; returns the units that need
    per-inspection work instead.

    A unit needs it when one of its inspections was scored by another methodology file or
    catalogue (it must be re-scored from its answers). The mean itself is the exact half-up
    division in Python: SQL ROUND(AVG()) may go through floats or round half-even.
    """
    scale = 10**places
    scored = Inspection.score.isnot(None)
    fresh = (Inspection.methodology_hash == run.methodology_hash) & (
        Inspection.catalogue_hash == run.catalogue_hash
    )
    if conn.dialect.name == "postgresql":
        ids = func.string_agg(
            cast(case((scored, Inspection.id)), Text),
            aggregate_order_by(literal_column("','"), Inspection.id),
        )
    else:
        ids = func.group_concat(case((scored, Inspection.id)), ",")
    per_unit = (
        select(
            Inspection.unit_id.label("unit_id"),
            func.sum(cast(func.round(Inspection.score * scale), Integer)).label("total"),
            func.count(Inspection.score).label("scored"),
            func.count().label("counted"),
            func.sum(case((fresh, 0), else_=1)).label("stale"),
            ids.label("ids"),
        )
        .where(*_counted(run, conn.dialect.name))
        .group_by(Inspection.unit_id)
    )
    if only_units is not None:
        # The ids themselves, not a subquery on units: PostgreSQL without statistics on
        # inspections planned the subquery form as a probe of the id list per inspection row.
        per_unit = per_unit.where(Inspection.unit_id.in_(only_units))
    elif unit_filter is not None:
        per_unit = per_unit.where(Inspection.unit_id.in_(select(Unit.id).where(unit_filter)))
    agg = per_unit.subquery()
    query = select(
        Unit.id,
        Unit.code,
        Unit.name,
        Agency.code,
        Unit.region_code,
        agg.c.total,
        agg.c.scored,
        agg.c.counted,
        agg.c.stale,
        agg.c.ids,
    ).select_from(
        agg.join(Unit, Unit.id == agg.c.unit_id).join(Agency, Agency.id == Unit.agency_id)
    )
    slow: list[_UnitRef] = []
    done = 0
    for batch in conn.execute(query).partitions(UNIT_CHUNK):
        for unit_id, code, name, agency, region, total, count, counted, stale, id_list in batch:
            unit = _UnitRef(unit_id, code, name, agency, region)
            if stale:
                slow.append(unit)
                continue
            out.inspections += counted
            if count:
                out.units.append(
                    _UnitScore(unit, mean_scaled_total(int(total), count), count, f"[{id_list}]")
                )
        done += len(batch)
        heartbeat.beat(done, total_units, out.inspections)
    return slow


def _compute_from_rows(
    conn: Connection,
    run: ZoningRun,
    methodology: Methodology,
    catalogue: LegalCatalogue,
    todo: list[_UnitRef],
    from_answers: bool,
    out: _Computed,
) -> None:
    """Units scored inspection by inspection, re-scoring stale ones from their answers."""
    places = methodology.rounding_places
    scale = 10**places
    for start in range(0, len(todo), UNIT_CHUNK):
        chunk = todo[start : start + UNIT_CHUNK]
        by_id = {u.id: u for u in chunk}
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
            .where(
                Inspection.unit_id.in_(list(by_id)),
                *_counted(run, conn.dialect.name),
            )
            .order_by(Inspection.unit_id, Inspection.id)
        ).all()
        stale = [r[0] for r in rows if from_answers or not r[3]]
        rescored = _rescore(conn, stale, methodology, catalogue) if stale else {}
        per_unit: dict[int, tuple[list[int], list[int]]] = {}
        for inspection_id, unit_id, stored, _fresh in rows:
            if rescored and inspection_id in rescored:
                exact = rescored[inspection_id]
                stored = None if exact is None else int(exact.scaleb(places))
            if stored is not None:
                ids, values = per_unit.setdefault(unit_id, ([], []))
                ids.append(inspection_id)
                values.append(stored)
        out.rescored += len(rescored)
        out.inspections += len(rows)
        for unit in chunk:
            scored = per_unit.get(unit.id)
            if scored is None:
                continue
            ids, values = scored
            out.units.append(_UnitScore(unit, mean_scaled(values), len(values), json.dumps(ids)))


def _rescore(
    conn: Connection,
    ids: list[int],
    methodology: Methodology,
    catalogue: LegalCatalogue,
) -> dict[int, Decimal | None]:
    """Scores of the given inspections re-derived from their stored answers and standards."""
    visit = dict(
        conn.execute(
            select(Inspection.id, Inspection.visit_date).where(Inspection.id.in_(ids))
        ).all()
    )
    answers: dict[int, dict[str, str]] = defaultdict(dict)
    for inspection_id, code, value in conn.execute(
        select(Answer.inspection_id, Answer.indicator_code, Answer.value).where(
            Answer.inspection_id.in_(ids)
        )
    ):
        answers[inspection_id][code] = value
    posted: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in conn.execute(
        select(
            PostedStandardRow.inspection_id,
            PostedStandardRow.service_code,
            PostedStandardRow.components,
            PostedStandardRow.fee_idr,
            PostedStandardRow.max_days,
            PostedStandardRow.requirements,
        )
        .where(PostedStandardRow.inspection_id.in_(ids))
        .order_by(PostedStandardRow.inspection_id, PostedStandardRow.position)
    ):
        posted[row.inspection_id].append(
            {
                "service": row.service_code,
                "components": row.components,
                "fee_idr": row.fee_idr,
                "max_days": row.max_days,
                "requirements": row.requirements,
            }
        )
    # Issue 4: findings withdrawn by an upheld objection stay withdrawn when re-scoring from
    # answers (methodology change, --from-answers); otherwise a full re-score resurrects them.
    withdrawn = withdrawn_findings(ids, conn)
    return {
        i: score_inspection(
            methodology, catalogue, answers[i], posted[i], visit[i], withdrawn.get(i, ())
        )[0].score
        for i in ids
    }


def withdrawn_findings(ids: list[int], conn: Any = None) -> dict[int, set[tuple]]:
    """(rule, service, component) of each inspection's withdrawn findings (on ``conn`` or the
    session)."""
    executor = conn if conn is not None else db.session
    out: dict[int, set[tuple]] = defaultdict(set)
    for start in range(0, len(ids), 1000):
        for inspection_id, rule, service, component in executor.execute(
            select(
                FindingRow.inspection_id,
                FindingRow.rule,
                FindingRow.service_code,
                FindingRow.component,
            ).where(
                FindingRow.inspection_id.in_(ids[start : start + 1000]),
                FindingRow.withdrawn_at.is_not(None),
            )
        ):
            out[inspection_id].add((rule, service, component))
    return out


def _mark_failed(run_id: int, message: str) -> None:
    db.session.rollback()
    db.session.execute(
        update(ZoningRun)
        .where(ZoningRun.id == run_id)
        .values(state="failed", error=message[:2000], finished_at=utcnow())
    )
    db.session.commit()


def _reap_stale(run_id: int) -> int:
    """Mark failed every run still 'running' other than ours: we hold the lease, they cannot."""
    result = db.session.execute(
        update(ZoningRun)
        .where(ZoningRun.state == "running", ZoningRun.id != run_id)
        .values(
            state="failed",
            error="The process running it stopped (its lease expired); nothing was published.",
            finished_at=utcnow(),
        )
    )
    return result.rowcount or 0


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
        db.session.commit()
        return _run(run, holder, progress, from_answers)
    finally:
        lease.release(LEASE_NAME, holder)


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
        # Detach the run with its attributes loaded and end the session's transaction: on SQLite
        # an open session transaction would hold the write lock for the whole run.
        db.session.refresh(run)
        db.session.expunge(run)
        db.session.commit()
        with snapshot() as conn:
            computed, agencies, regions, base = _compute(
                conn, run, methodology, registry.catalogue, heartbeat, from_answers
            )
        _store(run, holder, computed, agencies, regions, methodology, base)
    except Exception as exc:
        log.exception("zoning run %s failed", run_id)
        _mark_failed(run_id, f"{type(exc).__name__}: {exc}")
        return Outcome(run_id, "failed", str(exc))
    return Outcome(run_id, "succeeded")


RESULT_COLUMNS = (
    "run_id",
    "level",
    "code",
    "name",
    "region_code",
    "agency_code",
    "score",
    "zone",
    "grade",
    "label",
    "rank",
    "members",
    "inspection_ids",
)
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


def _bulk_insert(table: Any, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert many rows (tuples in ``columns`` order; JSON columns as JSON text) in the session's
    transaction: COPY on PostgreSQL, the driver's executemany on SQLite.

    psycopg's executemany sends one INSERT per row (20k statements for a national run); COPY
    streams them in one command. On SQLite, SQLAlchemy's per-row parameter processing cost more
    than the insert itself, so rows go to the driver as plain tuples.
    """
    if not rows:
        return
    conn = db.session.connection()
    cursor = conn.connection.driver_connection.cursor()
    names = ", ".join(columns)  # our own identifiers
    if conn.dialect.name == "postgresql":
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)  # noqa: S608


def _sql_value(value: Any) -> Any:
    # sqlite3 cannot bind Decimal; the NUMERIC column stores the text as a number.
    return str(value) if isinstance(value, Decimal) else value


def _insert_results(run_id: int, rows: list[Any], ids_json: dict[str, str]) -> None:
    _bulk_insert(
        ZoningResult.__table__,
        RESULT_COLUMNS,
        [
            (
                run_id,
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
                ids_json.get(r.code) if r.level == "unit" else None,
            )
            for r in rows
        ],
    )


def _copy_clean_units(run_id: int, base_id: int, dirty_units: set[int]) -> None:
    """Copy the base run's unit rows of clean units into this run, ranking every unit in SQL.

    The run's own (dirty) unit rows are already inserted with rank 0: the window ranks them
    together with the copied rows, and the copied rows get their final rank as they are
    inserted; then only the rank-0 rows are updated. Name, agency and region come from the
    current unit rows (as in a full run); score, band, members and inspection ids from the base.
    """
    r = ZoningResult.__table__
    u, a = Unit.__table__, Agency.__table__
    ranked = (
        select(
            r.c.run_id.label("src"),
            u.c.code,
            u.c.name,
            u.c.region_code,
            a.c.code.label("agency_code"),
            r.c.score,
            r.c.zone,
            r.c.grade,
            r.c.label,
            func.rank().over(order_by=r.c.score.desc()).label("position"),
            r.c.members,
            r.c.inspection_ids,
        )
        .select_from(r.join(u, u.c.code == r.c.code).join(a, a.c.id == u.c.agency_id))
        .where(
            r.c.level == "unit",
            (r.c.run_id == run_id) | ((r.c.run_id == base_id) & u.c.id.notin_(list(dirty_units))),
        )
        .subquery()
    )
    db.session.execute(
        insert(r).from_select(
            list(RESULT_COLUMNS),
            select(
                literal(run_id),
                literal("unit"),
                ranked.c.code,
                ranked.c.name,
                ranked.c.region_code,
                ranked.c.agency_code,
                ranked.c.score,
                ranked.c.zone,
                ranked.c.grade,
                ranked.c.label,
                ranked.c.position,
                ranked.c.members,
                ranked.c.inspection_ids,
            ).where(ranked.c.src == base_id),
        )
    )
    positions = (
        select(r.c.id, func.rank().over(order_by=r.c.score.desc()).label("position"))
        .where(r.c.run_id == run_id, r.c.level == "unit")
        .subquery()
    )
    db.session.execute(
        update(r).where(r.c.id == positions.c.id, r.c.rank == 0).values(rank=positions.c.position)
    )


def _agency_totals(run_id: int, places: int) -> dict[str, tuple[int, int]]:
    """Per agency: sum of its stored unit scores in units of 10**-places, and their number."""
    r = ZoningResult.__table__
    return {
        code: (int(total), count)
        for code, total, count in db.session.execute(
            select(
                r.c.agency_code,
                func.sum(cast(func.round(r.c.score * 10**places), Integer)),
                func.count(),
            )
            .where(r.c.run_id == run_id, r.c.level == "unit")
            .group_by(r.c.agency_code)
        )
    }


def _store_changes(run_id: int, compared_id: int) -> tuple[int, list[Any]]:
    """Write the unit and agency changes against the compared run; returns (how many, the zone
    moves). SQL finds the keys that differ (on score or zone, or present on one side only); the
    pure core describes them, a chunk of keys at a time, so memory stays O(chunk) however many
    units changed (only the zone moves, the outbox payload, are kept).
    """
    r = ZoningResult.__table__
    kept = ["unit", "agency"]
    # One scan of both runs' rows grouped by key, no join: a key differs when it is on one side
    # only or its two rows disagree on score or zone. (Anti-joins were planned as nested loops
    # over the wrong index on PostgreSQL before the new run's rows had statistics.)
    keys = (
        select(r.c.level, r.c.code)
        .where(r.c.run_id.in_((run_id, compared_id)), r.c.level.in_(kept))
        .group_by(r.c.level, r.c.code)
        .having(
            (func.count() == 1)
            | (func.min(r.c.score) != func.max(r.c.score))
            | (func.min(r.c.zone) != func.max(r.c.zone))
        )
        .subquery()
    )
    # "unit" < "agency" is the core's level order; codes ascending within a level.
    ordered = select(keys.c.level, keys.c.code).order_by(keys.c.level.desc(), keys.c.code)
    count, moves = 0, []
    for batch in db.session.execute(ordered).partitions(UNIT_CHUNK):
        by_level: dict[str, list[str]] = defaultdict(list)
        for level, code in batch:
            by_level[level].append(code)
        old, new = [], []
        for level, codes in by_level.items():
            for src, code, name, region_code, score_, zone in db.session.execute(
                select(r.c.run_id, r.c.code, r.c.name, r.c.region_code, r.c.score, r.c.zone)
                .where(
                    r.c.run_id.in_((run_id, compared_id)),
                    r.c.level == level,
                    r.c.code.in_(codes),
                )
                .order_by(r.c.code)
            ):
                row = {
                    "level": level,
                    "code": code,
                    "name": name,
                    "region_code": region_code,
                    "score": score_,
                    "zone": zone,
                }
                (new if src == run_id else old).append(row)
        changes = diff(old, new, kept)
        _bulk_insert(
            ZoningChange.__table__,
            CHANGE_COLUMNS,
            [
                (
                    run_id,
                    c.level,
                    c.code,
                    c.name,
                    c.region_code,
                    _sql_value(c.old_score),
                    _sql_value(c.new_score),
                    c.old_zone,
                    c.new_zone,
                    c.zone_changed,
                )
                for c in changes
            ],
        )
        count += len(changes)
        moves.extend(c for c in changes if c.zone_changed)
    return count, moves


def _write_results(
    run_id: int,
    computed: _Computed,
    agencies: dict[str, AgencyInput],
    regions: dict[str, str],
    methodology: Methodology,
    base: Any,
) -> None:
    """Insert the run's result rows at every level (full: all computed here; incremental: the
    recomputed units, the clean ones copied from the base run in SQL, then the levels above)."""
    places = methodology.rounding_places
    units = [
        UnitInput(
            c.unit.code,
            c.unit.name,
            c.unit.agency_code,
            Decimal(c.scaled).scaleb(-places),
            c.unit.region_code,
        )
        for c in computed.units
    ]
    members = {c.unit.code: c.members for c in computed.units}
    ids_json = {c.unit.code: c.ids_json for c in computed.units}
    if base is None:
        levels = roll_up(units, agencies, regions, methodology.bands, members, places)
        _insert_results(run_id, [r for rows in levels.values() for r in rows], ids_json)
    else:
        # Incremental: write the recomputed units, copy the rest in SQL, re-aggregate upward
        # from the stored unit scores. Nothing here is proportional to inspections.
        _insert_results(run_id, unit_rows(units, methodology.bands, members), ids_json)
        _copy_clean_units(run_id, base.id, computed.dirty_units)
        upper = roll_up_agencies(
            _agency_totals(run_id, places), agencies, regions, methodology.bands, places
        )
        _insert_results(run_id, [r for rows in upper.values() for r in rows], {})


def _store(
    run: ZoningRun,
    holder: str,
    computed: _Computed,
    agencies: dict[str, AgencyInput],
    regions: dict[str, str],
    methodology: Methodology,
    base: Any,
) -> None:
    """Write the run's rows and flip it to succeeded in one transaction (re-checking the lease)."""
    config = current_app.config
    now = utcnow()
    leases = lease.LEASES
    still_ours = db.session.execute(
        update(leases)
        .where(leases.c.name == LEASE_NAME, leases.c.holder == holder)
        .values(
            heartbeat_at=now, expires_at=now + timedelta(seconds=config["ZONING_LEASE_SECONDS"])
        )
    )
    if still_ours.rowcount != 1:
        raise lease.LeaseLost("the lease expired and was taken over before the results were saved")

    _write_results(run.id, computed, agencies, regions, methodology, base)
    # The run's unit data is no longer needed: free it before the diff, so the peak memory of a
    # run is the result write above (O(units)), whatever the number of changes.
    computed.units.clear()

    compared = official_run(run.methodology_id, run.period, run.scope)
    changed, moves = (0, []) if compared is None else _store_changes(run.id, compared.id)

    for start in range(0, len(computed.dirty_ids), 1000):
        ids = computed.dirty_ids[start : start + 1000]
        db.session.execute(delete(DirtyUnit).where(DirtyUnit.id.in_(ids)))

    r = ZoningResult.__table__
    zones: dict[str, dict[str, int]] = {
        level: dict.fromkeys(("merah", "kuning", "hijau"), 0) for level in LEVELS
    }
    for level, zone, count in db.session.execute(
        select(r.c.level, r.c.zone, func.count())
        .where(r.c.run_id == run.id)
        .group_by(r.c.level, r.c.zone)
    ):
        zones[level][zone] = count
    counts = {
        "inspections": computed.inspections,
        "inspections_rescored": computed.rescored,
        "units_recomputed": computed.units_recomputed,
        "dirty_markers_consumed": len(computed.dirty_ids),
        "changes": changed,
        "zone_moves": len(moves),
        **{PLURALS[level]: sum(zones[level].values()) for level in LEVELS},
    }
    counts["zones"] = zones

    run = db.session.get(ZoningRun, run.id)
    run.state = "succeeded"
    run.mode = "incremental" if base is not None else "full"
    run.base_run_id = None if base is None else base.id
    run.compared_run_id = None if compared is None else compared.id
    run.counts = counts
    run.finished_at = utcnow()
    run.heartbeat_at = run.finished_at
    run.progress_done = run.progress_total = computed.units_recomputed
    if not run.is_dry_run:
        db.session.add(
            OutboxEvent(
                topic="zoning_run.succeeded",
                payload={
                    "run_id": run.id,
                    "methodology": run.methodology_id,
                    "methodology_version": run.methodology_version,
                    "period": run.period,
                    "scope": run.scope,
                    "mode": run.mode,
                    "counts": counts,
                },
                created_at=run.finished_at,
            )
        )
        if moves:
            db.session.add(
                OutboxEvent(
                    topic="zoning_run.zone_changes",
                    payload={
                        "run_id": run.id,
                        "compared_run_id": run.compared_run_id,
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
                    created_at=run.finished_at,
                )
            )
    db.session.commit()


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
