"""GET /metrics shows webhook deliveries by state and the worker's lag, scraped for real."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fieldcheck.extensions import db
from fieldcheck.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.helpers import auth
from tests.ops.metrics import value
from tests.ops.test_metrics import scrape
from tests.webhooks.conftest import register, work

NOW = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
AGE = "fieldcheck_webhook_oldest_pending_age_seconds"
DELIVERIES = "fieldcheck_webhook_deliveries"


def test_deliveries_by_state_after_real_sends(hooks_app, client, factory, receiver):
    """A ping delivered, one dead after its attempts, one waiting: the scrape counts them."""
    _, admin = factory.user("admin", None)
    text = scrape(client)
    for state in ("pending", "delivered", "dead"):
        assert value(text, DELIVERIES, state=state) == 0
    assert f"\n{AGE} 0.0" in text

    endpoint = register(client, admin, receiver.url, ["inspection.received"])
    ping = f"/api/v1/webhooks/{endpoint['id']}/ping"
    assert client.post(ping, headers=auth(admin)).status_code == 202
    assert value(scrape(client), DELIVERIES, state="pending") == 1
    work(hooks_app)
    receiver.default = 500
    assert client.post(ping, headers=auth(admin)).status_code == 202
    work(hooks_app)  # 3 attempts (hooks_app), then dead
    text = scrape(client)
    assert value(text, DELIVERIES, state="delivered") == 1
    assert value(text, DELIVERIES, state="dead") == 1
    assert value(text, DELIVERIES, state="pending") == 0
    assert value(text, "fieldcheck_metrics_database_up") == 1


def test_oldest_pending_age_is_the_lag_since_due(app, client):
    """Measured from when a pending delivery fell due: one waiting out its backoff is not late."""
    app.config["CLOCK"] = lambda: NOW
    with app.app_context():
        endpoint = WebhookEndpoint(
            url="https://example.org/hook", secret="s" * 16, event_types=["x"]
        )
        db.session.add(endpoint)
        db.session.flush()

        def delivery(state: str, due: datetime, created: datetime) -> WebhookDelivery:
            return WebhookDelivery(
                endpoint_id=endpoint.id,
                event_id=f"{state}-{due.isoformat()}",
                event_type="x",
                body=b"{}",
                state=state,
                next_attempt_at=due,
                created_at=created,
            )

        long_ago = NOW - timedelta(days=40)
        db.session.add_all(
            [
                # Due 90 s ago: the worker is that late.
                delivery("pending", NOW - timedelta(seconds=90), NOW - timedelta(hours=2)),
                # Created long ago but its retry is not due yet: not late.
                delivery("pending", NOW + timedelta(minutes=5), long_ago),
                # Dead and delivered ones are never pending, however old.
                delivery("dead", long_ago, long_ago),
                delivery("delivered", long_ago, long_ago),
            ]
        )
        db.session.commit()
    text = scrape(client)
    assert value(text, AGE) == 90
    assert value(text, DELIVERIES, state="pending") == 2
    assert value(text, DELIVERIES, state="dead") == 1
    assert value(text, DELIVERIES, state="delivered") == 1
