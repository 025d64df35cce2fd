"""Execute a zoning run: lease, snapshot, (re)score units, roll up, store everything in one commit.

Shape of a run (the CLI, the scheduler and the API queue all come here):

1. take the ``zoning`` lease (or record the run as skipped / leave it queued); a lease found
   expired means its holder died: every other ``running`` run is marked failed;
2. read everything from ONE snapshot (REPEATABLE READ on PostgreSQL, a deferred read transaction
   on SQLite), units in chunks, so memory does not grow with the number of answers;
3. score units: an inspection scored at intake by the same methodology file and legal catalogue
   keeps its stored score (the pure core is deterministic, so re-deriving it gives the same
   number); any other inspection is re-scored from its stored answers and posted standards with
   the same pure core (derive_facts -> check -> score);
4. incremental mode recomputes only units with dirty markers and reuses the base run's unit rows;
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
from sqlalchemy import Connection, Integer, cast, delete, func, insert, select, update

from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import utcnow
from fieldcheck.core.checks import check
from fieldcheck.core.facts import derive_facts
from fieldcheck.core.model import Finding, LegalCatalogue, Methodology, ScoreResult
from fieldcheck.core.rollup import AgencyInput, UnitInput, diff, mean_scaled, roll_up
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
class _Computed:
    units: list[UnitInput] = field(default_factory=list)
    members: dict[str, int] = field(default_factory=dict)
    inspection_ids: dict[str, list[int]] = field(default_factory=dict)
    inspections: int = 0
    rescored: int = 0
    units_recomputed: int = 0
    dirty_ids: list[int] = field(default_factory=list)


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

    unit_query = (
        select(Unit.id, Unit.code, Unit.name, Agency.code, Unit.region_code)
        .join(Agency, Unit.agency_id == Agency.id)
        .order_by(Unit.id)
    )
    if run.scope:
        unit_query = unit_query.where(_scope_condition(Unit.region_code, run.scope))
    units = [_UnitRef(*row) for row in conn.execute(unit_query)]
    agencies = {
        code: AgencyInput(code, name, region)
        for code, name, region in conn.execute(select(Agency.code, Agency.name, Agency.region_code))
    }
    regions = {code: name for code, name in conn.execute(select(Region.code, Region.name))}

    if base is not None:
        todo = [u for u in units if u.id in dirty_units]
        reused = {
            code: (score_, members, ids)
            for code, score_, members, ids in conn.execute(
                select(
                    ZoningResult.code,
                    ZoningResult.score,
                    ZoningResult.members,
                    ZoningResult.inspection_ids,
                ).where(ZoningResult.run_id == base.id, ZoningResult.level == "unit")
            )
        }
        for unit in units:
            if unit.id in dirty_units or unit.code not in reused:
                continue
            score_, members, ids = reused[unit.code]
            _add_unit(out, unit, Decimal(score_), members, list(ids or []))
    else:
        todo = units

    period_from, period_to = date(run.period, 1, 1), date(run.period, 12, 31)
    places = methodology.rounding_places
    scale = 10**places
    heartbeat.beat(0, len(todo), 0, force=True)
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
                # status || '': without statistics SQLite would otherwise scan the status index
                # (every approved row, once per chunk) instead of the unit_id index.
                Inspection.status.concat("").in_(COUNTED_STATUSES),
                Inspection.visit_date >= period_from,
                Inspection.visit_date <= period_to,
            )
            .order_by(Inspection.unit_id, Inspection.id)
        ).all()
        stale = [r[0] for r in rows if from_answers or not r[3]]
        rescored = _rescore(conn, stale, methodology, catalogue) if stale else {}
        per_unit: dict[int, tuple[list[int], list[int]]] = {}
        out.inspections += len(rows)
        for inspection_id, unit_id, stored, _fresh in rows:
            if rescored and inspection_id in rescored:
                exact = rescored[inspection_id]
                stored = None if exact is None else int(exact.scaleb(places))
            if stored is not None:
                ids, values = per_unit.setdefault(unit_id, ([], []))
                ids.append(inspection_id)
                values.append(stored)
        out.rescored += len(rescored)
        for unit in chunk:
            out.units_recomputed += 1
            scored = per_unit.get(unit.id)
            if scored is None:
                continue
            ids, values = scored
            total = Decimal(mean_scaled(values)).scaleb(-places)
            _add_unit(out, unit, total, len(values), ids)
        heartbeat.beat(start + len(chunk), len(todo), out.inspections)
    return out, agencies, regions, base


def _add_unit(out: _Computed, unit: _UnitRef, total: Decimal, members: int, ids: list[int]) -> None:
    out.units.append(UnitInput(unit.code, unit.name, unit.agency_code, total, unit.region_code))
    out.members[unit.code] = members
    out.inspection_ids[unit.code] = ids


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
        levels = roll_up(
            computed.units,
            agencies,
            regions,
            methodology.bands,
            computed.members,
            methodology.rounding_places,
        )
        _store(run, holder, computed, levels, base)
    except Exception as exc:
        log.exception("zoning run %s failed", run_id)
        _mark_failed(run_id, f"{type(exc).__name__}: {exc}")
        return Outcome(run_id, "failed", str(exc))
    return Outcome(run_id, "succeeded")


def _bulk_insert(table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in the session's transaction: COPY on PostgreSQL, executemany on SQLite.

    psycopg's executemany sends one INSERT per row (20k statements for a national run); COPY
    streams them in one command. All rows have the same keys in the same order.
    """
    if not rows:
        return
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    columns = list(rows[0])
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"  # our own identifiers
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [json.dumps(v) if isinstance(v, list | dict) else v for v in row.values()]
            )


def _store(run: ZoningRun, holder: str, computed: _Computed, levels: dict, base: Any) -> None:
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

    rows = []
    for level, items in levels.items():
        for r in items:
            rows.append(
                {
                    "run_id": run.id,
                    "level": level,
                    "code": r.code,
                    "name": r.name,
                    "region_code": r.region_code,
                    "agency_code": r.agency_code,
                    "score": r.score,
                    "zone": r.zone,
                    "grade": r.grade,
                    "label": r.label,
                    "rank": r.rank,
                    "members": r.members,
                    "inspection_ids": computed.inspection_ids.get(r.code)
                    if level == "unit"
                    else None,
                }
            )
    _bulk_insert(ZoningResult.__table__, rows)

    compared = official_run(run.methodology_id, run.period, run.scope)
    changes = []
    if compared is not None:
        # Plain columns, not ORM objects: 20k+ rows of a national run (memory and time).
        old = [
            {
                "level": level,
                "code": code,
                "name": name,
                "region_code": region_code,
                "score": score_,
                "zone": zone,
            }
            for level, code, name, region_code, score_, zone in db.session.execute(
                select(
                    ZoningResult.level,
                    ZoningResult.code,
                    ZoningResult.name,
                    ZoningResult.region_code,
                    ZoningResult.score,
                    ZoningResult.zone,
                ).where(
                    ZoningResult.run_id == compared.id,
                    ZoningResult.level.in_(("unit", "agency")),
                )
            )
        ]
        new = [r for level in ("unit", "agency") for r in levels[level]]
        changes = diff(old, new, ["unit", "agency"])
        if changes:
            _bulk_insert(
                ZoningChange.__table__,
                [
                    {
                        "run_id": run.id,
                        "level": c.level,
                        "code": c.code,
                        "name": c.name,
                        "region_code": c.region_code,
                        "old_score": c.old_score,
                        "new_score": c.new_score,
                        "old_zone": c.old_zone,
                        "new_zone": c.new_zone,
                        "is_zone_move": c.zone_changed,
                    }
                    for c in changes
                ],
            )

    for start in range(0, len(computed.dirty_ids), 1000):
        ids = computed.dirty_ids[start : start + 1000]
        db.session.execute(delete(DirtyUnit).where(DirtyUnit.id.in_(ids)))

    counts = {
        "inspections": computed.inspections,
        "inspections_rescored": computed.rescored,
        "units_recomputed": computed.units_recomputed,
        "dirty_markers_consumed": len(computed.dirty_ids),
        "changes": len(changes),
        "zone_moves": sum(1 for c in changes if c.zone_changed),
        **{
            f"{level}s" if level != "agency" else "agencies": len(levels[level]) for level in levels
        },
    }
    zones: dict[str, dict[str, int]] = {}
    for level, items in levels.items():
        zones[level] = {
            z: sum(1 for r in items if r.zone == z) for z in ("merah", "kuning", "hijau")
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
        moves = [c for c in changes if c.zone_changed]
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
