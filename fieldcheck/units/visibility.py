"""Who may see a unit: the one rule the units, zoning and publication endpoints share."""

from __future__ import annotations

from sqlalchemy import select

from fieldcheck.auth.services import current_user, in_scope
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import N_
from fieldcheck.units.models import Unit


def get_visible_unit(code: str) -> Unit:
    """The unit with ``code`` if inside the caller's region, else 404."""
    unit = db.session.execute(select(Unit).where(Unit.code == code)).unique().scalar_one_or_none()
    if unit is None or not in_scope(current_user(), unit.region_code):
        raise ApiError("not_found", N_("No such unit."))
    return unit
