"""Which run a reader reads, and what they see of it: the rules the results API and the web
pages share.

A reader is a user with a region (or none, national). Every function takes the user: the API
passes the token's, a page the logged-in person's. Nothing here knows about requests.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import scope_filter
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, _, state
from fieldcheck.regions.services import in_region
from fieldcheck.zoning.models import ZoningChange, ZoningRun
from fieldcheck.zoning.results import level_rows
from fieldcheck.zoning.services import (
    covering_scopes,
    default_methodology_id,
    latest_official_run,
    latest_succeeded_run,
)
from fieldcheck.zoning.visibility import scope_readable, visible_run


def readable_scopes(user: User, region: str | None) -> list[str]:
    """The run scopes covering ``region`` that ``user`` may read (national first)."""
    return [s for s in covering_scopes(region) if scope_readable(user, s)]


def resolve_run(
    user: User,
    *,
    run: int | str | None = None,
    methodology: str | None = None,
    period: int | None = None,
    region: str | None = None,
) -> ZoningRun | None:
    """The run a results query reads: explicit id, ``latest`` succeeded, or the published one.

    Default: the published run of the methodology (newest period, or ``period``) covering
    ``region`` (else the user's): the national one or a regional office's, whichever was
    published last (services.latest_official_run); falling back to the latest succeeded run
    covering it when none is published yet. Only runs the user may read are considered. A run
    asked for by id must have succeeded (409 otherwise).
    """
    if isinstance(run, int):
        chosen = visible_run(user, run)
        if chosen.state != "succeeded":
            raise ApiError(
                "conflict",
                _(
                    "Run #%(run_id)s is %(state)s: only a succeeded run has results.",
                    run_id=chosen.id,
                    state=state(chosen.state),
                ),
                {"run_id": chosen.id, "state": chosen.state},
            )
        return chosen
    methodology_id = methodology or default_methodology_id()
    if get_registry().methodology(methodology_id) is None:
        raise ApiError(
            "validation_failed",
            N_("Unknown methodology."),
            {"fields": {"methodology": [N_("Unknown methodology.")]}},
        )
    scopes = readable_scopes(user, region or user.region_code)
    if run is None:
        official = latest_official_run(methodology_id, period, scopes)
        if official is not None:
            return official
    return latest_succeeded_run(methodology_id, period, scopes)


def run_header(run: ZoningRun | None) -> dict[str, Any]:
    """Which run a results answer read: id, published or not, methodology, period, region."""
    if run is None:
        return {"run_id": None, "is_published": False, "methodology": None, "period": None}
    return {
        "run_id": run.id,
        "is_published": run.is_official,
        "dry_run": run.is_dry_run,
        "methodology": run.methodology_id,
        "methodology_version": run.methodology_version,
        "period": run.period,
        "region": run.scope or None,
    }


def results_query(
    user: User,
    run: ZoningRun,
    level: str,
    *,
    region: str | None = None,
    zone: str | None = None,
    agency: str | None = None,
) -> Select:
    """``run``'s rows at ``level`` that ``user`` may see, ranked (rank, then code).

    Narrowed to ``region`` (and its descendants), a ``zone``, or, for units, an ``agency``
    code. Resolved through zoning.results: a run may share unit rows with its anchor run.
    """
    rows = level_rows(run, level).subquery()
    query = select(rows)
    condition = scope_filter(user, rows.c.region_code)
    if condition is not None:
        query = query.where(condition)
    if region is not None:
        query = query.where(in_region(rows.c.region_code, region))
    if zone is not None:
        query = query.where(rows.c.zone == zone)
    if agency is not None:
        query = query.where(rows.c.agency_code == agency)
    return query.order_by(rows.c.rank, rows.c.code)


def row_of(user: User, run: ZoningRun, level: str, code: str) -> Any | None:
    """One row of ``run`` at ``level`` by code, or None when absent or outside the user's scope."""
    rows = level_rows(run, level).subquery()
    query = select(rows).where(rows.c.code == code)
    condition = scope_filter(user, rows.c.region_code)
    if condition is not None:
        query = query.where(condition)
    return db.session.execute(query).first()


def changes_query(
    user: User,
    run: ZoningRun,
    *,
    level: str | None = None,
    zone_moves_only: bool = False,
    region: str | None = None,
) -> Select:
    """``run``'s stored changes (against the run it was compared with) that ``user`` may see:
    units before agencies, by code."""
    query = select(ZoningChange).where(ZoningChange.run_id == run.id)
    condition = scope_filter(user, ZoningChange.region_code)
    if condition is not None:
        query = query.where(condition)
    if region is not None:
        query = query.where(in_region(ZoningChange.region_code, region))
    if level is not None:
        query = query.where(ZoningChange.level == level)
    if zone_moves_only:
        query = query.where(ZoningChange.is_zone_move.is_(True))
    return query.order_by(ZoningChange.level.desc(), ZoningChange.code)


def readable_runs(
    user: User,
    region: str | None,
    *,
    methodology: str | None = None,
    period: int | None = None,
    limit: int = 20,
) -> list[ZoningRun]:
    """The newest succeeded, non-dry runs covering ``region`` that ``user`` may read."""
    query = select(ZoningRun).where(
        ZoningRun.state == "succeeded",
        ZoningRun.is_dry_run.is_(False),
        ZoningRun.scope.in_(readable_scopes(user, region or user.region_code)),
    )
    if methodology is not None:
        query = query.where(ZoningRun.methodology_id == methodology)
    if period is not None:
        query = query.where(ZoningRun.period == period)
    return list(db.session.execute(query.order_by(ZoningRun.id.desc()).limit(limit)).scalars())


def unpublished_successor(user: User, published: ZoningRun) -> ZoningRun | None:
    """The newest succeeded run newer than ``published`` (same methodology and period, a scope
    the user may read covering the published one's), or None: what changed since publication is
    that run's stored changes."""
    newest = latest_succeeded_run(
        published.methodology_id,
        published.period,
        readable_scopes(user, published.scope or user.region_code),
    )
    if newest is None or newest.id <= published.id:
        return None
    return newest
