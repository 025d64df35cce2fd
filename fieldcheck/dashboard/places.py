"""Places a reader opens on the dashboard (regions, agencies) and the rankings shown for them.

Scope is the auth rule (``in_scope``): a region or agency outside the reader's region is "not
found", exactly like a unit or run outside it, so nothing of it leaks, not even that it exists.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import in_scope
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import N_
from fieldcheck.regions.models import Region


def visible_region(user: User, code: str) -> Region:
    """The province or regency ``code`` if inside ``user``'s region, else 404."""
    region = db.session.get(Region, code)
    if region is None or not in_scope(user, region.code):
        raise ApiError("not_found", N_("No such region."))
    return region


def regions_in_scope(user: User, province: str | None = None) -> list[Region]:
    """Regions ``user`` may choose: the provinces (national readers) or the reader's own region
    and what lies below it; with ``province``, also that province's regencies."""
    query = select(Region).order_by(Region.code)
    if user.region_code is None:
        condition = Region.level == "province"
        if province is not None:
            condition = condition | (Region.parent_code == province)
        query = query.where(condition)
    else:
        top = user.region_code
        query = query.where((Region.code == top) | (Region.parent_code == top))
    return list(db.session.execute(query).scalars())


def count(query: Select) -> int:
    """How many rows ``query`` returns."""
    return db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def ranked_ends(query: Select, each: int) -> tuple[list[Any], bool]:
    """The rows of a ranking query (best first) in ascending score: all of them when there are
    at most ``2 * each``, else the ``each`` lowest and the ``each`` highest; and whether rows
    were left out between the two."""
    if count(query) <= 2 * each:
        rows = db.session.execute(query).all()
        return sorted(rows, key=lambda r: (r.score, r.code)), False
    columns = query.selected_columns
    lowest = db.session.execute(
        query.order_by(None).order_by(columns.score, columns.code).limit(each)
    ).all()
    highest = db.session.execute(query.limit(each)).all()
    return [*lowest, *sorted(highest, key=lambda r: (r.score, r.code))], True


def visible_region_or_none(user: User, code: str) -> Region | None:
    """The region ``code`` if ``user`` may open it, else None (for links that may be absent)."""
    region = db.session.get(Region, code)
    return region if region is not None and in_scope(user, region.code) else None
