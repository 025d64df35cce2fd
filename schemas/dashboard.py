"""Wire format of the dashboard and the map."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.common import StrictSchema
from schemas.zoning import METHODOLOGY, REGION, RunRefField


class DashboardArgsSchema(StrictSchema):
    """Query of ``GET /api/v1/dashboard``: which region (default: the caller's) and which
    results (default: the published run covering it, as ``GET /results``)."""

    region = fields.String(validate=REGION)
    run = RunRefField()
    methodology = fields.String(validate=METHODOLOGY)
    period = fields.Integer(validate=validate.Range(2000, 2100))


class MapArgsSchema(StrictSchema):
    """Query of ``GET /api/v1/map/provinces``: which results (as ``GET /results``)."""

    run = RunRefField()
    methodology = fields.String(validate=METHODOLOGY)
    period = fields.Integer(validate=validate.Range(2000, 2100))
