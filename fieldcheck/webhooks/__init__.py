"""Signed webhooks: endpoints admins register, deliveries fanned out from the outbox, a worker.

Top of the domain layers (beside dashboard, exports, reports, system). ``init_app`` mounts the
JSON API and lets the scheduler process run the delivery job (``fieldcheck.zoning.scheduler``
cannot import this package: it sits below it). Decisions: docs/decisions.md, "Issue 15: webhooks".
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Mount ``/api/v1/webhooks``, register the delivery job with the scheduler and the
    delivery figures with ``/metrics``."""
    from fieldcheck.extensions import METRIC_FAMILIES, SCHEDULER_JOBS
    from fieldcheck.webhooks.jobs import register_jobs
    from fieldcheck.webhooks.metrics import families
    from fieldcheck.webhooks.routes import bp

    app.register_blueprint(bp, url_prefix="/api/v1")
    app.extensions.setdefault(SCHEDULER_JOBS, []).append(register_jobs)
    app.extensions.setdefault(METRIC_FAMILIES, []).append(families)
