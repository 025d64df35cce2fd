"""Who may see a unit: the one rule the units, zoning and publication endpoints share."""

from __future__ import annotations

from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import current_user, in_scope
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import N_
from fieldcheck.units.models import Agency, Unit


def get_visible_unit(code: str) -> Unit:
    """The unit with ``code`` if inside the caller's region, else 404."""
    unit = db.session.execute(select(Unit).where(Unit.code == code)).unique().scalar_one_or_none()
    if unit is None or not in_scope(current_user(), unit.region_code):
        raise ApiError("not_found", N_("No such unit."))
    return unit


def visible_agency(user: User, code: str) -> Agency:
    """The agency ``code`` if it is located inside ``user``'s region, else 404.

    An agency whose units span provinces (no region) is national: only national readers see it,
    since its score mixes units of several regions. The agency page and its report both ask here.
    """
    agency = db.session.execute(select(Agency).where(Agency.code == code)).scalar_one_or_none()
    if agency is None or not in_scope(user, agency.region_code):
        raise ApiError("not_found", N_("No such agency."))
    return agency


def get_visible_agency_units(code: str) -> tuple[Agency, list[Unit]]:
    """The agency with ``code`` (``visible_agency``) and its units inside the caller's region
    (by code), else 404."""
    user = current_user()
    agency = visible_agency(user, code)
    units = []
    if agency is not None:
        units = [
            u
            for u in db.session.execute(
                select(Unit).where(Unit.agency_id == agency.id).order_by(Unit.code)
            )
            .unique()
            .scalars()
            if in_scope(user, u.region_code)
        ]
    if not units:
        raise ApiError("not_found", N_("No such agency."))
    return agency, units
