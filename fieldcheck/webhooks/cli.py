"""``flask --app app webhooks ...`` (list, add, deliveries, redeliver, purge) and ``worker``."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from fieldcheck.clock import utcnow
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import localize, localize_details
from fieldcheck.webhooks import services
from fieldcheck.webhooks.models import WebhookDelivery
from fieldcheck.webhooks.retention import cutoffs, purge
from fieldcheck.webhooks.worker import drain, run_forever

webhooks_cli = AppGroup(
    "webhooks", help="Webhook endpoints and deliveries (audited as the system)."
)


def _fail(exc: ApiError) -> None:
    fields = localize_details(exc.details or {}).get("fields") or {}
    problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
    raise click.ClickException(problems or localize(exc.message))


@webhooks_cli.command("list")
def webhooks_list() -> None:
    """List endpoints with their region, state and counts of pending and dead deliveries."""
    for endpoint in db.session.execute(services.endpoints_query(None)).scalars():
        counts = services.delivery_counts(endpoint)
        state = "active" if endpoint.is_active else "paused"
        click.echo(
            f"#{endpoint.id}\t{state}\t{endpoint.region_code or '-'}\t{endpoint.url}\t"
            f"{','.join(endpoint.event_types)}\tpending {counts['pending']}, "
            f"delivered {counts['delivered']}, dead {counts['dead']}"
        )


@webhooks_cli.command("add")
@click.option("--url", required=True, help="http(s) URL that receives the events.")
@click.option(
    "--event", "events", multiple=True, required=True, help="An event type (repeat for more)."
)
@click.option("--region", default=None, help="Owner region: only events about it (e.g. 35).")
@click.option("--description", default="", help="What the endpoint is for.")
def webhooks_add(url: str, events: tuple[str, ...], region: str | None, description: str) -> None:
    """Register an endpoint; its signing secret is printed once."""
    try:
        endpoint, secret = services.create_endpoint(
            None, url=url, event_types=list(events), description=description, region_code=region
        )
    except ApiError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"endpoint #{endpoint.id} registered; signing secret (shown once):")
    click.echo(secret)


@webhooks_cli.command("deliveries")
@click.argument("endpoint_id", type=int)
@click.option("--state", type=click.Choice(["pending", "delivered", "dead"]), default=None)
@click.option("--limit", type=int, default=50, show_default=True)
def webhooks_deliveries(endpoint_id: int, state: str | None, limit: int) -> None:
    """List an endpoint's deliveries, newest first."""
    try:
        endpoint = services.visible_endpoint(None, endpoint_id)
    except ApiError as exc:
        _fail(exc)
    query = services.deliveries_query(endpoint, state).limit(limit)
    for d in db.session.execute(query).scalars():
        last = d.last_status_code if d.last_status_code is not None else (d.last_error or "-")
        click.echo(
            f"#{d.id}\t{d.state}\t{d.event_type}\t{d.event_id}\tattempts {d.attempts}\t{last}"
        )


@webhooks_cli.command("redeliver")
@click.argument("delivery_ids", type=int, nargs=-1)
@click.option(
    "--dead-of", "dead_of", type=int, default=None, help="Every dead delivery of this endpoint."
)
def webhooks_redeliver(delivery_ids: tuple[int, ...], dead_of: int | None) -> None:
    """Send delivered or dead deliveries again (same event id and bytes)."""
    ids = list(delivery_ids)
    if dead_of is not None:
        ids += (
            db.session.execute(
                select(WebhookDelivery.id).where(
                    WebhookDelivery.endpoint_id == dead_of, WebhookDelivery.state == "dead"
                )
            )
            .scalars()
            .all()
        )
    if not ids:
        raise click.UsageError("name delivery ids or --dead-of ENDPOINT_ID")
    for delivery_id in ids:
        delivery = db.session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            raise click.BadParameter(f"no delivery #{delivery_id}", param_hint="DELIVERY_IDS")
        try:
            services.redeliver(delivery, None)
        except ApiError as exc:
            _fail(exc)
        click.echo(f"delivery #{delivery.id} ({delivery.event_type}) queued again")
    db.session.commit()


@webhooks_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
def webhooks_purge(dry_run: bool) -> None:
    """Delete delivered and dead deliveries (and fanned-out outbox events) past their
    retention (webhooks.keep_delivered_days, webhooks.keep_dead_days); the scheduler does it
    hourly."""
    cut = cutoffs(current_app.config, utcnow())
    kept = "kept (0 days)"
    click.echo(
        f"delivered before {cut.delivered_before.isoformat() if cut.delivered_before else kept}; "
        f"dead before {cut.dead_before.isoformat() if cut.dead_before else kept}"
    )
    done = purge(dry_run=dry_run, cut=cut)
    verb = "would be deleted (dry run)" if dry_run else "deleted"
    click.echo(
        f"{done.deliveries} deliveries ({done.attempts} attempts) and {done.events} outbox "
        f"event(s) {verb}"
    )


@click.command("worker")
@click.option("--once", is_flag=True, help="Drain what is due now, then exit.")
@with_appcontext
def worker_command(once: bool) -> None:
    """Deliver webhooks in the foreground (SIGTERM or Ctrl-C stops after the current send)."""
    app = current_app._get_current_object()  # the loop needs the app, not the proxy
    if once:
        done = drain(app)
        click.echo(
            f"{done.fanned_out} event(s) fanned out, {done.delivered} delivered, "
            f"{done.retrying} to retry, {done.dead} dead"
        )
        return
    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    click.echo(
        f"webhook worker started; polling every {app.config['WEBHOOKS_POLL_SECONDS']} s", err=True
    )
    with contextlib.suppress(KeyboardInterrupt):
        run_forever(app, stop)
    click.echo("webhook worker stopped", err=True)
