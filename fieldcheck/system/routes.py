"""Health and status endpoints (no token needed for /healthz)."""

from __future__ import annotations

from flask import Blueprint, current_app
from prometheus_client import CONTENT_TYPE_LATEST

from fieldcheck.auth.services import require_role
from fieldcheck.catalogue.registry import loaded_registry
from fieldcheck.clock import shown, utcnow
from fieldcheck.errors import RETRY_AFTER_SECONDS
from fieldcheck.openapi.doc import Binary, Response, api_doc
from fieldcheck.system.health import check
from fieldcheck.system.metrics import check_may_read, exposition
from fieldcheck.zoning.services import status_summary
from schemas.system import HealthSchema, StatusSchema

bp = Blueprint("system", __name__)


@bp.get("/healthz")
@api_doc(
    public=True,
    responses={
        200: HealthSchema,
        503: Response(HealthSchema, "Degraded: the database is busy or does not answer"),
    },
)
def healthz():
    """Liveness and readiness: the database answers and the catalogue is loaded.

    Answers within a second whatever the database does (``fieldcheck.system.health``):
    ``database`` is ``ok``, ``busy`` (no answer in time: a held lock, a stalled server) or
    ``unreachable``; anything but ``ok`` is a 503 "degraded".
    """
    health = check(current_app._get_current_object())
    # What this process has loaded, without asking the database again (it may not answer:
    # the probe above is the one bounded wait).
    registry = loaded_registry()
    body = {
        "status": "ok" if health.database == "ok" else "degraded",
        "database": health.database,
        "time": shown(utcnow()),
        "methodologies": sorted(registry.methodologies),
        "legal_catalogue": registry.catalogue.version,
    }
    if health.zoning is not None:
        body["scheduler"] = health.zoning["scheduler"]
        # No token here: the run's state, not its error text (which may name internals).
        last = health.zoning["last_run"]
        body["last_zoning_run"] = (
            None if last is None else {k: v for k, v in last.items() if k != "error"}
        )
    if health.database == "ok":
        return body, 200
    return body, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


@bp.get("/api/v1/status")
@api_doc(responses={200: StatusSchema})
@require_role("surveyor", "supervisor", "admin")
def status():
    """Scheduler heartbeat, the zoning lease, the last run and the queue (any signed-in user)."""
    return {"time": shown(utcnow()), **status_summary()}


@bp.get("/metrics")
@api_doc(
    public=True,
    responses={200: Response(Binary(("text/plain",)), "Prometheus text exposition")},
    errors=("unauthorized", "forbidden"),
)
def metrics():
    """Prometheus metrics of every worker and the scheduler (loopback or ``METRICS_TOKEN``)."""
    check_may_read()
    return exposition(), 200, {"Content-Type": CONTENT_TYPE_LATEST}
