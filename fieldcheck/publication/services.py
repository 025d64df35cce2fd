"""Publishing zoning runs and overriding a unit's final zone; every change is audited.

Functions here only ``flush()``; the request boundary commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldcheck.audit.services import record
from fieldcheck.auth.models import User
from fieldcheck.auth.services import in_scope
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import utcnow
from fieldcheck.errors import ApiError, field_errors
from fieldcheck.extensions import db, lock
from fieldcheck.i18n import N_, _
from fieldcheck.outbox.events import queue
from fieldcheck.units.models import Unit
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.overrides import UnitOverride
from fieldcheck.zoning.services import current_period, official_run, publish_run

# --- publication ------------------------------------------------------------------------------


def may_publish(user: User, run: ZoningRun) -> bool:
    """True when ``run``'s scope lies within ``user``'s region (a national run: national users)."""
    return in_scope(user, run.scope or None)


def publish(run: ZoningRun, user: User | None) -> bool:
    """Make ``run`` official (already checked visible); audited. False: it already was (no-op).

    ``user`` None is the system: an admin at the command line (``rescore --publish``), audited
    as such. 403 when the run's scope is wider than the user's region; 409 for a dry or
    unsucceeded run.
    """
    if user is not None and not may_publish(user, run):
        raise ApiError("out_of_scope", N_("This run covers more than your region."))
    lock(run)  # of two publishes of one run, the second sees the first's and does nothing
    if run.is_official:
        return False
    previous = official_run(run.methodology_id, run.period, run.scope)
    publish_run(run, user)
    record(
        "zoning_run.publish",
        "zoning_run",
        run.id,
        before={"official_run_id": None if previous is None else previous.id},
        after={
            "official_run_id": run.id,
            "methodology": run.methodology_id,
            "period": run.period,
            "scope": run.scope,
            "published_at": run.published_at,
        },
        actor=user,
        region=run.scope or None,
    )
    return True


# --- overrides --------------------------------------------------------------------------------


def override_period(period: int | None) -> int:
    """The period an override decision is for: ``period``, or the current one; a year that has
    not begun cannot be judged (422)."""
    now = current_period()
    period = now if period is None else period
    if period > now:
        raise field_errors(
            {
                "period": [
                    _("The %(period)s period has not begun (now: %(now)s).", period=period, now=now)
                ]
            }
        )
    return period


def active_override(unit_id: int, period: int) -> UnitOverride | None:
    """The unit's override in force for ``period``, if any."""
    return db.session.execute(
        select(UnitOverride).where(
            UnitOverride.unit_id == unit_id,
            UnitOverride.period == period,
            UnitOverride.withdrawn_at.is_(None),
        )
    ).scalar_one_or_none()


def _state(row: UnitOverride) -> dict[str, Any]:
    return {
        "override_id": row.id,
        "period": row.period,
        "zone": row.zone,
        "reason": row.reason,
        "created_by": row.created_by,
        "withdrawn_at": row.withdrawn_at,
        "withdrawn_by": row.withdrawn_by,
        "withdraw_reason": row.withdraw_reason,
    }


def _already_active(existing: UnitOverride) -> ApiError:
    return ApiError(
        "conflict",
        _(
            "This unit already has an override in force for %(period)s; withdraw it first.",
            period=existing.period,
        ),
        {"override_id": existing.id, "zone": existing.zone, "period": existing.period},
    )


def override_zones() -> tuple[str, ...]:
    """The zones an override may set, worst first: those some loaded methodology uses."""
    return get_registry().zones_in_use()


def check_override_zone(zone: str) -> None:
    """422 naming the allowed zones unless ``zone`` is one of ``override_zones()``."""
    allowed = override_zones()
    if zone not in allowed:
        raise field_errors(
            {"zone": [_("Must be one of: %(choices)s.", choices=", ".join(allowed))]},
        )


def set_override(unit: Unit, period: int, zone: str, reason: str, user: User) -> UnitOverride:
    """Set ``unit``'s final zone for ``period`` by hand (unit already checked in scope); audited.

    409 while another override is in force for that period: replacing one is two decisions,
    each with its reason. Other periods' results are not affected. 422 for a zone no loaded
    methodology's bands name: an override puts the unit in a zone of the scale results use.
    """
    check_override_zone(zone)
    existing = active_override(unit.id, period)
    if existing is not None:
        raise _already_active(existing)
    row = UnitOverride(
        unit_id=unit.id,
        period=period,
        zone=zone,
        reason=reason,
        created_by=user.id,
        created_at=utcnow(),
    )
    try:
        # A savepoint: a concurrent override that won the race trips the partial unique index
        # here, and the request can still answer 409 instead of 500.
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        winner = active_override(unit.id, period)
        if winner is None:
            raise
        raise _already_active(winner) from None
    record(
        "unit.override",
        "unit",
        unit.code,
        before=None,
        after=_state(row),
        actor=user,
        region=unit.region_code,
    )
    queue("unit_override.set", _event(unit, row), region=unit.region_code)
    return row


def withdraw_override(unit: Unit, period: int, reason: str, user: User) -> UnitOverride:
    """Withdraw ``unit``'s override in force for ``period`` (409 when there is none); audited."""
    row = active_override(unit.id, period)
    if row is not None:
        lock(row)  # of two withdrawals at once, the second finds it withdrawn
    if row is None or row.withdrawn_at is not None:
        raise ApiError(
            "conflict",
            _("This unit has no override in force for %(period)s.", period=period),
            {"period": period},
        )
    before = _state(row)
    row.withdrawn_at = utcnow()
    row.withdrawer = user  # sets withdrawn_by at flush, and the name shown now
    row.withdraw_reason = reason
    db.session.flush()
    record(
        "unit.override_withdraw",
        "unit",
        unit.code,
        before=before,
        after=_state(row),
        actor=user,
        region=unit.region_code,
    )
    queue("unit_override.withdrawn", _event(unit, row), region=unit.region_code)
    return row


def _event(unit: Unit, row: UnitOverride) -> dict[str, Any]:
    """An override event's payload: codes and states, not the reason (free text)."""
    return {
        "override_id": row.id,
        "unit_code": unit.code,
        "period": row.period,
        "zone": row.zone,
        "withdrawn": row.withdrawn_at is not None,
    }


def unit_overrides(unit: Unit, period: int | None = None) -> list[UnitOverride]:
    """A unit's overrides, active and withdrawn, newest first (optionally of one period)."""
    query = select(UnitOverride).where(UnitOverride.unit_id == unit.id)
    if period is not None:
        query = query.where(UnitOverride.period == period)
    return list(db.session.execute(query.order_by(UnitOverride.id.desc())).scalars())
