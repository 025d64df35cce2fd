"""Webhook endpoints over HTTP (admins): register, list, change, delete, ping; deliveries and
their attempt log; manual redelivery. The event payloads are documented in the OpenAPI
document's ``x-webhooks`` (registered here: the document's builder may not import schemas)."""

from __future__ import annotations

from flask import Blueprint, url_for

from fieldcheck.auth.services import current_user, require_role
from fieldcheck.http import json_body, load, load_args, page_body, paginate
from fieldcheck.openapi.doc import LOCATION, WEBHOOK_EVENTS, PageOf, Response, api_doc
from fieldcheck.outbox.events import EVENT_TYPES
from fieldcheck.webhooks import services
from schemas.webhooks import (
    EVENT_DATA,
    DeliveryDetailSchema,
    DeliveryListArgsSchema,
    DeliverySchema,
    EndpointCreateSchema,
    EndpointSchema,
    EndpointUpdateSchema,
    EndpointWithSecretSchema,
)
from schemas.webhooks import PageArgsSchema as EndpointListArgsSchema

bp = Blueprint("webhooks", __name__)


@bp.record_once
def _document_events(state) -> None:
    """Tell the OpenAPI document which events this server sends, and their payloads."""
    state.app.extensions[WEBHOOK_EVENTS] = {
        event_type: (EVENT_TYPES[event_type], schema) for event_type, schema in EVENT_DATA.items()
    }


@bp.get("/webhooks")
@api_doc(args=EndpointListArgsSchema, responses={200: PageOf(EndpointSchema)}, tags=["webhooks"])
@require_role("admin")
def list_endpoints():
    """Webhook endpoints inside the admin's region (all for a national admin)."""
    args = load_args(EndpointListArgsSchema())
    items, total = paginate(
        services.endpoints_query(current_user()), args["page"], args["per_page"]
    )
    return page_body(EndpointSchema(many=True).dump(items), args["page"], args["per_page"], total)


@bp.post("/webhooks")
@api_doc(
    body=EndpointCreateSchema,
    responses={201: Response(EndpointWithSecretSchema, "Registered", headers=LOCATION)},
    tags=["webhooks"],
)
@require_role("admin")
def create_endpoint():
    """Register an endpoint. The signing secret (given, or generated) is in this answer only.

    The URL must be http(s) and (unless the server allows private targets) resolve to public
    addresses only. A regional admin's endpoint is in their region and receives only events
    about it.
    """
    data = load(EndpointCreateSchema(), json_body())
    options = {k: data[k] for k in ("region_code", "secret") if k in data}
    endpoint, secret = services.create_endpoint(
        current_user(),
        url=data["url"].strip(),
        event_types=data["event_types"],
        description=data["description"],
        **options,
    )
    body = {**EndpointSchema().dump(endpoint), "secret": secret}
    location = url_for("webhooks.get_endpoint", endpoint_id=endpoint.id)
    return body, 201, {"Location": location}


@bp.get("/webhooks/<int:endpoint_id>")
@api_doc(responses={200: EndpointSchema}, tags=["webhooks"])
@require_role("admin")
def get_endpoint(endpoint_id: int):
    """One endpoint (without its secret)."""
    return EndpointSchema().dump(services.visible_endpoint(current_user(), endpoint_id))


@bp.patch("/webhooks/<int:endpoint_id>")
@api_doc(body=EndpointUpdateSchema, responses={200: EndpointWithSecretSchema}, tags=["webhooks"])
@require_role("admin")
def update_endpoint(endpoint_id: int):
    """Change an endpoint; ``rotate_secret: true`` (or a given ``secret``) answers the new
    secret, once. ``is_active: false`` pauses deliveries (they wait, pending)."""
    data = load(EndpointUpdateSchema(), json_body())
    admin = current_user()
    endpoint = services.visible_endpoint(admin, endpoint_id)
    if "url" in data:
        data["url"] = data["url"].strip()
    secret = services.update_endpoint(admin, endpoint, data)
    body = EndpointSchema().dump(endpoint)
    if secret is not None:
        body["secret"] = secret
    return body


@bp.delete("/webhooks/<int:endpoint_id>")
@api_doc(responses={204: None}, tags=["webhooks"])
@require_role("admin")
def delete_endpoint(endpoint_id: int):
    """Delete an endpoint with its deliveries (audited)."""
    admin = current_user()
    services.delete_endpoint(admin, services.visible_endpoint(admin, endpoint_id))
    return "", 204


@bp.post("/webhooks/<int:endpoint_id>/ping")
@api_doc(responses={202: DeliverySchema}, tags=["webhooks"])
@require_role("admin")
def ping_endpoint(endpoint_id: int):
    """Queue a signed ``webhook.ping`` event for this endpoint; the worker sends it."""
    admin = current_user()
    delivery = services.ping(services.visible_endpoint(admin, endpoint_id), admin)
    return DeliverySchema().dump(delivery), 202


@bp.get("/webhooks/<int:endpoint_id>/deliveries")
@api_doc(args=DeliveryListArgsSchema, responses={200: PageOf(DeliverySchema)}, tags=["webhooks"])
@require_role("admin")
def list_deliveries(endpoint_id: int):
    """An endpoint's deliveries, newest first (``state``: pending, delivered or dead)."""
    args = load_args(DeliveryListArgsSchema())
    endpoint = services.visible_endpoint(current_user(), endpoint_id)
    query = services.deliveries_query(endpoint, args.get("state"))
    items, total = paginate(query, args["page"], args["per_page"])
    return page_body(DeliverySchema(many=True).dump(items), args["page"], args["per_page"], total)


@bp.get("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>")
@api_doc(responses={200: DeliveryDetailSchema}, tags=["webhooks"])
@require_role("admin")
def get_delivery(endpoint_id: int, delivery_id: int):
    """A delivery with the exact body it sends and every attempt (status, error, time)."""
    endpoint = services.visible_endpoint(current_user(), endpoint_id)
    return DeliveryDetailSchema().dump(services.visible_delivery(endpoint, delivery_id))


@bp.post("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver")
@api_doc(responses={202: DeliverySchema}, errors=("invalid_transition",), tags=["webhooks"])
@require_role("admin")
def redeliver(endpoint_id: int, delivery_id: int):
    """Send a delivered or dead delivery again: the same event id and bytes, a fresh round of
    attempts (409 while it is pending)."""
    admin = current_user()
    endpoint = services.visible_endpoint(admin, endpoint_id)
    delivery = services.redeliver(services.visible_delivery(endpoint, delivery_id), admin)
    return DeliverySchema().dump(delivery), 202
