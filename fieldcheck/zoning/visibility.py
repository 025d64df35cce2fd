"""Who may read a zoning run and its changes: the one rule the API and the pages share."""

from __future__ import annotations

from sqlalchemy import Select, select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import current_user, in_scope, scope_filter
from fieldcheck.core.rollup import within
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import N_
from fieldcheck.zoning.models import ZoningChange, ZoningRun
from fieldcheck.zoning.services import covering_scopes


def run_visible(user: User, run: ZoningRun) -> bool:
    """True when ``user`` may read ``run`` (its rows are still filtered to their scope)."""
    # A run is readable by everyone whose region overlaps it, its rows filtered to their scope:
    # a national run by all; a province's run by that province's and its regencies' users (a
    # Sidoarjo office reads Jawa Timur's published run for Sidoarjo, as the national one).
    return in_scope(user, run.scope or None) or within(user.region_code, run.scope)


def get_visible_run(run_id: int) -> ZoningRun:
    """The run if the current user may see it, else 404."""
    run = db.session.get(ZoningRun, run_id)
    if run is None or not run_visible(current_user(), run):
        raise ApiError("not_found", N_("No such zoning run."))
    return run


def visible_runs_query(user: User, state: str | None = None) -> Select:
    """SELECT of the runs ``user`` may see (optionally in one ``state``), newest first."""
    query = select(ZoningRun).order_by(ZoningRun.id.desc())
    condition = scope_filter(user, ZoningRun.scope)
    if condition is not None:
        # National runs, runs inside the user's region, and runs of regions enclosing it.
        enclosing = covering_scopes(user.region_code)
        query = query.where(condition | ZoningRun.scope.in_(enclosing))
    if state is not None:
        query = query.where(ZoningRun.state == state)
    return query


def run_changes_query(
    run: ZoningRun, user: User, level: str | None = None, zone_moves_only: bool = False
) -> Select:
    """SELECT of ``run``'s stored changes inside ``user``'s scope: agencies first, then units,
    codes ascending (optionally one level, or only the rows that move a zone)."""
    query = select(ZoningChange).where(ZoningChange.run_id == run.id)
    condition = scope_filter(user, ZoningChange.region_code)
    if condition is not None:
        query = query.where(condition)
    if level is not None:
        query = query.where(ZoningChange.level == level)
    if zone_moves_only:
        query = query.where(ZoningChange.is_zone_move.is_(True))
    return query.order_by(ZoningChange.level.desc(), ZoningChange.code)
