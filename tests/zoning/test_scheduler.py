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
    from fieldcheck.zoning.scheduler import JOB_NIGHTLY, JOB_QUEUE, build_scheduler, register_jobs

    scheduler = build_scheduler(app, BackgroundScheduler)
    register_jobs(scheduler, app)  # a restart re-registers on the same scheduler/jobstore
    register_jobs(scheduler, app)
    scheduler.start(paused=True)  # job defaults are applied when pending jobs are added
    try:
        register_jobs(scheduler, app)
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    assert set(jobs) == {JOB_NIGHTLY, JOB_QUEUE}
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
    assert health["last_zoning_run"]["id"] == run_id
    status = client.get("/api/v1/status", headers=auth(zoning.admin)).get_json()
    assert status["queued_runs"] == 0 and status["last_run"]["state"] == "succeeded"
