"""Admin pages for webhooks: endpoints (register, pause, rotate the secret, delete, ping), their
deliveries with the attempt log, and manual redelivery.

A thin shell over ``fieldcheck.webhooks.services``, the same calls as ``/api/v1/webhooks``: the
same region scope and audit. A secret is rendered in the response to the POST that made it
(201), never kept to survive a redirect.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale

from fieldcheck.errors import ApiError, field_errors
from fieldcheck.http import paginate
from fieldcheck.i18n import N_, _, zone_name
from fieldcheck.outbox.events import EVENT_TYPES
from fieldcheck.web.access import page_role
from fieldcheck.web.blueprint import bp
from fieldcheck.web.formatting import zone_of
from fieldcheck.webhooks import services
from fieldcheck.webhooks.models import DELIVERY_STATES, rounds

PER_PAGE = 50
#: A delivery's state as the pages name it.
STATE_LABELS = {
    "pending": N_("waiting"),
    "delivered": N_("delivered"),
    "dead": N_("failed for good"),
}


def _page() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise field_errors({"page": [N_("Not a page number.")]})
    return int(raw)


def pretty_body(body: bytes) -> str:
    """The stored body laid out for reading (indented JSON); as it is when it is not JSON.
    For display only: the receiver gets, and the signature covers, the stored bytes."""
    text = bytes(body).decode("utf-8", errors="replace")
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def to_the_second(moment: datetime | None, region_code: str | None) -> str:
    """An attempt's time with seconds ("5 Desember 2026 pukul 09.12.05 WIB"): attempts a few
    seconds apart must not read as the same minute."""
    if moment is None:
        return "–"
    local = moment.astimezone(ZoneInfo(zone_of(region_code)))
    locale = str(get_locale() or "id")
    text = _(
        "%(date)s at %(time)s",
        date=format_date(local, "long", locale=locale),
        time=format_time(local, "medium", tzinfo=local.tzinfo, locale=locale),
    )
    return f"{text} {zone_name(local) or local.strftime('%z')}"


def _types() -> list[tuple[str, str]]:
    return [(t, EVENT_TYPES[t]) for t in services.SUBSCRIBABLE]


@bp.get("/admin/webhooks")
@page_role("admin")
def admin_webhooks():
    """The webhook endpoints of the admin's region with their delivery counts."""
    endpoints = list(services.visible_endpoints(g.user))
    counts = {e.id: services.delivery_counts(e) for e in endpoints}
    return render_template("web/webhooks/list.html", endpoints=endpoints, counts=counts)


@bp.route("/admin/webhooks/new", methods=["GET", "POST"])
@page_role("admin")
def admin_webhook_new():
    """Register an endpoint; the generated signing secret is shown once (201)."""
    form: dict[str, Any] = {
        "url": "",
        "description": "",
        "region_code": g.user.region_code or "",
        "event_types": [],
    }
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = {
            "url": request.form.get("url", "").strip()[:2048],
            "description": request.form.get("description", "").strip()[:200],
            "region_code": request.form.get("region_code", "").strip()[:16],
            "event_types": request.form.getlist("event_types")[:20],
        }
        try:
            endpoint, secret = services.create_endpoint(
                g.user,
                url=form["url"],
                event_types=form["event_types"],
                description=form["description"],
                region_code=form["region_code"] or None,
            )
        except ApiError as error:
            if error.code != "validation_failed":
                raise
            errors = {k: [_(m) for m in v] for k, v in error.details["fields"].items()}
        else:
            return render_template(
                "web/webhooks/secret.html", endpoint=endpoint, secret=secret
            ), 201
    return render_template("web/webhooks/new.html", form=form, errors=errors, types=_types()), (
        422 if errors else 200
    )


@bp.get("/admin/webhooks/<int:endpoint_id>")
@page_role("admin")
def admin_webhook(endpoint_id: int):
    """One endpoint: its settings, actions and deliveries (newest first, by state)."""
    endpoint = services.visible_endpoint(g.user, endpoint_id)
    state = request.args.get("state") or None
    if state is not None and state not in DELIVERY_STATES:
        raise field_errors({"state": [N_("Choose pending, delivered or dead.")]})
    page = _page()
    deliveries, total = paginate(services.deliveries_query(endpoint, state), page, PER_PAGE)
    args = {"endpoint_id": endpoint.id, **({"state": state} if state else {})}
    return render_template(
        "web/webhooks/endpoint.html",
        endpoint=endpoint,
        deliveries=deliveries,
        total=total,
        page=page,
        per_page=PER_PAGE,
        args=args,
        state=state,
        states=DELIVERY_STATES,
        counts=services.delivery_counts(endpoint),
        types=dict(EVENT_TYPES),
        labels=STATE_LABELS,
    )


@bp.get("/admin/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>")
@page_role("admin")
def admin_webhook_delivery(endpoint_id: int, delivery_id: int):
    """A delivery: the exact body it sends and every attempt."""
    endpoint = services.visible_endpoint(g.user, endpoint_id)
    delivery = services.visible_delivery(endpoint, delivery_id)
    return render_template(
        "web/webhooks/delivery.html",
        endpoint=endpoint,
        delivery=delivery,
        body=bytes(delivery.body).decode("utf-8", errors="replace"),
        pretty=pretty_body(delivery.body),
        rounds=rounds(list(delivery.log)),
        labels=STATE_LABELS,
        at=to_the_second,
    )


@bp.post("/admin/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver")
@page_role("admin")
def admin_webhook_redeliver(endpoint_id: int, delivery_id: int):
    """Send a delivered or dead delivery again (same bytes); back where the button was."""
    endpoint = services.visible_endpoint(g.user, endpoint_id)
    delivery = services.redeliver(services.visible_delivery(endpoint, delivery_id), g.user)
    flash(_("Delivery #%(id)s will be sent again.", id=delivery.id), "success")
    if request.form.get("back") == "delivery":
        target = url_for(
            "web.admin_webhook_delivery", endpoint_id=endpoint.id, delivery_id=delivery.id
        )
    else:
        target = url_for("web.admin_webhook", endpoint_id=endpoint.id)
    return redirect(target, 303)


@bp.post("/admin/webhooks/<int:endpoint_id>/ping")
@page_role("admin")
def admin_webhook_ping(endpoint_id: int):
    """Queue a test event for this endpoint."""
    endpoint = services.visible_endpoint(g.user, endpoint_id)
    services.ping(endpoint, g.user)
    flash(_("A test event is on its way."), "success")
    return redirect(url_for("web.admin_webhook", endpoint_id=endpoint.id), 303)


@bp.post("/admin/webhooks/<int:endpoint_id>/active")
@page_role("admin")
def admin_webhook_active(endpoint_id: int):
    """Pause (deliveries wait) or resume an endpoint."""
    endpoint = services.visible_endpoint(g.user, endpoint_id)
    active = request.form.get("active") == "1"
    services.update_endpoint(g.user, endpoint, {"is_active": active})
    flash(_("Deliveries resumed.") if active else _("Deliveries paused."), "success")
    return redirect(url_for("web.admin_webhook", endpoint_id=endpoint.id), 303)


@bp.post("/admin/webhooks/<int:endpoint_id>/secret")
@page_role("admin")
def admin_webhook_secret(endpoint_id: int):
    """Rotate the signing secret; the new one is shown once (the receiver must switch to it)."""
    endpoint = services.visible_endpoint(g.user, endpoint_id)
    secret = services.update_endpoint(g.user, endpoint, {"rotate_secret": True})
    return render_template(
        "web/webhooks/secret.html", endpoint=endpoint, secret=secret, rotated=True
    ), 201


@bp.post("/admin/webhooks/<int:endpoint_id>/delete")
@page_role("admin")
def admin_webhook_delete(endpoint_id: int):
    """Delete an endpoint with its deliveries."""
    endpoint = services.visible_endpoint(g.user, endpoint_id)
    services.delete_endpoint(g.user, endpoint)
    flash(_("The endpoint was deleted."), "success")
    return redirect(url_for("web.admin_webhooks"), 303)
