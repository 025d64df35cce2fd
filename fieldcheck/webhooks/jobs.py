"""The delivery job of the scheduler process (added through ``app.extensions``: the scheduler
lives in fieldcheck.zoning, below this package)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from fieldcheck.webhooks.worker import drain

JOB_DELIVER = "webhooks.deliver"


def register_jobs(scheduler: Any, app: Flask) -> None:
    """Add (or replace) the delivery job: every ``WEBHOOKS_POLL_SECONDS``."""
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


def deliver_job(app: Flask) -> None:
    """Fan out new events and send due deliveries until there is nothing left to do now."""
    drain(app)
