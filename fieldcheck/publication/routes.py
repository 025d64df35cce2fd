"""HTTP endpoints: publish a zoning run; set and withdraw a unit's override."""

from __future__ import annotations

from flask import Blueprint

from fieldcheck.auth.services import current_user, require_role
from fieldcheck.errors import field_errors
from fieldcheck.http import json_body, load, load_args
from fieldcheck.i18n import _
from fieldcheck.openapi.doc import ItemsOf, api_doc
from fieldcheck.publication.services import (
    publish,
    set_override,
    unit_overrides,
    withdraw_override,
)
from fieldcheck.units.models import Unit
from fieldcheck.units.visibility import get_visible_unit
from fieldcheck.zoning.routes import get_visible_run
from fieldcheck.zoning.services import current_period
from schemas.publication import (
    OverrideCreateSchema,
    OverrideListArgsSchema,
    OverrideSchema,
    OverrideWithdrawSchema,
    UnitOverrideSchema,
)
from schemas.zoning import PublishedRunSchema, ZoningRunSchema

bp = Blueprint("publication", __name__)

SUPERVISORS = ("supervisor", "admin")


@bp.post("/zoning-runs/<int:run_id>/publish")
@api_doc(responses={200: PublishedRunSchema}, errors=("conflict", "out_of_scope"))
@require_role(*SUPERVISORS)
def publish_zoning_run(run_id: int):
    """Make a succeeded, non-dry run the official result for its methodology, period and scope.

    200 with the run; re-publishing the official run is a no-op 200 (``changed`` false).
    """
    run = get_visible_run(run_id)
    changed = publish(run, current_user())
    body = ZoningRunSchema().dump(run)
    body["changed"] = changed
    return body


def _dump(row, unit: Unit) -> dict:
    body = OverrideSchema().dump(row)
    body["unit"] = unit.code
    return body


def _period(data: dict) -> int:
    """The body's period, or the current one; a year that has not begun cannot be judged."""
    now = current_period()
    period = now if data["period"] is None else data["period"]
    if period > now:
        raise field_errors(
            {
                "period": [
                    _("The %(period)s period has not begun (now: %(now)s).", period=period, now=now)
                ]
            }
        )
    return period


@bp.post("/units/<code>/override")
@api_doc(body=OverrideCreateSchema, responses={201: UnitOverrideSchema}, errors=("conflict",))
@require_role(*SUPERVISORS)
def create_override(code: str):
    """Set a unit's final zone for a period (default: the current year) with a reason (201);
    409 while another override is in force for that period."""
    data = load(OverrideCreateSchema(), json_body())
    period = _period(data)
    unit = get_visible_unit(code)
    row = set_override(unit, period, data["zone"], data["reason"].strip(), current_user())
    return _dump(row, unit), 201


@bp.post("/units/<code>/override/withdraw")
@api_doc(body=OverrideWithdrawSchema, responses={200: UnitOverrideSchema}, errors=("conflict",))
@require_role(*SUPERVISORS)
def withdraw_unit_override(code: str):
    """Withdraw a unit's override in force for a period (default: the current year), with a
    reason (200); 409 when there is none."""
    data = load(OverrideWithdrawSchema(), json_body())
    period = _period(data)
    unit = get_visible_unit(code)
    row = withdraw_override(unit, period, data["reason"].strip(), current_user())
    return _dump(row, unit)


@bp.get("/units/<code>/overrides")
@api_doc(args=OverrideListArgsSchema, responses={200: ItemsOf(UnitOverrideSchema)})
@require_role(*SUPERVISORS)
def list_unit_overrides(code: str):
    """A unit's overrides, in force and withdrawn, newest first (``?period=`` for one year)."""
    args = load_args(OverrideListArgsSchema())
    unit = get_visible_unit(code)
    rows = unit_overrides(unit, args.get("period"))
    return {"items": [_dump(row, unit) for row in rows]}
