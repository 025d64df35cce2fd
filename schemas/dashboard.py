"""Wire format of the dashboard and the map."""

from __future__ import annotations

from marshmallow import Schema, fields

from schemas.catalogue import ZoneSchema
from schemas.zoning import REGION, ResultChoiceArgsSchema, RunHeaderSchema, ZoningRunSchema


class DashboardArgsSchema(ResultChoiceArgsSchema):
    """Query of ``GET /api/v1/dashboard``: which region (default: the caller's) and which
    results (default: the published run covering it, as ``GET /results``)."""

    region = fields.String(validate=REGION)


#: Query of ``GET /api/v1/map/provinces``: which results, as ``GET /results``.
MapArgsSchema = ResultChoiceArgsSchema


class DashboardSchema(Schema):
    """Answer of ``GET /api/v1/dashboard``."""

    region = fields.Dict(allow_none=True)
    generated_at = fields.String()
    #: Inspections awaiting review: how many, and since when.
    review_queue = fields.Dict()
    #: Inspections by status and recent counts.
    inspections = fields.Dict()
    #: The run read (as ``GET /results``), zones at every level, lowest regencies, coverage.
    results = fields.Dict()
    latest_run = fields.Nested(ZoningRunSchema, allow_none=True)


class ProvinceFeatureSchema(Schema):
    """A province outline (GeoJSON Feature) with its score and zone in the run read."""

    type = fields.String()
    properties = fields.Dict()
    geometry = fields.Dict()


class ProvinceMapSchema(Schema):
    """Answer of ``GET /api/v1/map/provinces``: a GeoJSON FeatureCollection."""

    type = fields.String()
    run = fields.Nested(RunHeaderSchema)
    #: The legend: the zones of the run's methodology, worst first, with their colours.
    zones = fields.List(fields.Nested(ZoneSchema))
    features = fields.List(fields.Nested(ProvinceFeatureSchema))
