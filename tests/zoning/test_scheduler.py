"""The scheduler: registers its jobs once, runs a job triggered for a near time, starts API runs."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import select

from fieldcheck.extensions import db
from tests.helpers import auth


def _wait_for(predicate, timeout: float = 30.0) -> bool:
    # Waiting for a background thread, not measuring speed: the timeout only avoids a hang.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_jobs_have_fixed_ids_and_rebuilding_does_not_duplicate_them(app) -> None:
    from fieldcheck.zoning.scheduler import (
        JOB_AUDIT_SEAL,
        JOB_HEARTBEAT,
        JOB_NIGHTLY,
        JOB_QUEUE,
        build_scheduler,
        register_jobs,
    )

    scheduler = build_scheduler(app, BackgroundScheduler)
    register_jobs(scheduler, app)  # a restart re-registers on the same scheduler/jobstore
    register_jobs(scheduler, app)
    scheduler.start(paused=True)  # job defaults are applied when pending jobs are added
    try:
        register_jobs(scheduler, app)
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    # The webhook delivery and retention jobs join through app.extensions
    # (fieldcheck.webhooks.init_app).
    assert set(jobs) == {
        JOB_NIGHTLY,
        JOB_QUEUE,
        JOB_HEARTBEAT,
        JOB_AUDIT_SEAL,
        "webhooks.deliver",
        "webhooks.purge",
    }
    nightly = jobs[JOB_NIGHTLY]
    assert str(nightly.trigger).startswith("cron[")
    assert "hour='2'" in str(nightly.trigger) and "minute='0'" in str(nightly.trigger)
    assert str(nightly.trigger.timezone) == "Asia/Jakarta"
    assert (nightly.coalesce, nightly.max_instances, nightly.misfire_grace_time) == (True, 1, 3600)


def test_the_nightly_job_runs_when_triggered_and_records_its_run(zoning, app, client) -> None:
    from fieldcheck.zoning.models import ZoningRun
    from fieldcheck.zoning.scheduler import JOB_NIGHTLY, build_scheduler

    zoning.inspect("35.15-DUKCAPIL", 3)
    app.config["SCHEDULER_QUEUE_POLL_SECONDS"] = 1
    soon = DateTrigger(run_date=datetime.now().astimezone() + timedelta(seconds=1))
    scheduler = build_scheduler(app, BackgroundScheduler, nightly_trigger=soon)
    assert {job.id for job in scheduler.get_jobs()} >= {JOB_NIGHTLY}

    def runs(trigger: str) -> list[str]:
        with app.app_context():
            states = db.session.execute(
                select(ZoningRun.state).where(ZoningRun.trigger == trigger)
            ).scalars()
            result = list(states)
            db.session.remove()
            return result

    scheduler.start()
    try:
        assert _wait_for(lambda: runs("schedule") == ["succeeded"])
        response = client.post(
            "/api/v1/zoning-runs", json={"period": 2026}, headers=auth(zoning.admin)
        )
        assert response.status_code == 202
        run_id = response.get_json()["id"]
        assert _wait_for(lambda: runs("api") == ["succeeded"])
    finally:
        scheduler.shutdown(wait=True)

    run = client.get(f"/api/v1/zoning-runs/{run_id}", headers=auth(zoning.admin)).get_json()
    assert run["progress"]["percent"] == 100.0 and run["duration_seconds"] is not None
    health = client.get("/healthz").get_json()
    assert health["scheduler"]["is_alive"] is True
    # Shown as people read times (WIB), as every other time in the API.
    assert health["scheduler"]["heartbeat_at"].endswith("+07:00")
    assert health["time"].endswith("+07:00")
    assert health["last_zoning_run"]["finished_at"].endswith("+07:00")
    assert "error" not in health["last_zoning_run"]  # no token here: no error text
    assert health["last_zoning_run"]["id"] == run_id
    status = client.get("/api/v1/status", headers=auth(zoning.admin)).get_json()
    assert status["queued_runs"] == 0 and status["last_run"]["state"] == "succeeded"


def test_the_heartbeat_fails_runs_a_dead_process_left_running(zoning, app) -> None:
    """Killed mid-run with nothing queued after it: the next heartbeat, not the next run, marks
    it failed; a run whose holder is alive stays running."""
    import socket

    from fieldcheck.zoning import lease
    from fieldcheck.zoning.lease import LEASE_NAME
    from fieldcheck.zoning.models import ZoningRun
    from fieldcheck.zoning.scheduler import heartbeat_job
    from fieldcheck.zoning.services import create_run

    def running_run(holder: str) -> int:
        with app.app_context():
            run = create_run(period=2026)
            run.state = "running"
            db.session.flush()
            run_id = run.id
            db.session.commit()  # the lease below is taken on a connection of its own
        assert lease_acquire(holder, run_id)
        return run_id

    def lease_acquire(holder: str, run_id: int) -> bool:
        with app.app_context():
            return lease.acquire(LEASE_NAME, holder, 300, run_id).acquired

    def state(run_id: int) -> str:
        with app.app_context():
            value = db.session.get(ZoningRun, run_id).state
            db.session.remove()
            return value

    alive = lease.new_holder()  # this process: alive, and its lease has not expired
    live = running_run(alive)
    heartbeat_job(app)
    assert state(live) == "running"
    with app.app_context():
        lease.release(LEASE_NAME, alive)
        db.session.execute(
            ZoningRun.__table__.update().where(ZoningRun.id == live).values(state="succeeded")
        )
        db.session.commit()

    # A pid that cannot exist on this machine: the holder died (kill -9) holding the lease.
    dead = running_run(f"{socket.gethostname()}:{2**22 + 7}:deadbeef")
    heartbeat_job(app)
    assert state(dead) == "failed"
    with app.app_context():
        assert "process is gone" in db.session.get(ZoningRun, dead).error
        db.session.remove()  # SQLite: the session's transaction holds the write lock
        assert not lease.acquire(LEASE_NAME, lease.new_holder(), 1).stole_stale  # released


def test_a_long_rescore_renews_its_lease_while_it_works(zoning, app, monkeypatch) -> None:
    """Re-scoring from answers is the slow part of a run: it beats after every chunk (lease
    renewed, progress shown), not only at its ends, so a long run keeps its lease."""
    from fieldcheck.zoning import lifecycle, worktable

    for code in ("35.15-DUKCAPIL", "35.15-SATPAS", "35.78-DUKCAPIL", "13.71-KANIM"):
        zoning.inspect(code, 2)
    app.config["ZONING_HEARTBEAT_SECONDS"] = 0  # every beat writes
    monkeypatch.setattr(worktable, "UNIT_CHUNK", 1)
    seen = []
    original = lifecycle._Heartbeat.beat

    def recording(self, done, total, inspections, force=False):
        seen.append(done)
        return original(self, done, total, inspections, force)

    monkeypatch.setattr(lifecycle._Heartbeat, "beat", recording)
    assert zoning.rescore("--full", "--from-answers").exit_code == 0
    total = zoning.run(zoning.last_run_id()).counts["units_recomputed"]
    assert total == 18
    # The start, one beat per re-scored unit (4 units have inspections), the end.
    assert seen[0] == 0 and seen[-1] == total
    assert len([d for d in seen[1:-1] if 0 < d < total]) >= 3
    assert seen == sorted(seen)


def test_a_started_scheduler_is_alive_before_its_first_poll_interval(app, client) -> None:
    """The heartbeat job also fires at start: /healthz called a fresh scheduler dead for a
    whole poll interval (60 s by default)."""
    from fieldcheck.zoning.scheduler import build_scheduler

    app.config["SCHEDULER_QUEUE_POLL_SECONDS"] = 3600  # no interval firing during the test
    scheduler = build_scheduler(app, BackgroundScheduler)
    scheduler.start()
    try:
        assert _wait_for(lambda: client.get("/healthz").get_json()["scheduler"]["is_alive"])
    finally:
        scheduler.shutdown(wait=True)


def test_the_nightly_job_refreshes_sqlite_planner_statistics(zoning, app) -> None:
    """SQLite has no autovacuum: the nightly job gives its planner statistics (PostgreSQL keeps
    its own, and the job leaves it alone)."""
    import pytest
    from sqlalchemy import text

    from fieldcheck.zoning.scheduler import nightly_job

    zoning.inspect("35.15-DUKCAPIL", 2)
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL analyzes its tables itself (autovacuum)")
    nightly_job(app)
    with app.app_context():
        analyzed = set(db.session.execute(text("SELECT DISTINCT tbl FROM sqlite_stat1")).scalars())
        db.session.remove()
    assert {"inspections", "units"} <= analyzed
