"""Health and status endpoints (no token needed for /healthz)."""

from __future__ import annotations

from flask import Blueprint
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from fieldcheck.auth.services import require_role
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import shown, utcnow
from fieldcheck.extensions import db
from fieldcheck.openapi.doc import Binary, Response, api_doc
from fieldcheck.system.metrics import check_may_read, exposition
from fieldcheck.zoning.services import status_summary
from schemas.system import HealthSchema, StatusSchema

bp = Blueprint("system", __name__)


@bp.get("/healthz")
@api_doc(
    public=True,
    responses={
        200: HealthSchema,
        503: Response(HealthSchema, "Degraded: the database does not answer"),
    },
)
def healthz():
    """Liveness and readiness: the database answers and the catalogue is loaded."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        db.session.rollback()
        database = "unreachable"
    registry = get_registry()
    zoning = None
    if database == "ok":
        try:
            zoning = status_summary()
        except SQLAlchemyError:
            db.session.rollback()
    body = {
        "status": "ok" if database == "ok" else "degraded",
        "database": database,
        "time": shown(utcnow()),
        "methodologies": sorted(registry.methodologies),
        "legal_catalogue": registry.catalogue.version,
    }
    if zoning is not None:
        body["scheduler"] = zoning["scheduler"]
        # No token here: the run's state, not its error text (which may name internals).
        last = zoning["last_run"]
        body["last_zoning_run"] = (
            None if last is None else {k: v for k, v in last.items() if k != "error"}
        )
    return body, 200 if database == "ok" else 503


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
