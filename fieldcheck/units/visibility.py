"""Who may see a unit: the one rule the units, zoning and publication endpoints share."""

from __future__ import annotations

from sqlalchemy import select

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


def get_visible_agency_units(code: str) -> tuple[Agency, list[Unit]]:
    """The agency with ``code`` and its units inside the caller's region (by code), else 404.

    An agency none of whose units the caller may see does not exist for them (as a unit outside
    their region does not).
    """
    agency = db.session.execute(select(Agency).where(Agency.code == code)).scalar_one_or_none()
    units = []
    if agency is not None:
        user = current_user()
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
