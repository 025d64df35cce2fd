"""Execute a zoning run: lease, snapshot, (re)score units, roll up, store everything in one commit.

Shape of a run (the CLI, the scheduler and the API queue all come here):

1. take the ``zoning`` lease (or record the run as skipped / leave it queued); a lease found
   expired means its holder died: every other ``running`` run is marked failed (this module);
2. on ONE connection, read everything from one snapshot (REPEATABLE READ on PostgreSQL, a
   deferred read transaction on SQLite) into a temporary *work table*, one row per unit to
   compute: the sum and count of its inspection scores in integer hundredths and its inspection
   ids, by one SQL aggregate, so memory does not grow with the number of inspections
   (fieldcheck.zoning.worktable, the read phase);
3. an inspection scored at intake by the same methodology file and legal catalogue keeps its
   stored score (the pure core is deterministic, so re-deriving it gives the same number); a unit
   with any other inspection is re-scored from stored answers and posted standards with the same
   core call as intake (``fieldcheck.core.evaluate``, through
   ``fieldcheck.inspections.scoring.evaluate_stored``) and its work row updated (the read phase
   too);
4. in one write transaction on the same connection (re-checking the lease): unit rows go from
   the work table to the results in SQL (half-up mean, band and rank as SQL expressions generated
   from the methodology; fieldcheck.zoning.store_units); agencies, regencies and provinces are
   rolled up by the pure core from per-agency sums; changes against the official run, counts,
   outbox events (fieldcheck.zoning.changes), consumed dirty markers and ``state = succeeded``
   are written in the same commit (fieldcheck.zoning.store). Nothing of a run that fails or
   dies is ever visible as a result.

Incremental runs compute only units with dirty markers. Storage is shared: a run of the same
methodology, catalogue and period as a *complete* run (its anchor) stores only the unit rows that
differ from the anchor (fieldcheck.zoning.results); a run whose differences would exceed
``MAX_SHARED_FRACTION`` of the units stores everything and becomes the next anchor. Dialect
helpers (the two transactions, COPY, statistics) are in fieldcheck.zoning.sql.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update

from fieldcheck.catalogue.registry import Registry, get_registry
from fieldcheck.clock import utcnow
from fieldcheck.core.model import LegalCatalogue, Methodology
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, render
from fieldcheck.zoning import lease
from fieldcheck.zoning.dimensional import _read_subjects, _store_subjects, is_dimensional
from fieldcheck.zoning.lease import LEASE_NAME
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.services import apply_weights
from fieldcheck.zoning.sql import _read_snapshot, _write_transaction
from fieldcheck.zoning.store import LEASE_LOST, _store
from fieldcheck.zoning.worktable import _read_phase

log = logging.getLogger(__name__)

#: Called with (units done, units in total, inspections scored) as a run reads.
Progress = Callable[[int, int, int], None]


@dataclass
class Outcome:
    """What ``execute`` did with a run."""

    run_id: int
    state: str  # succeeded | failed | skipped | queued (lease busy, left for the next poll)
    message: str = ""
    holder_run_id: int | None = None


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
        """Report progress; renew the lease and store progress when a beat is due or forced."""
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


class RunFailed(RuntimeError):
    """A run failure a reader is told about: a gettext msgid and its parameters."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(render(message, params, "en"))
        self.message = message
        self.params = params


def _failure_reason(exc: Exception) -> tuple[str, dict[str, object] | None]:
    """What a failed run stores as its reason: a msgid plus params for a failure the service
    knows, else the exception's own text (a bug's text is for whoever fixes it, untranslated)."""
    if isinstance(exc, RunFailed):
        return exc.message, exc.params
    if isinstance(exc, lease.LeaseLost):
        return LEASE_LOST, {}  # by the heartbeat or in the write transaction: the same to a reader
    return f"{type(exc).__name__}: {exc}"[:2000], None


def _mark_failed(run_id: int, message: str, params: dict[str, object] | None) -> None:
    db.session.rollback()
    db.session.execute(
        update(ZoningRun)
        .where(ZoningRun.id == run_id)
        .values(state="failed", error=message, error_params=params, finished_at=utcnow())
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
            error=N_(
                "The process running it stopped (its lease expired or its process is gone); "
                "nothing was published."
            ),
            error_params={},
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
    holder = lease.new_holder()
    db.session.rollback()
    grant = lease.acquire(LEASE_NAME, holder, current_app.config["ZONING_LEASE_SECONDS"], run_id)
    if not grant.acquired:
        return _busy(run_id, grant.other_run_id, leave_queued_when_busy)
    outcome = None
    try:
        reaped = _reap_stale(run_id)
        if reaped:
            log.warning("marked %d stale zoning run(s) failed", reaped)
        run = _start(run_id)
        if isinstance(run, Outcome):
            return run
        outcome = _run(run, holder, progress, from_answers)
        return outcome
    finally:
        if outcome is None or outcome.state != "succeeded":
            lease.release(LEASE_NAME, holder)  # a successful run released it in its commit


def _busy(run_id: int, holder_run_id: int | None, leave_queued: bool) -> Outcome:
    """Another process holds the lease: the run is skipped, or left queued for the next poll."""
    reason = N_("skipped: another run holds the lease (run #%(run_id)s)")
    params = {"run_id": holder_run_id}
    message = render(reason, params, "en")  # the CLI's and the logs' language
    if leave_queued:
        return Outcome(run_id, "queued", message, holder_run_id)
    db.session.execute(
        update(ZoningRun)
        .where(ZoningRun.id == run_id, ZoningRun.state == "queued")
        .values(state="skipped", error=reason, error_params=params, finished_at=utcnow())
    )
    db.session.commit()
    return Outcome(run_id, "skipped", message, holder_run_id)


def _start(run_id: int) -> ZoningRun | Outcome:
    """Mark the queued run running (committed) and return it detached; an Outcome when it is
    not queued."""
    run = db.session.get(ZoningRun, run_id)
    if run is None or run.state != "queued":
        db.session.commit()
        return Outcome(run_id, run.state if run else "failed", N_("The run is not queued."))
    run.state = "running"
    run.started_at = utcnow()
    run.heartbeat_at = run.started_at
    db.session.flush()
    # Detached with every attribute loaded before the commit (which would expire them): the
    # session holds no transaction during the run (on SQLite it would hold the write lock).
    db.session.refresh(run)
    db.session.expunge(run)
    db.session.commit()
    return run


def _run(run: ZoningRun, holder: str, progress: Progress | None, from_answers: bool) -> Outcome:
    """Compute and store a started run; a failure is recorded on the run, not raised."""
    run_id = run.id
    registry = get_registry()
    try:
        methodology = _methodology_for(run, registry)
        heartbeat = _Heartbeat(run_id, holder, progress)
        _read_then_write(run, holder, methodology, registry.catalogue, heartbeat, from_answers)
    except Exception as exc:
        log.exception("zoning run %s failed", run_id)
        reason, params = _failure_reason(exc)
        _mark_failed(run_id, reason, params)
        return Outcome(run_id, "failed", render(reason, params, "en"))
    return Outcome(run_id, "succeeded")


def _methodology_for(run: ZoningRun, registry: Registry) -> Methodology:
    """The methodology the run was queued with (draft weights applied); RunFailed when it or
    the legal catalogue is no longer the one loaded."""
    # Exactly the version the run names (issue 16): a later version of the same id, published
    # since, must not score an earlier run's rerun.
    methodology = registry.methodology(run.methodology_id, run.methodology_version)
    if methodology is None:
        raise RunFailed(
            N_("Methodology %(methodology)s is no longer loaded."), methodology=run.methodology_id
        )
    methodology = apply_weights(methodology, run.weights)
    if registry.catalogue.content_hash != run.catalogue_hash or (
        not run.weights and methodology.content_hash != run.methodology_hash
    ):
        raise RunFailed(
            N_("The methodology or the legal catalogue changed since the run was queued.")
        )
    return methodology


def _read_then_write(
    run: ZoningRun,
    holder: str,
    methodology: Methodology,
    catalogue: LegalCatalogue,
    heartbeat: _Heartbeat,
    from_answers: bool,
) -> None:
    """The read phase on one snapshot, then the write phase, on one connection."""
    # One connection for both phases: the work table is private to it.
    with db.engine.connect() as conn:
        try:
            if is_dimensional(methodology):
                # Scored by dimensions from observations and interviews (issue 16).
                with _read_snapshot(conn):
                    plan, subjects = _read_subjects(conn, run, methodology, catalogue, heartbeat)
                with _write_transaction(conn):
                    _store_subjects(conn, run, holder, plan, subjects, methodology)
                return
            with _read_snapshot(conn):
                plan = _read_phase(conn, run, methodology, catalogue, heartbeat, from_answers)
            with _write_transaction(conn):
                _store(conn, run, holder, plan, methodology)
        except BaseException:
            # Do not return a connection holding a half-filled work table to the pool.
            conn.invalidate()
            raise


#: Runs queued by a person (the API or a page) and left for the scheduler's poll; a CLI or
#: nightly run is executed by the process that created it.
POLLED_TRIGGERS = ("api", "web")


def run_queued(limit: int = 10) -> list[Outcome]:
    """Execute queued runs, oldest first, while the lease is free (the scheduler's poll job)."""
    outcomes = []
    for _ in range(limit):
        db.session.rollback()
        run_id = db.session.execute(
            select(ZoningRun.id)
            .where(ZoningRun.state == "queued", ZoningRun.trigger.in_(POLLED_TRIGGERS))
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
