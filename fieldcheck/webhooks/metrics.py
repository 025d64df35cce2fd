"""The webhook figures ``GET /metrics`` shows, read from the database at each scrape.

Added to fieldcheck.system.metrics through ``app.extensions[METRIC_FAMILIES]``: system sits
beside this package and cannot import it. Read like the outbox backlog, so any process that
answers the scrape shows the same numbers, whether or not a worker is running.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select

from fieldcheck.clock import utcnow
from fieldcheck.extensions import db
from fieldcheck.webhooks.models import DELIVERY_STATES, WebhookDelivery


def families() -> Iterator[Metric]:
    """Deliveries by state, and how long the most overdue pending delivery has waited."""
    counts = dict(
        db.session.execute(
            select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state)
        )
        .tuples()
        .all()
    )
    deliveries = GaugeMetricFamily(
        "fieldcheck_webhook_deliveries", "Webhook deliveries kept, by state", labels=["state"]
    )
    for state in DELIVERY_STATES:
        deliveries.add_metric([state], counts.get(state, 0))
    yield deliveries

    # Measured from when the delivery became due (its first send, or the retry the backoff set),
    # not from its creation: a delivery waiting out its backoff is not late, and an old delivery
    # an admin redelivers is due now, not months ago. So the figure is the worker's lag, which
    # is what an alert wants (a receiver that keeps failing shows in the dead count instead).
    now = utcnow()
    oldest_due = db.session.execute(
        select(func.min(WebhookDelivery.next_attempt_at)).where(
            WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now
        )
    ).scalar_one()
    waited = (now - oldest_due).total_seconds() if oldest_due is not None else 0.0
    yield GaugeMetricFamily(
        "fieldcheck_webhook_oldest_pending_age_seconds",
        "Seconds the longest-waiting due pending delivery has waited since it fell due "
        "(0 when none is due)",
        value=max(waited, 0.0),
    )
