"""Health and status endpoints (no token needed for /healthz)."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import utcnow
from fieldcheck.extensions import db

bp = Blueprint("system", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness and readiness: the database answers and the catalogue is loaded."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        db.session.rollback()
        database = "unreachable"
    registry = get_registry()
    body = {
        "status": "ok" if database == "ok" else "degraded",
        "database": database,
        "time": utcnow().isoformat(),
        "methodologies": sorted(registry.methodologies),
        "legal_catalogue": registry.catalogue.version,
    }
    return body, 200 if database == "ok" else 503
