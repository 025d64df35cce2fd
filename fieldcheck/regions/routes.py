"""HTTP endpoints for the Kemendagri region list."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from fieldcheck.auth.services import require_role
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.http import load_args, page_body, paginate
from fieldcheck.i18n import N_
from fieldcheck.openapi.doc import PageOf, api_doc
from fieldcheck.regions.models import Region
from schemas.units import RegionListArgsSchema, RegionSchema

bp = Blueprint("regions", __name__)


@bp.get("/regions")
@api_doc(args=RegionListArgsSchema, responses={200: PageOf(RegionSchema)})
@require_role("surveyor", "supervisor", "admin")
def list_regions():
    """Provinces and regencies, filtered by level, parent province or name."""
    args = load_args(RegionListArgsSchema())
    query = select(Region)
    if "level" in args:
        query = query.where(Region.level == args["level"])
    if "parent" in args:
        query = query.where(Region.parent_code == args["parent"])
    if "q" in args:
        query = query.where(Region.name.icontains(args["q"], autoescape=True))
    items, total = paginate(query.order_by(Region.code), args["page"], args["per_page"])
    return page_body(RegionSchema(many=True).dump(items), args["page"], args["per_page"], total)


@bp.get("/regions/<code>")
@api_doc(responses={200: RegionSchema}, path_examples={"code": "35.15"})
@require_role("surveyor", "supervisor", "admin")
def get_region(code: str):
    """One region."""
    region = db.session.get(Region, code)
    if region is None:
        raise ApiError("not_found", N_("No such region."))
    return RegionSchema().dump(region)
