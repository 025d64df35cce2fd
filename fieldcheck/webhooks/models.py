"""Webhook endpoints, their deliveries (one per event and endpoint) and every attempt's log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldcheck.clock import utcnow
from fieldcheck.columns import JSONType, UTCDateTime
from fieldcheck.extensions import db

DELIVERY_STATES = ("pending", "delivered", "dead")


class WebhookEndpoint(db.Model):
    """A URL that receives signed events of the types it subscribed to."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        CheckConstraint("url LIKE 'http://%' OR url LIKE 'https://%'", name="http_url"),
        CheckConstraint("length(secret) >= 16", name="secret_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    #: The HMAC key. Kept readable (it signs every delivery; a hash could not), shown to the
    #: admin once when created or rotated, never returned by the API afterwards.
    secret: Mapped[str] = mapped_column(String(200))
    #: Event types this endpoint receives (a non-empty JSON list of EVENT_TYPES keys).
    event_types: Mapped[list] = mapped_column(JSONType)
    #: The owner's region: the endpoint receives only events about this region (NULL: all).
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    description: Mapped[str] = mapped_column(String(200), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(db.Model):
    """One event for one endpoint: the exact bytes to send, and where the sending stands."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(f"state IN {DELIVERY_STATES!r}", name="state"),
        CheckConstraint("attempts >= 0", name="attempts"),
        # The fan-out never makes two deliveries of one event for one endpoint.
        UniqueConstraint("outbox_event_id", "endpoint_id"),
        Index("ix_webhook_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    #: The outbox row it came from; NULL once that row is gone (a ping has one too).
    outbox_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_events.id", ondelete="SET NULL")
    )
    #: The public event id (``X-Fieldcheck-Event-Id``): the same on every attempt.
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(64))
    #: The request body, stored: every attempt and redelivery sends exactly these bytes.
    body: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    #: Attempts since the delivery was created or last redelivered by hand.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A worker that claimed the delivery owns it until then (another may take it after).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    endpoint: Mapped[WebhookEndpoint] = relationship()
    log: Mapped[list[WebhookAttempt]] = relationship(
        order_by="WebhookAttempt.id", passive_deletes=True
    )


class WebhookAttempt(db.Model):
    """One HTTP attempt of a delivery: when, how long, what came back."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (CheckConstraint("duration_ms >= 0", name="duration"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    #: 1 for the first attempt (counted again from 1 after a manual redelivery, so the
    #: ``X-Fieldcheck-Attempt`` header a receiver sees counts within a round; ``rounds``).
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    #: The receiver's HTTP status; NULL when no answer came (refused, timeout, blocked target).
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    #: The start of the receiver's answer (1 KB at most), for the admin to read.
    response_snippet: Mapped[str | None] = mapped_column(Text)


def rounds(log: list[WebhookAttempt]) -> list[list[WebhookAttempt]]:
    """A delivery's attempt log (in id order) split into rounds: the first sending, then one
    round per manual redelivery. A redelivery numbers its attempts from 1 again, so a round
    starts at every attempt numbered 1 (and with the first attempt logged, whatever its number).
    """
    split: list[list[WebhookAttempt]] = []
    for attempt in log:
        if not split or attempt.number == 1:
            split.append([])
        split[-1].append(attempt)
    return split
