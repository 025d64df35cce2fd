"""The delivery and retention jobs of the scheduler process (added through ``app.extensions``:
the scheduler lives in fieldcheck.zoning, below this package)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from fieldcheck.extensions import db
from fieldcheck.webhooks.retention import purge
from fieldcheck.webhooks.worker import drain

JOB_DELIVER = "webhooks.deliver"
JOB_PURGE = "webhooks.purge"
#: Retention is counted in days: an hourly purge keeps each run's batches few and short.
PURGE_EVERY_SECONDS = 3600


def register_jobs(scheduler: Any, app: Flask) -> None:
    """Add (or replace) the delivery job (every ``WEBHOOKS_POLL_SECONDS``) and the hourly
    retention job."""
    # Loaded here, in the scheduler process only (web workers never import APScheduler).
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler.add_job(
        deliver_job,
        IntervalTrigger(seconds=app.config["WEBHOOKS_POLL_SECONDS"], timezone=scheduler.timezone),
        args=[app],
        id=JOB_DELIVER,
        name="fan out outbox events and send due webhook deliveries",
        replace_existing=True,
    )
    scheduler.add_job(
        purge_job,
        IntervalTrigger(seconds=PURGE_EVERY_SECONDS, timezone=scheduler.timezone),
        args=[app],
        id=JOB_PURGE,
        name="delete old delivered and dead webhook deliveries and fanned-out outbox events",
        replace_existing=True,
    )


def deliver_job(app: Flask) -> None:
    """Fan out new events and send due deliveries until there is nothing left to do now."""
    drain(app)


def purge_job(app: Flask) -> None:
    """Delete what the retention settings let go (fieldcheck.webhooks.retention); it logs."""
    with app.app_context():
        try:
            purge()
        finally:
            db.session.remove()
