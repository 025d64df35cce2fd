"""Endpoints and deliveries as admins manage them; the API, the pages and the CLI call these.

An endpoint belongs to a region: a regional admin's endpoints are in their region (or below it)
and receive only events about it (``delivery.data_for``); a national admin's may be national.
Admins see and change the endpoints inside their region, as they do users. Every change and
every manual redelivery is audited; the secret never is.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, select

from fieldcheck.audit.services import record
from fieldcheck.auth.models import User
from fieldcheck.auth.services import in_scope, scope_filter
from fieldcheck.clock import utcnow
from fieldcheck.errors import ApiError, field_errors
from fieldcheck.extensions import db, lock
from fieldcheck.i18n import N_, _
from fieldcheck.outbox.events import EVENT_TYPES
from fieldcheck.outbox.models import OutboxEvent, new_event_id
from fieldcheck.regions.models import Region
from fieldcheck.webhooks import signing
from fieldcheck.webhooks.models import WebhookDelivery, WebhookEndpoint
from fieldcheck.webhooks.targets import TargetRefused, check_target

#: Event types an admin may subscribe to (a ping goes to one endpoint, asked for by hand).
SUBSCRIBABLE = tuple(t for t in EVENT_TYPES if t != "webhook.ping")
NOT_FOUND = N_("No such webhook endpoint.")
UNKNOWN_TYPE = N_("Unknown event type: %(type)s.")


def new_secret() -> str:
    """A fresh signing secret (256 random bits), shown to the admin once."""
    return "whsec_" + secrets.token_urlsafe(32)


def endpoints_query(admin: User | None) -> Select:
    """Endpoints ``admin`` may see (inside their region; all for national admins or the CLI)."""
    query = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
    condition = None if admin is None else scope_filter(admin, WebhookEndpoint.region_code)
    return query if condition is None else query.where(condition)


def visible_endpoints(admin: User | None) -> list[WebhookEndpoint]:
    """The endpoints ``admin`` may see, by id."""
    return list(db.session.execute(endpoints_query(admin)).scalars())


def visible_endpoint(admin: User | None, endpoint_id: int) -> WebhookEndpoint:
    """The endpoint if ``admin`` may see it, else a 404 ApiError (never a 403 that tells)."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or (admin is not None and not in_scope(admin, endpoint.region_code)):
        raise ApiError("not_found", NOT_FOUND)
    return endpoint


def visible_delivery(endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    """A delivery of ``endpoint`` (404 otherwise)."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise ApiError("not_found", N_("No such delivery."))
    return delivery


def url_problems(url: str) -> list[str]:
    """Why ``url`` may not receive webhooks (msgids; empty when it may)."""
    try:
        check_target(url, current_app.config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"])
    except TargetRefused as exc:
        return [exc.message]
    return []


def event_type_problems(types: Iterable[str]) -> list[str]:
    """Why ``types`` is not a subscription (msgids with their parameters rendered)."""
    types = list(types)
    if not types:
        return [N_("Choose at least one event type.")]
    return [_(UNKNOWN_TYPE, type=t) for t in types if t not in SUBSCRIBABLE]


def region_problems(admin: User | None, region_code: str | None) -> list[str]:
    """Why ``region_code`` cannot own an endpoint of ``admin`` (msgids)."""
    if region_code is not None and db.session.get(Region, region_code) is None:
        return [N_("Unknown region code.")]
    if admin is not None and not in_scope(admin, region_code):
        return [N_("You may only register endpoints inside your region.")]
    return []


def _check(problems: dict[str, list[str]]) -> None:
    problems = {k: v for k, v in problems.items() if v}
    if problems:
        raise field_errors(problems)


def _state(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What the audit log keeps of an endpoint (never its secret)."""
    return {
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "region_code": endpoint.region_code,
        "description": endpoint.description,
        "is_active": endpoint.is_active,
    }


def create_endpoint(
    admin: User | None,
    *,
    url: str,
    event_types: list[str],
    description: str = "",
    region_code: Any = ...,
    secret: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its secret (given, or generated). ``region_code``
    left out: the admin's own region. 422 for a refused URL, unknown types or region."""
    if region_code is ...:
        region_code = None if admin is None else admin.region_code
    _check(
        {
            "url": url_problems(url),
            "event_types": event_type_problems(event_types),
            "region_code": region_problems(admin, region_code),
        }
    )
    secret = secret or new_secret()
    endpoint = WebhookEndpoint(
        url=url,
        secret=secret,
        event_types=sorted(set(event_types)),
        region_code=region_code,
        description=description.strip(),
        is_active=True,
        created_by=None if admin is None else admin.id,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    db.session.add(endpoint)
    db.session.flush()
    record(
        "webhook.create",
        "webhook_endpoint",
        endpoint.id,
        after=_state(endpoint),
        actor=admin,
        region=endpoint.region_code,
    )
    return endpoint, secret


def update_endpoint(
    admin: User | None, endpoint: WebhookEndpoint, changes: dict[str, Any]
) -> str | None:
    """Change an endpoint's URL, types, description, active flag or secret (``secret``: a
    given one; ``rotate_secret``: a new one). Returns the new secret when it changed."""
    problems: dict[str, list[str]] = {}
    if "url" in changes:
        problems["url"] = url_problems(changes["url"])
    if "event_types" in changes:
        problems["event_types"] = event_type_problems(changes["event_types"])
    _check(problems)
    before = _state(endpoint)
    if "url" in changes:
        endpoint.url = changes["url"]
    if "event_types" in changes:
        endpoint.event_types = sorted(set(changes["event_types"]))
    if "description" in changes:
        endpoint.description = changes["description"].strip()
    if "is_active" in changes:
        endpoint.is_active = changes["is_active"]
    secret = None
    if changes.get("secret"):
        secret = changes["secret"]
    elif changes.get("rotate_secret"):
        secret = new_secret()
    if secret is not None:
        endpoint.secret = secret
    endpoint.updated_at = utcnow()
    db.session.flush()
    after = _state(endpoint)
    if secret is not None:
        after["secret_changed"] = True
    record(
        "webhook.update",
        "webhook_endpoint",
        endpoint.id,
        before=before,
        after=after,
        actor=admin,
        region=endpoint.region_code,
    )
    return secret


def delete_endpoint(admin: User | None, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its deliveries and their log (the audit log keeps the record)."""
    before = _state(endpoint)
    record(
        "webhook.delete",
        "webhook_endpoint",
        endpoint.id,
        before=before,
        actor=admin,
        region=endpoint.region_code,
    )
    db.session.delete(endpoint)
    db.session.flush()


def deliveries_query(endpoint: WebhookEndpoint, state: str | None = None) -> Select:
    """An endpoint's deliveries, newest first, optionally in one state."""
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if state is not None:
        query = query.where(WebhookDelivery.state == state)
    return query.order_by(WebhookDelivery.id.desc())


def delivery_counts(endpoint: WebhookEndpoint) -> dict[str, int]:
    """How many of the endpoint's deliveries are in each state."""
    rows = db.session.execute(
        select(WebhookDelivery.state, func.count())
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .group_by(WebhookDelivery.state)
    ).all()
    return {"pending": 0, "delivered": 0, "dead": 0, **dict(rows)}


def redeliver(delivery: WebhookDelivery, actor: User | None) -> WebhookDelivery:
    """Send a delivered or dead delivery again, the same bytes, with a fresh round of
    attempts; audited. 409 while it is still pending (the worker has it)."""
    lock(delivery)
    if delivery.state == "pending":
        raise ApiError(
            "invalid_transition",
            N_("This delivery is still pending; it will be tried again by itself."),
            {"state": delivery.state},
        )
    before = {"state": delivery.state, "attempts": delivery.attempts}
    delivery.state = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.claimed_until = None
    delivery.claim_token = None
    delivery.delivered_at = None
    db.session.flush()
    record(
        "webhook.redeliver",
        "webhook_delivery",
        delivery.id,
        before=before,
        after={"state": "pending", "event_id": delivery.event_id},
        actor=actor,
        region=delivery.endpoint.region_code,
    )
    return delivery


def ping(endpoint: WebhookEndpoint, actor: User | None) -> WebhookDelivery:
    """Queue a ``webhook.ping`` for this endpoint only (sent by the worker, signed as usual)."""
    now = utcnow()
    data = {"endpoint_id": endpoint.id}
    # Its own outbox row, already fanned out (to this endpoint alone), so the event id is as
    # unique and stable as any other event's.
    event = OutboxEvent(
        event_id=new_event_id(),
        topic="webhook.ping",
        payload=data,
        region_code=endpoint.region_code,
        created_at=now,
        delivered_at=now,
    )
    db.session.add(event)
    db.session.flush()
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        outbox_event_id=event.id,
        event_id=event.event_id,
        event_type=event.topic,
        body=signing.encode_body(event.event_id, event.topic, now, data),
        state="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(delivery)
    db.session.flush()
    return delivery
