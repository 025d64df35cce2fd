"""Which zoning run a reader reads, and whether they may: shared by the results API, the unit
result (API and page) and the unit and agency reports.

Moved here from ``zoning.routes`` (issue 13) so pages and reports call the same rules as the API.
"""

from __future__ import annotations

from typing import Any

from fieldcheck.auth.models import User
from fieldcheck.auth.services import current_user, in_scope
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core.rollup import within
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, _, state
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.services import (
    covering_scopes,
    default_methodology_id,
    latest_official_run,
    latest_succeeded_run,
)


def _run_visible(user: User, run: ZoningRun) -> bool:
    # A run is readable by everyone whose region overlaps it, its rows filtered to their scope:
    # a national run by all; a province's run by that province's and its regencies' users (a
    # Sidoarjo office reads Jawa Timur's published run for Sidoarjo, as the national one).
    return in_scope(user, run.scope or None) or within(user.region_code, run.scope)


def get_visible_run(run_id: int) -> ZoningRun:
    """The run if the current user may see it, else 404."""
    run = db.session.get(ZoningRun, run_id)
    if run is None or not _run_visible(current_user(), run):
        raise ApiError("not_found", N_("No such zoning run."))
    return run


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
