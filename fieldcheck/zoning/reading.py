"""Reading results: which run a query reads, who may read a run, a run's rows for a reader.

Moved out of ``zoning.routes`` (issue 13) so the API, the pages and the exports call one
definition: the blueprint's ``get_visible_run``/``resolve_run`` wrap these with the request's
user and arguments. The signatures match the overview's (h1) ``zoning.reading``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import in_scope, scope_filter
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core.rollup import within
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
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


def run_visible(user: User, run: ZoningRun) -> bool:
    """True when ``user`` may read ``run``."""
    # A run is readable by everyone whose region overlaps it, its rows filtered to their scope:
    # a national run by all; a province's run by that province's and its regencies' users (a
    # Sidoarjo office reads Jawa Timur's published run for Sidoarjo, as the national one).
    return in_scope(user, run.scope or None) or within(user.region_code, run.scope)


def visible_run(user: User, run_id: int) -> ZoningRun:
    """The run if ``user`` may see it, else 404."""
    run = db.session.get(ZoningRun, run_id)
    if run is None or not run_visible(user, run):
        raise ApiError("not_found", N_("No such zoning run."))
    return run


def readable_scopes(user: User, region: str | None) -> list[str]:
    """Run scopes covering ``region`` that ``user`` may read (national first)."""
    return [
        s
        for s in covering_scopes(region)
        if in_scope(user, s or None) or within(user.region_code, s)
    ]


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
    covering it when none is published yet. Only runs the user may read are considered.
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
) -> Select:
    """``run``'s rows at ``level`` that ``user`` may see, ranked (rank, then code), narrowed to
    ``region`` (and its descendants) and a ``zone``: ``GET /results`` and the exports.

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
