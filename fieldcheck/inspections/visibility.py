"""Who may see an inspection, and how an inspection's flags read to someone who may not see the
other visits they name.

Lives here, below evidence, review and zoning, because every one of them asks it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from fieldcheck.auth.models import User
from fieldcheck.auth.services import current_user, scope_filter
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import N_
from fieldcheck.inspections.models import Inspection
from fieldcheck.units.models import Unit


def visible_inspections(user: User) -> Select:
    """A select of the inspections ``user`` may see: own for surveyors, region for others."""
    query = select(Inspection).join(Inspection.unit)
    if user.role == "surveyor":
        query = query.where(Inspection.surveyor_id == user.id)
    condition = scope_filter(user, Unit.region_code)
    if condition is not None:
        query = query.where(condition)
    return query


def listed_inspections(
    user: User,
    *,
    unit: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    surveyor: int | None = None,
) -> Select:
    """``visible_inspections`` narrowed by the filters of ``GET /inspections`` (and the
    inspection exports): a unit code, a status, received at or after ``since``, a surveyor id."""
    query = visible_inspections(user)
    if unit is not None:
        query = query.where(Unit.code == unit)
    if status is not None:
        query = query.where(Inspection.status == status)
    if since is not None:
        query = query.where(Inspection.received_at >= since)
    if surveyor is not None:
        query = query.where(Inspection.surveyor_id == surveyor)
    return query


def get_visible_inspection(inspection_id: int) -> Inspection:
    """The inspection if the current user may see it, else 404 (existence is not revealed)."""
    query = (
        visible_inspections(current_user())
        .where(Inspection.id == inspection_id)
        .options(
            selectinload(Inspection.answers),
            selectinload(Inspection.posted_standards),
            selectinload(Inspection.findings),
        )
    )
    inspection = db.session.execute(query).unique().scalar_one_or_none()
    if inspection is None:
        raise ApiError("not_found", N_("No such inspection."))
    return inspection
