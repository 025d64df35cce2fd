"""HTTP endpoints: publish a zoning run; set and withdraw a unit's override."""

from __future__ import annotations

from flask import Blueprint

from fieldcheck.auth.services import current_user, require_role
from fieldcheck.http import json_body, load
from fieldcheck.publication.services import publish, set_override, withdraw_override
from fieldcheck.units.models import Unit
from fieldcheck.units.routes import get_visible_unit
from fieldcheck.zoning.routes import get_visible_run
from schemas.publication import OverrideCreateSchema, OverrideSchema, OverrideWithdrawSchema
from schemas.zoning import ZoningRunSchema

bp = Blueprint("publication", __name__)

SUPERVISORS = ("supervisor", "admin")


@bp.post("/zoning-runs/<int:run_id>/publish")
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


@bp.post("/units/<code>/override")
@require_role(*SUPERVISORS)
def create_override(code: str):
    """Set a unit's final zone with a reason (201); 409 while another override is in force."""
    data = load(OverrideCreateSchema(), json_body())
    unit = get_visible_unit(code)
    row = set_override(unit, data["zone"], data["reason"].strip(), current_user())
    return _dump(row, unit), 201


@bp.post("/units/<code>/override/withdraw")
@require_role(*SUPERVISORS)
def withdraw_unit_override(code: str):
    """Withdraw a unit's override in force, with a reason (200); 409 when there is none."""
    data = load(OverrideWithdrawSchema(), json_body())
    unit = get_visible_unit(code)
    row = withdraw_override(unit, data["reason"].strip(), current_user())
    return _dump(row, unit)
