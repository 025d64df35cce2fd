"""HTTP endpoints for methodologies and the legal service catalogue (cacheable by ETag)."""

from __future__ import annotations

from flask import Blueprint, request

from fieldcheck.auth.services import require_role
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.errors import ApiError
from schemas.catalogue import MethodologySchema, MethodologySummarySchema, ServiceSchema

bp = Blueprint("catalogue", __name__)

ALL_ROLES = ("surveyor", "supervisor", "admin")


def _cached(body: dict, etag: str):
    """Answer 304 when the client already holds this version; otherwise the body with its ETag."""
    from flask import jsonify

    response = jsonify(body)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, max-age=300, must-revalidate"
    return response.make_conditional(request)


@bp.get("/methodologies")
@require_role(*ALL_ROLES)
def list_methodologies():
    """Every methodology with its status and effective dates."""
    registry = get_registry()
    items = sorted(registry.methodologies.values(), key=lambda m: (m.id, m.version))
    body = {
        "items": MethodologySummarySchema(many=True).dump(items),
        "page": 1,
        "per_page": len(items),
        "total": len(items),
    }
    return _cached(body, "-".join(m.content_hash[:16] for m in items))


@bp.get("/methodologies/<methodology_id>")
@require_role(*ALL_ROLES)
def get_methodology(methodology_id: str):
    """The checklist a phone renders and the scoring rules, with an ETag for caching."""
    methodology = get_registry().methodology(methodology_id)
    if methodology is None:
        raise ApiError("not_found", "No such methodology.")
    return _cached(MethodologySchema().dump(methodology), methodology.content_hash)


@bp.get("/services")
@require_role(*ALL_ROLES)
def list_services():
    """The legal service catalogue with legal values, citations and validity dates."""
    catalogue = get_registry().catalogue
    items = [catalogue.services[code] for code in sorted(catalogue.services)]
    body = {
        "items": ServiceSchema(many=True).dump(items),
        "page": 1,
        "per_page": len(items),
        "total": len(items),
        "version": catalogue.version,
    }
    return _cached(body, catalogue.content_hash)
