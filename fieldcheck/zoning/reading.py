"""Which run a results question reads, and the rows it answers with (for the API, pages and
exports alike): the run chosen by id, ``latest`` or publication, its header, the ranked rows.

Who may read a run is ``zoning.visibility``; this module builds on it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import current_user, in_scope, scope_filter
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core.rollup import within
from fieldcheck.errors import ApiError
from fieldcheck.i18n import N_, _, state
from fieldcheck.regions.services import in_region
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.results import level_rows
from fieldcheck.zoning.services import (
    covering_scopes,
    default_methodology_id,
    latest_official_run,
    latest_succeeded_run,
)
from fieldcheck.zoning.visibility import get_visible_run


def resolve_run(args: dict[str, Any], region: str | None = None) -> ZoningRun | None:
    """The run a results query reads: explicit id, ``latest`` succeeded, or the published one.

    Default: the published run of the methodology (newest period, or ``period``) covering
    ``region`` (else the query's ``region``, else the caller's): the national one or a regional
    office's, whichever was published last (services.latest_official_run); falling back to the
    latest succeeded run covering it when none is published yet. Only runs the caller may read
    are considered.
    """
    ref = args.get("run")
    if isinstance(ref, int):
        run = get_visible_run(ref)
        if run.state != "succeeded":
            raise ApiError(
                "conflict",
                _(
                    "Run #%(run_id)s is %(state)s: only a succeeded run has results.",
                    run_id=run.id,
                    state=state(run.state),
                ),
                {"run_id": run.id, "state": run.state},
            )
        return run
    methodology_id = args.get("methodology") or default_methodology_id()
    if get_registry().methodology(methodology_id) is None:
        raise ApiError(
            "validation_failed",
            N_("Unknown methodology."),
            {"fields": {"methodology": [N_("Unknown methodology.")]}},
        )
    period = args.get("period")
    user = current_user()
    region = region or args.get("region") or user.region_code
    scopes = [
        s
        for s in covering_scopes(region)
        if in_scope(user, s or None) or within(user.region_code, s)
    ]
    if ref is None:
        run = latest_official_run(methodology_id, period, scopes)
        if run is not None:
            return run
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
    run: ZoningRun,
    level: str,
    user: User,
    *,
    region: str | None = None,
    zone: str | None = None,
) -> Select:
    """``run``'s rows at ``level`` that ``user`` may see (their region), optionally inside
    ``region`` and of one ``zone``, ranked (rank, then code): ``GET /results`` and the exports.

    Resolved through zoning.results: a run may share unit rows with its anchor run.
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
    return query.order_by(rows.c.rank, rows.c.code)
