"""Targets of the webhook rows in tests/auth/test_authorization_matrix.py: an endpoint (and a
delivery) in 35.15, made afresh for every call, so the subject sits where the matrix's "in
scope" columns can act and the "out" columns (region 13) cannot."""

from __future__ import annotations

from typing import Any

from fieldcheck.extensions import db

#: A public address literal: no DNS is needed to accept it (the sandbox has none).
PUBLIC_URL = "https://93.184.215.14/hook"
TYPES = ["inspection.received"]


def _endpoint(world) -> Any:
    from fieldcheck.webhooks.services import create_endpoint

    with world.client.application.app_context():
        endpoint, _secret = create_endpoint(
            None, url=PUBLIC_URL, event_types=TYPES, region_code="35.15"
        )
        db.session.commit()
        return endpoint.id


def _delivery(world, state: str = "pending") -> tuple[int, int]:
    from fieldcheck.webhooks.models import WebhookEndpoint
    from fieldcheck.webhooks.services import ping

    endpoint_id = _endpoint(world)
    with world.client.application.app_context():
        delivery = ping(db.session.get(WebhookEndpoint, endpoint_id), None)
        delivery.state = state
        db.session.commit()
        return endpoint_id, delivery.id


def new_webhook(world):
    """A body registering an endpoint (an IP literal: no DNS lookup)."""
    return {}, {"url": PUBLIC_URL, "event_types": TYPES}


def webhook(world):
    """An endpoint in 35.15."""
    return {"endpoint_id": _endpoint(world)}, None


def webhook_change(world):
    """An endpoint in 35.15 and a change to it."""
    return {"endpoint_id": _endpoint(world)}, {"description": "Dasbor Sidoarjo"}


def webhook_delivery(world):
    """A delivery of an endpoint in 35.15."""
    endpoint_id, delivery_id = _delivery(world)
    return {"endpoint_id": endpoint_id, "delivery_id": delivery_id}, None


def dead_webhook_delivery(world):
    """A dead delivery (so it may be redelivered) of an endpoint in 35.15."""
    endpoint_id, delivery_id = _delivery(world, "dead")
    return {"endpoint_id": endpoint_id, "delivery_id": delivery_id}, None
