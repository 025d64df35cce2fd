"""The outbox table (moved here from zoning.models: every package now writes it)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldcheck.clock import utcnow
from fieldcheck.columns import JSONType, UTCDateTime
from fieldcheck.extensions import db


def new_event_id() -> str:
    """A fresh public event id (a UUID: stable across retries, unique across servers)."""
    return str(uuid.uuid4())


class OutboxEvent(db.Model):
    """An event to deliver, written in the transaction that caused it."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_delivered_at_id", "delivered_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The public id receivers see (``id`` of the webhook body): the same on every retry.
    event_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_event_id)
    #: The event type (``inspection.received``, ...; fieldcheck.outbox.events.EVENT_TYPES).
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSONType)
    #: The region the event is about (a unit's regency, a run's scope); NULL = national.
    #: Decides which regional webhook endpoints receive it.
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set once the event has been fanned out into webhook deliveries (not when they arrive).
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
