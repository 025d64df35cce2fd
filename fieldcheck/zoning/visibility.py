"""Who may read a zoning run and its changes: the one rule the API and the pages share."""

from __future__ import annotations

from sqlalchemy import Select, select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import current_user, in_scope, scope_filter
from fieldcheck.core.rollup import within
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import N_
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.services import covering_scopes


def scope_readable(user: User, scope: str) -> bool:
    """True when ``user`` may read a run of ``scope`` ("" = national).

    A run is readable by everyone whose region overlaps it, its rows filtered to their scope:
    a national run by all; a province's run by that province's and its regencies' users (a
    Sidoarjo office reads Jawa Timur's published run for Sidoarjo, as the national one).
    """
    return in_scope(user, scope or None) or within(user.region_code, scope)


def run_visible(user: User, run: ZoningRun) -> bool:
    """True when ``user`` may read ``run`` (its rows are still filtered to their scope)."""
    return scope_readable(user, run.scope)


def visible_run(user: User, run_id: int) -> ZoningRun:
    """The run if ``user`` may see it, else 404."""
    run = db.session.get(ZoningRun, run_id)
    if run is None or not run_visible(user, run):
        raise ApiError("not_found", N_("No such zoning run."))
    return run


def get_visible_run(run_id: int) -> ZoningRun:
    """The run if the current user (the request's ``g.user``) may see it, else 404."""
    return visible_run(current_user(), run_id)


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
