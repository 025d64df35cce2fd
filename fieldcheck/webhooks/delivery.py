"""The worker's three steps: fan outbox events out into deliveries, claim due deliveries, send.

Each step is its own short transaction; no transaction (or lock) is open while a receiver is
waited on. Several workers may run at once (the scheduler's job and ``flask --app app worker``,
on several machines): on PostgreSQL they take rows with ``FOR UPDATE SKIP LOCKED`` and a claim
lasts until ``claimed_until`` (a worker that died mid-batch loses its claim then); on SQLite
every write transaction is ``BEGIN IMMEDIATE``, one writer at a time, so the same statements
serialise. A delivery's state changes only under the claim token that sent it.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from flask import current_app
from sqlalchemy import insert, or_, select, update

from fieldcheck.clock import utcnow
from fieldcheck.extensions import db
from fieldcheck.outbox.models import OutboxEvent
from fieldcheck.webhooks import signing
from fieldcheck.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from fieldcheck.webhooks.targets import TargetRefused, check_url_form, guarded_session

log = logging.getLogger(__name__)

#: How much of a receiver's answer the attempt log keeps.
SNIPPET_BYTES = 1024
_random = secrets.SystemRandom()


def regions_overlap(event_region: str | None, endpoint_region: str | None) -> bool:
    """True when an event about ``event_region`` concerns an endpoint owned in
    ``endpoint_region``: either is national (None), or one region contains the other."""
    if event_region is None or endpoint_region is None:
        return True
    return within(event_region, endpoint_region) or within(endpoint_region, event_region)


def within(code: str, region: str) -> bool:
    """``code`` is ``region`` or lies below it (``35.15`` within ``35``)."""
    return code == region or code.startswith(region + ".")


def data_for(endpoint: WebhookEndpoint, event: OutboxEvent) -> Any:
    """The ``data`` this endpoint receives for ``event``, or None when it receives nothing."""
    if event.topic not in (endpoint.event_types or []):
        return None
    if not regions_overlap(event.region_code, endpoint.region_code):
        return None
    region = endpoint.region_code
    if (
        event.topic == "zoning_run.zone_changes"
        and region is not None
        and not (event.region_code and within(event.region_code, region))
    ):
        # A wider run's moves: a regional endpoint gets those inside its region only.
        changes = [
            c
            for c in event.payload.get("changes", [])
            if c.get("region_code") and within(c["region_code"], region)
        ]
        if not changes:
            return None
        return {**event.payload, "changes": changes}
    return event.payload


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def fan_out(limit: int) -> int:
    """Turn up to ``limit`` undelivered outbox events into deliveries (one per subscribed
    endpoint) and mark them fanned out; one transaction. Returns the events handled."""
    query = (
        select(OutboxEvent)
        .where(OutboxEvent.delivered_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    if _is_postgresql():
        query = query.with_for_update(skip_locked=True)
    events = db.session.execute(query).scalars().all()
    if not events:
        db.session.rollback()
        return 0
    endpoints = (
        db.session.execute(select(WebhookEndpoint).where(WebhookEndpoint.is_active.is_(True)))
        .scalars()
        .all()
    )
    now = utcnow()
    rows = []
    for event in events:
        for endpoint in endpoints:
            data = data_for(endpoint, event)
            if data is None:
                continue
            rows.append(
                {
                    "endpoint_id": endpoint.id,
                    "outbox_event_id": event.id,
                    "event_id": event.event_id,
                    "event_type": event.topic,
                    "body": signing.encode_body(
                        event.event_id, event.topic, event.created_at, data
                    ),
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    if rows:
        db.session.execute(insert(WebhookDelivery.__table__), rows)
    db.session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_([e.id for e in events]))
        .values(delivered_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return len(events)


@dataclass(frozen=True)
class Job:
    """A claimed delivery, as plain data: sending it needs no session."""

    delivery_id: int
    claim_token: str
    url: str
    secret: str
    body: bytes
    event_id: str
    event_type: str
    attempt: int


def claim_lease_seconds(config: Any, batch: int) -> float:
    """How long a claim of ``batch`` deliveries lasts: every one may take its full timeouts."""
    per = config["WEBHOOKS_CONNECT_TIMEOUT_SECONDS"] + config["WEBHOOKS_READ_TIMEOUT_SECONDS"]
    return batch * per + 60


def claim(limit: int) -> list[Job]:
    """Claim up to ``limit`` due deliveries of active endpoints; one short transaction."""
    now = utcnow()
    query = (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.state == "pending",
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
            WebhookEndpoint.is_active.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if _is_postgresql():
        query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
    ids = db.session.execute(query).scalars().all()
    if not ids:
        db.session.rollback()
        return []
    token = str(uuid.uuid4())
    until = now + timedelta(seconds=claim_lease_seconds(current_app.config, len(ids)))
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids))
        .values(claimed_until=until, claim_token=token)
        .execution_options(synchronize_session=False)
    )
    rows = db.session.execute(
        select(
            WebhookDelivery.id,
            WebhookDelivery.body,
            WebhookDelivery.event_id,
            WebhookDelivery.event_type,
            WebhookDelivery.attempts,
            WebhookEndpoint.url,
            WebhookEndpoint.secret,
        )
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id.in_(ids))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
    ).all()
    db.session.commit()
    return [
        Job(
            delivery_id=r.id,
            claim_token=token,
            url=r.url,
            secret=r.secret,
            body=bytes(r.body),
            event_id=r.event_id,
            event_type=r.event_type,
            attempt=r.attempts + 1,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: a status code (any answer) or an error (no answer)."""

    status_code: int | None
    error: str | None
    snippet: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        """A 2xx answer: delivered. Anything else (3xx included: redirects are not followed)
        is a failure to retry."""
        return self.status_code is not None and 200 <= self.status_code < 300


def send(job: Job, session: requests.Session, config: Any) -> Outcome:
    """POST the job's stored bytes, signed now; no database access."""
    timestamp = int(utcnow().timestamp())
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    snippet: str | None = None
    try:
        check_url_form(job.url)
        with session.post(
            job.url,
            data=job.body,
            headers=signing.headers(
                job.secret,
                timestamp,
                job.body,
                event_id=job.event_id,
                event_type=job.event_type,
                delivery_id=job.delivery_id,
                attempt=job.attempt,
            ),
            timeout=(
                config["WEBHOOKS_CONNECT_TIMEOUT_SECONDS"],
                config["WEBHOOKS_READ_TIMEOUT_SECONDS"],
            ),
            allow_redirects=False,
            stream=True,
        ) as response:
            status = response.status_code
            raw = response.raw.read(SNIPPET_BYTES, decode_content=True) or b""
            snippet = raw.decode("utf-8", errors="replace")
    except TargetRefused as exc:
        error = f"target refused: {exc.message}"
    except requests.Timeout as exc:
        error = f"timeout: {exc}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    except OSError as exc:  # a read of the answer cut short
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = max(0, round((time.monotonic() - started) * 1000))
    return Outcome(status, None if error is None else error[:500], snippet, duration_ms)


def backoff_seconds(config: Any, attempts: int) -> float:
    """The wait after ``attempts`` failed attempts: base * 2^(attempts-1), capped; half of it
    random ("equal jitter"), so receivers that failed together are not retried together."""
    base = config["WEBHOOKS_BACKOFF_SECONDS"]
    delay = min(config["WEBHOOKS_BACKOFF_MAX_SECONDS"], base * 2 ** max(0, attempts - 1))
    return delay / 2 + _random.uniform(0, delay / 2)


def settle(job: Job, outcome: Outcome, started_at: Any) -> str | None:
    """Log the attempt and move the delivery on (delivered, retry later, dead); one short
    transaction. Returns the new state, or None when the claim was lost (another worker took
    the delivery after the claim ran out, or an admin redelivered it)."""
    config = current_app.config
    now = utcnow()
    db.session.execute(
        insert(WebhookAttempt.__table__).values(
            delivery_id=job.delivery_id,
            number=job.attempt,
            started_at=started_at,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            error=outcome.error,
            response_snippet=outcome.snippet,
        )
    )
    values: dict[str, Any] = {
        "attempts": job.attempt,
        "claimed_until": None,
        "claim_token": None,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
    }
    if outcome.ok:
        values.update(state="delivered", delivered_at=now)
    elif job.attempt >= config["WEBHOOKS_MAX_ATTEMPTS"]:
        values.update(state="dead")
    else:
        values.update(next_attempt_at=now + timedelta(seconds=backoff_seconds(config, job.attempt)))
    done = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == job.delivery_id,
            WebhookDelivery.claim_token == job.claim_token,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if done.rowcount == 0:
        return None
    return values.get("state", "pending")


@dataclass
class Pass:
    """What one worker pass did."""

    fanned_out: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0

    @property
    def busy(self) -> bool:
        """True when the pass found work (another may find more at once)."""
        return bool(self.fanned_out or self.delivered or self.retrying or self.dead)


def run_pass() -> Pass:
    """One pass in the current app context: fan out a batch, claim and send a batch."""
    config = current_app.config
    batch = config["WEBHOOKS_BATCH"]
    result = Pass(fanned_out=fan_out(batch))
    jobs = claim(batch)
    if not jobs:
        return result
    session = guarded_session(config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"])
    try:
        for job in jobs:
            started_at = utcnow()
            outcome = send(job, session, config)
            state = settle(job, outcome, started_at)
            if state == "delivered":
                result.delivered += 1
            elif state == "dead":
                result.dead += 1
                log.warning(
                    "webhook delivery %s dead after %s attempts: %s",
                    job.delivery_id,
                    job.attempt,
                    outcome.error or outcome.status_code,
                )
            elif state == "pending":
                result.retrying += 1
    finally:
        session.close()
    return result
