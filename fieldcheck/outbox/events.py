"""Queueing an event, and the catalogue of event types.

``queue`` is called inside the transaction that causes the event: the row commits or rolls back
with the change it announces, and the webhook worker sends it after commit. One INSERT, no ORM
flush (intake calls it on every submission). Payloads are small and stable: ids, codes, states
and numbers, never names or free text about people (docs/api.md, "Webhooks").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from fieldcheck.clock import utcnow
from fieldcheck.extensions import db
from fieldcheck.i18n import N_
from fieldcheck.outbox.models import OutboxEvent, new_event_id

#: Event type -> what it announces (a msgid: the admin pages show it translated). Receivers
#: subscribe by type; the payload schemas are in the OpenAPI document (``x-webhooks``) and
#: docs/api.md.
EVENT_TYPES: dict[str, str] = {
    "inspection.received": N_("A new inspection was stored by intake (JSON API or OpenRosa)."),
    "interview.received": N_(
        "A new interview record was stored (JSON API or OpenRosa); it carries no respondent data."
    ),
    "inspection.reviewed": N_("A supervisor approved, rejected or returned an inspection."),
    "zoning_run.succeeded": N_("A zoning run finished."),
    "zoning_run.published": N_("A zoning run became the official result."),
    "zoning_run.zone_changes": N_("Units or agencies moved zone against the official run."),
    "unit_override.set": N_("A unit's final zone was set by hand for a period."),
    "unit_override.withdrawn": N_("A unit's override was withdrawn."),
    "objection.decided": N_("An objection to a finding was upheld or dismissed."),
    "webhook.ping": N_("A test event an admin sent to one endpoint."),
}


def queue(
    topic: str,
    payload: dict[str, Any],
    *,
    region: str | None = None,
    created_at: datetime | None = None,
    conn: Connection | None = None,
) -> str:
    """Write one outbox row in the current transaction (``conn``'s, else the session's); returns
    its public event id. ``region``: the region code the event is about (None = national)."""
    if topic not in EVENT_TYPES:
        raise ValueError(f"unknown event type {topic!r}")
    event_id = new_event_id()
    statement = insert(OutboxEvent.__table__).values(
        event_id=event_id,
        topic=topic,
        payload=payload,
        region_code=region or None,
        created_at=created_at or utcnow(),
    )
    (conn if conn is not None else db.session).execute(statement)
    return event_id


def queue_many(topic: str, items: list[tuple[dict[str, Any], str | None]]) -> int:
    """Write one outbox row per ``(payload, region)`` with one multi-row INSERT (bulk review);
    returns the count."""
    if topic not in EVENT_TYPES:
        raise ValueError(f"unknown event type {topic!r}")
    if not items:
        return 0
    now = utcnow()
    rows = [
        {
            "event_id": new_event_id(),
            "topic": topic,
            "payload": payload,
            "region_code": region or None,
            "created_at": now,
        }
        for payload, region in items
    ]
    db.session.execute(insert(OutboxEvent.__table__), rows)
    return len(rows)
