"""HTTP endpoints for methodologies and the legal service catalogue (cacheable by ETag)."""

from __future__ import annotations

import hashlib

from flask import Blueprint, jsonify, request

from fieldcheck.auth.services import require_role
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.errors import ApiError
from fieldcheck.http import load_args, page_body
from fieldcheck.i18n import N_
from fieldcheck.openapi.doc import PageOf, api_doc
from schemas.catalogue import (
    CatalogueVersionSchema,
    MethodologySchema,
    MethodologySummarySchema,
    ServiceSchema,
    ZoneSchema,
)
from schemas.common import PageArgsSchema
from schemas.methodologies import MethodologyArgsSchema

bp = Blueprint("catalogue", __name__)

ALL_ROLES = ("surveyor", "supervisor", "admin")


def _page(items: list) -> tuple[dict, str]:
    """One page of a short reference list (the same ``page``/``per_page`` arguments, refused
    the same way, as every other list), and what its ETag must add: which page it is."""
    args = load_args(PageArgsSchema())
    body = page_body([], args["page"], args["per_page"], len(items))
    start = (body["page"] - 1) * body["per_page"]
    body["items"] = items[start : start + body["per_page"]]
    return body, f"p{body['page']}x{body['per_page']}"


def _cached(body: dict, etag: str):
    """Answer 304 when the client already holds this version; otherwise the body with its ETag."""
    response = jsonify(body)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, max-age=300, must-revalidate"
    return response.make_conditional(request)


@bp.get("/methodologies")
@api_doc(args=PageArgsSchema, responses={200: PageOf(MethodologySummarySchema)}, cacheable=True)
@require_role(*ALL_ROLES)
def list_methodologies():
    """Every methodology with its status and effective dates."""
    registry = get_registry()
    items = sorted(registry.methodologies.values(), key=lambda m: (m.id, m.version))
    body, page = _page(MethodologySummarySchema(many=True).dump(items))
    return _cached(body, "-".join([*(m.content_hash[:16] for m in items), page]))


@bp.get("/methodologies/<methodology_id>")
@api_doc(args=MethodologyArgsSchema, responses={200: MethodologySchema}, cacheable=True)
@require_role(*ALL_ROLES)
def get_methodology(methodology_id: str):
    """The checklist a phone renders and the scoring rules, with an ETag for caching: the
    version in force today, or ``on`` a visit date, or exactly ``version`` (issue 16)."""
    args = load_args(MethodologyArgsSchema())
    registry = get_registry()
    if "version" in args:
        methodology = registry.methodology(methodology_id, args["version"])
    elif "on" in args:
        methodology = registry.in_force(methodology_id, args["on"])
        if methodology is None and registry.versions(methodology_id):
            raise ApiError("not_found", N_("No version of this methodology is in force that day."))
    else:
        methodology = registry.methodology(methodology_id)
    if methodology is None:
        raise ApiError("not_found", N_("No such methodology."))
    return _cached(MethodologySchema().dump(methodology), methodology.content_hash)


@bp.get("/services")
@api_doc(
    args=PageArgsSchema,
    responses={200: PageOf(ServiceSchema, extra=CatalogueVersionSchema)},
    cacheable=True,
)
@require_role(*ALL_ROLES)
def list_services():
    """The legal service catalogue with legal values, citations and validity dates."""
    catalogue = get_registry().catalogue
    items = [catalogue.services[code] for code in sorted(catalogue.services)]
    body, page = _page(ServiceSchema(many=True).dump(items))
    body["version"] = catalogue.version
    return _cached(body, f"{catalogue.content_hash}-{page}")


@bp.get("/zones")
@api_doc(args=PageArgsSchema, responses={200: PageOf(ZoneSchema)}, cacheable=True)
@require_role(*ALL_ROLES)
def list_zones():
    """The zone catalogue, worst zone first: code, name, colours and where the Ombudsman's
    reports name it; a methodology's ``zones`` says which of them its bands use."""
    zones = get_registry().zones
    body, page = _page(ZoneSchema(many=True).dump(zones))
    digest = hashlib.sha256(repr(zones).encode()).hexdigest()[:16]
    return _cached(body, f"{digest}-{request.accept_languages}-{page}")
