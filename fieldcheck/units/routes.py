"""HTTP endpoints for units (what phones fetch to choose where they are)."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import or_, select

from fieldcheck.auth.services import current_user, require_role, scope_filter
from fieldcheck.http import load_args, page_body, paginate
from fieldcheck.openapi.doc import PageOf, api_doc
from fieldcheck.regions.services import in_region
from fieldcheck.units.models import Agency, Unit
from fieldcheck.units.visibility import get_visible_unit
from schemas.units import UnitListArgsSchema, UnitSchema

bp = Blueprint("units", __name__)


@bp.get("/units")
@api_doc(args=UnitListArgsSchema, responses={200: PageOf(UnitSchema)})
@require_role("surveyor", "supervisor", "admin")
def list_units():
    """Units in the caller's region, filtered by region prefix, agency, type or a search text."""
    args = load_args(UnitListArgsSchema())
    query = select(Unit).join(Unit.agency)
    condition = scope_filter(current_user(), Unit.region_code)
    if condition is not None:
        query = query.where(condition)
    if "region" in args:
        region = args["region"]
        query = query.where(in_region(Unit.region_code, region))
    if "agency" in args:
        query = query.where(Agency.code == args["agency"])
    if "unit_type" in args:
        query = query.where(Unit.unit_type == args["unit_type"])
    if "q" in args:
        # Escaped: "_" and "%" typed in a search box are characters, not wildcards.
        q = args["q"]
        query = query.where(
            or_(
                Unit.name.icontains(q, autoescape=True),
                Unit.code.icontains(q, autoescape=True),
                Agency.name.icontains(q, autoescape=True),
            )
        )
    query = query.order_by(Unit.code)
    items, total = paginate(query, args["page"], args["per_page"])
    return page_body(UnitSchema(many=True).dump(items), args["page"], args["per_page"], total)


@bp.get("/units/<code>")
@api_doc(responses={200: UnitSchema})
@require_role("surveyor", "supervisor", "admin")
def get_unit(code: str):
    """One unit with its agency, region, location and services."""
    return UnitSchema().dump(get_visible_unit(code))
