"""The bytes a receiver gets and how they are signed (docs/api.md, "Webhooks").

The body is built once, when an event is fanned out to an endpoint, and stored: every attempt
and every redelivery sends exactly those bytes. The signature covers the attempt's timestamp and
the body, ``HMAC-SHA256(secret, "<timestamp>." + body)``, so a receiver can refuse both forged
and replayed (old timestamp) requests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

SIGNATURE_HEADER = "X-Fieldcheck-Signature"
USER_AGENT = "fieldcheck-webhooks/1"


def encode_body(event_id: str, event_type: str, created_at: datetime, data: Any) -> bytes:
    """The request body: ``{"id", "type", "created_at", "data"}`` as compact UTF-8 JSON."""
    document = {
        "id": event_id,
        "type": event_type,
        "created_at": created_at.isoformat(),
        "data": data,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>." + body`` under ``secret``."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def headers(
    secret: str,
    timestamp: int,
    body: bytes,
    *,
    event_id: str,
    event_type: str,
    delivery_id: int,
    attempt: int,
) -> dict[str, str]:
    """The request headers of one attempt (the signature is new each attempt: its timestamp)."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Fieldcheck-Event-Id": event_id,
        "X-Fieldcheck-Event-Type": event_type,
        "X-Fieldcheck-Delivery-Id": str(delivery_id),
        "X-Fieldcheck-Attempt": str(attempt),
        "X-Fieldcheck-Timestamp": str(timestamp),
        SIGNATURE_HEADER: f"t={timestamp},v1={sign(secret, timestamp, body)}",
    }
