"""Retention: old delivered and dead deliveries, their attempts and fanned-out outbox events
are deleted by ``flask --app app webhooks purge`` and the scheduler's job; the rest stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fieldcheck.extensions import db
from fieldcheck.outbox.models import OutboxEvent
from fieldcheck.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

NOW = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def seed(app) -> dict[str, int]:
    """Deliveries and events either side of the default cutoffs (90 days delivered, 180 dead);
    returns their ids by name."""
    app.config["CLOCK"] = lambda: NOW
    ids: dict[str, int] = {}
    with app.app_context():
        endpoint = WebhookEndpoint(url="https://example.org/h", secret="s" * 16, event_types=["x"])
        db.session.add(endpoint)

        def event(name: str, fanned_out: int | None) -> OutboxEvent:
            row = OutboxEvent(
                topic="inspection.received",
                payload={},
                created_at=days_ago(fanned_out or 100),
                delivered_at=days_ago(fanned_out) if fanned_out is not None else None,
            )
            db.session.add(row)
            db.session.flush()
            ids[name] = row.id
            return row

        def delivery(name: str, state: str, days: int, source: OutboxEvent | None = None) -> None:
            row = WebhookDelivery(
                endpoint_id=endpoint.id,
                outbox_event_id=source.id if source else None,
                event_id=name,
                event_type="inspection.received",
                body=b"{}",
                state=state,
                attempts=2,
                next_attempt_at=days_ago(days),
                created_at=days_ago(days),
                delivered_at=days_ago(days) if state == "delivered" else None,
            )
            db.session.add(row)
            db.session.flush()
            for number in (1, 2):
                db.session.add(
                    WebhookAttempt(
                        delivery_id=row.id,
                        number=number,
                        started_at=days_ago(days),
                        duration_ms=5,
                        status_code=200,
                    )
                )
            ids[name] = row.id

        db.session.flush()
        delivery("old_delivered", "delivered", 100, event("old_event", 100))
        delivery("recent_delivered", "delivered", 10, event("recent_event", 10))
        delivery("old_dead", "dead", 200, event("dead_event", 200))
        # Dead past the delivered cutoff but within the dead one: kept, and its event with it.
        delivery("young_dead", "dead", 100, event("young_dead_event", 100))
        # Pending (a redelivery of an old one, say): never purged, whatever its age.
        delivery("pending", "pending", 300, event("pending_event", 300))
        event("no_endpoint_event", 120)  # fanned out to nobody
        event("unfanned_event", None)  # not fanned out yet: the worker still needs it
        db.session.commit()
        db.session.remove()
    return ids


def left(app) -> tuple[set[int], set[int], int]:
    with app.app_context():
        deliveries = set(db.session.execute(select(WebhookDelivery.id)).scalars())
        events = set(db.session.execute(select(OutboxEvent.id)).scalars())
        attempts = len(db.session.execute(select(WebhookAttempt.id)).all())
        db.session.remove()
    return deliveries, events, attempts


def test_purge_dry_run_then_for_real(app, runner):
    ids = seed(app)
    before = left(app)
    dry = runner.invoke(args=["webhooks", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert (
        "2 deliveries (4 attempts) and 3 outbox event(s) would be deleted (dry run)" in dry.output
    )
    assert "delivered before 2026-09-06" in dry.output and "dead before 2026-06-08" in dry.output
    assert left(app) == before

    done = runner.invoke(args=["webhooks", "purge"])
    assert done.exit_code == 0, done.output
    assert "2 deliveries (4 attempts) and 3 outbox event(s) deleted" in done.output
    deliveries, events, attempts = left(app)
    assert deliveries == {ids[n] for n in ("recent_delivered", "young_dead", "pending")}
    assert events == {
        ids[n] for n in ("recent_event", "young_dead_event", "pending_event", "unfanned_event")
    }
    assert attempts == 6  # the attempts of the deleted deliveries went with them

    again = runner.invoke(args=["webhooks", "purge"])
    assert "0 deliveries (0 attempts) and 0 outbox event(s) deleted" in again.output


def test_zero_days_keeps_that_kind(app, runner):
    seed(app)
    app.config.update(WEBHOOKS_KEEP_DELIVERED_DAYS=0, WEBHOOKS_KEEP_DEAD_DAYS=0)
    before = left(app)
    done = runner.invoke(args=["webhooks", "purge"])
    assert "kept (0 days)" in done.output
    assert "0 deliveries (0 attempts) and 0 outbox event(s) deleted" in done.output
    assert left(app) == before

    app.config.update(WEBHOOKS_KEEP_DEAD_DAYS=30)  # dead ones only; delivered ones stay
    done = runner.invoke(args=["webhooks", "purge"])
    assert "2 deliveries (4 attempts) and 0 outbox event(s) deleted" in done.output


def test_batches_then_the_job(app):
    """Many expired rows go in several short transactions; the scheduler's job does the same."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from fieldcheck.webhooks.jobs import JOB_PURGE, purge_job
    from fieldcheck.webhooks.retention import purge
    from fieldcheck.zoning.scheduler import build_scheduler

    ids = seed(app)

    def expired_pings(count: int) -> None:
        with app.app_context():
            endpoint_id = db.session.get(WebhookDelivery, ids["pending"]).endpoint_id
            for n in range(count):
                db.session.add(
                    WebhookDelivery(
                        endpoint_id=endpoint_id,
                        event_id=f"ping-{n}-{count}",
                        event_type="webhook.ping",
                        body=b"{}",
                        state="delivered",
                        next_attempt_at=days_ago(95),
                        delivered_at=days_ago(95),
                    )
                )
            db.session.commit()
            db.session.remove()

    expired_pings(5)
    with app.app_context():
        done = purge(batch=2)
    assert (done.deliveries, done.attempts, done.events) == (7, 4, 3)
    kept = {ids[n] for n in ("recent_delivered", "young_dead", "pending")}
    assert left(app)[0] == kept

    expired_pings(3)
    purge_job(app)
    assert left(app)[0] == kept

    scheduler = build_scheduler(app, BackgroundScheduler)
    job = scheduler.get_job(JOB_PURGE)
    assert job is not None and job.func is purge_job
