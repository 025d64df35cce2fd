"""Who may see an interview record: surveyors their own, supervisors and admins their region's
(a unit-level record is in its unit's region, an agency-level one in its agency's)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, func, select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import scope_filter
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import N_
from fieldcheck.interviews.models import Interview
from fieldcheck.units.models import Agency, Unit

#: The record's region: its unit's, else its agency's (SQL).
RECORD_REGION = func.coalesce(Unit.region_code, Agency.region_code)


def visible_interviews(user: User) -> Select:
    """A select of the records ``user`` may see: own for surveyors, region for others."""
    query = (
        select(Interview)
        .join(Agency, Agency.id == Interview.agency_id)
        .outerjoin(Unit, Unit.id == Interview.unit_id)
    )
    if user.role == "surveyor":
        query = query.where(Interview.surveyor_id == user.id)
    condition = scope_filter(user, RECORD_REGION)
    if condition is not None:
        query = query.where(condition)
    return query


def listed_interviews(
    user: User,
    *,
    agency: str | None = None,
    unit: str | None = None,
    instrument: str | None = None,
    methodology: str | None = None,
    period: int | None = None,
    status: str | None = None,
) -> Select:
    """``visible_interviews`` narrowed by the filters of ``GET /interviews``; ``period`` is the
    calendar year of the interview date (as zoning's period)."""
    query = visible_interviews(user)
    if agency is not None:
        query = query.where(Agency.code == agency)
    if unit is not None:
        query = query.where(Unit.code == unit)
    if instrument is not None:
        query = query.where(Interview.instrument == instrument)
    if methodology is not None:
        query = query.where(Interview.methodology_id == methodology)
    if period is not None:
        query = query.where(
            Interview.interview_date >= date(period, 1, 1),
            Interview.interview_date <= date(period, 12, 31),
        )
    if status is not None:
        query = query.where(Interview.status == status)
    return query


def get_visible_interview(user: User, interview_id: int) -> Interview:
    """The record if ``user`` may see it, else 404 (existence is not revealed)."""
    interview = db.session.execute(
        visible_interviews(user).where(Interview.id == interview_id)
    ).scalar_one_or_none()
    if interview is None:
        raise ApiError("not_found", N_("No such interview record."))
    return interview
