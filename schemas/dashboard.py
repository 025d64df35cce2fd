"""Wire format of the dashboard and the map."""

from __future__ import annotations

from marshmallow import fields

from schemas.zoning import REGION, ResultChoiceArgsSchema


class DashboardArgsSchema(ResultChoiceArgsSchema):
    """Query of ``GET /api/v1/dashboard``: which region (default: the caller's) and which
    results (default: the published run covering it, as ``GET /results``)."""

    region = fields.String(validate=REGION)


#: Query of ``GET /api/v1/map/provinces``: which results, as ``GET /results``.
MapArgsSchema = ResultChoiceArgsSchema
