"""The scheduler process: the nightly zoning run and the poll that starts runs queued via the API
or a page.

APScheduler 3.x, in its own process (``flask --app app scheduler``), never inside web workers.
Jobs have explicit ids and ``replace_existing=True`` (building twice never duplicates them),
``coalesce=True`` (missed firings collapse into one), ``max_instances=1`` and a misfire grace.
Two schedulers may still run at once: the zoning lease makes sure only one run executes, the
other records a skipped run. Jobs live in memory: the schedule is configuration, rebuilt at start.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from fieldcheck.audit.sealing import seal_job
from fieldcheck.clock import utcnow
from fieldcheck.extensions import SCHEDULER_JOBS, db
from fieldcheck.zoning import lease
from fieldcheck.zoning.lifecycle import execute, reap_dead_runs, run_queued
from fieldcheck.zoning.services import create_run

log = logging.getLogger(__name__)

JOB_NIGHTLY = "zoning.nightly"
JOB_QUEUE = "zoning.queue"
JOB_HEARTBEAT = "scheduler.heartbeat"
JOB_AUDIT_SEAL = "audit.seal"
#: Row of the leases table used as the scheduler's heartbeat (not a lock: any scheduler writes it).
HEARTBEAT_NAME = "scheduler.heartbeat"


def build_scheduler(
    app: Flask,
    scheduler_cls: type[BaseScheduler] = BlockingScheduler,
    nightly_trigger: BaseTrigger | None = None,
) -> BaseScheduler:
    """A scheduler with the zoning jobs registered (the CLI uses Blocking, tests Background)."""
    config = app.config
    tz = ZoneInfo(config["SCHEDULER_TIMEZONE"])
    # APScheduler logs "Running job"/"executed successfully" at INFO for every run: with the
    # audit seal every 5 s and the queue poll every 10 s that buried the log. A job that raises
    # is still logged (ERROR), and the jobs log what they do themselves.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = scheduler_cls(
        timezone=tz,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": config["SCHEDULER_MISFIRE_GRACE_SECONDS"],
        },
    )
    register_jobs(scheduler, app, nightly_trigger)
    return scheduler


def register_jobs(
    scheduler: BaseScheduler, app: Flask, nightly_trigger: BaseTrigger | None = None
) -> None:
    """Add (or replace) the nightly run and the queue poll, by their fixed ids."""
    config = app.config
    tz = ZoneInfo(config["SCHEDULER_TIMEZONE"])
    trigger = nightly_trigger or CronTrigger.from_crontab(config["SCHEDULER_CRON"], timezone=tz)
    scheduler.add_job(
        nightly_job,
        trigger,
        args=[app],
        id=JOB_NIGHTLY,
        name="nightly zoning run (incremental)",
        replace_existing=True,
    )
    scheduler.add_job(
        queue_job,
        IntervalTrigger(seconds=config["SCHEDULER_QUEUE_POLL_SECONDS"], timezone=tz),
        args=[app],
        id=JOB_QUEUE,
        name="start zoning runs queued via the API or a page",
        replace_existing=True,
    )
    # Its own job (APScheduler runs jobs on a thread pool): while the queue job executes a long
    # run, its next firings are skipped (max_instances=1), and a heartbeat riding on it went
    # quiet, so /healthz called a busy scheduler dead.
    scheduler.add_job(
        heartbeat_job,
        IntervalTrigger(seconds=config["SCHEDULER_QUEUE_POLL_SECONDS"], timezone=tz),
        args=[app],
        id=JOB_HEARTBEAT,
        name="scheduler heartbeat; runs left 'running' by a dead process marked failed",
        replace_existing=True,
        # At start too: /healthz called a scheduler dead for its first poll interval.
        next_run_time=datetime.now(tz),
    )
    # Requests only INSERT audit entries; this job chains them (decisions.md, issue 14).
    scheduler.add_job(
        seal_job,
        IntervalTrigger(seconds=config["AUDIT_SEAL_SECONDS"], timezone=tz),
        args=[app],
        id=JOB_AUDIT_SEAL,
        name="seal new audit entries into the keyed chain; write a checkpoint when due",
        replace_existing=True,
    )
    # Jobs of packages above zoning (the webhook delivery job), which this module cannot
    # import: they add themselves to the app (fieldcheck.webhooks.init_app).
    for add_jobs in app.extensions.get(SCHEDULER_JOBS, ()):
        add_jobs(scheduler, app)


def beat(app: Flask, holder: str) -> None:
    """Record that the scheduler is alive (shown by /healthz and /api/v1/status)."""
    now = utcnow()
    expires = now + timedelta(seconds=3 * app.config["SCHEDULER_QUEUE_POLL_SECONDS"] + 30)
    values: dict[str, Any] = {"holder": holder, "heartbeat_at": now, "expires_at": expires}
    with db.engine.begin() as conn:
        table = lease.LEASES
        done = conn.execute(update(table).where(table.c.name == HEARTBEAT_NAME).values(**values))
        if done.rowcount == 0:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(table).values(name=HEARTBEAT_NAME, acquired_at=now, **values)
                    )
            except IntegrityError:
                pass  # another scheduler wrote it first: it is alive too


_HOLDER = lease.new_holder()


@contextmanager
def _job(app: Flask) -> Iterator[None]:
    """A job's frame: the app context, the scheduler's heartbeat first, a fresh session after."""
    with app.app_context():
        try:
            beat(app, _HOLDER)
            yield
        finally:
            db.session.remove()


def nightly_job(app: Flask) -> None:
    """The nightly run: incremental over the national scope of the default methodology; then,
    on SQLite, fresh planner statistics."""
    with _job(app):
        run = create_run(trigger="schedule")
        db.session.commit()
        outcome = execute(run.id)
        # A skipped run's message already says "skipped: ..."; a succeeded one has none.
        log.info("nightly zoning run #%s: %s", run.id, outcome.message or outcome.state)
        refresh_sqlite_statistics()


#: Rows ANALYZE reads per index on SQLite: enough for the planner's choices, and bounded.
SQLITE_ANALYSIS_LIMIT = 1000
#: The tables the API's region-scoped lists and counts join. Not the zoning tables: the run
#: shapes its SQLite queries for a planner without statistics (worktable._counted), and with them
#: its statements ran no faster (measured on the bench dataset).
SQLITE_ANALYZED = ("inspections", "units", "agencies", "inspection_flags", "objections")


def refresh_sqlite_statistics() -> None:
    """SQLite keeps no planner statistics unless told (PostgreSQL's autovacuum does it): without
    them it counted a province's approved inspections by walking the status index over every
    inspection of the country instead of the province's units (docs/decisions.md, "Timings")."""
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
        for table in SQLITE_ANALYZED:
            conn.exec_driver_sql(f"ANALYZE {table}")  # our own table names


def heartbeat_job(app: Flask) -> None:
    """Record that the scheduler is alive; mark failed the runs a dead process left running."""
    with _job(app):
        reap_dead_runs()


def queue_job(app: Flask) -> None:
    """Start the runs queued through the API."""
    with _job(app):
        for outcome in run_queued():
            log.info("queued zoning run #%s: %s", outcome.run_id, outcome.state)
