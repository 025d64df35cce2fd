"""Wire format of the exports' query arguments (the files themselves are CSV or XLSX)."""

from __future__ import annotations

from marshmallow import fields, validate

from fieldcheck.core.integrity import ALL_CODES as ALL_FLAG_CODES
from schemas.common import StrictSchema, Timestamp, id_field
from schemas.inspections import CODE
from schemas.zoning import LEVELS, REGION, ZONES, ResultChoiceArgsSchema

FORMATS = ("csv", "xlsx")
STATUSES = ("received", "approved", "rejected", "returned")


class ResultExportArgsSchema(ResultChoiceArgsSchema):
    """Query of ``GET /api/v1/exports/results``: the filters of ``GET /results``, no pages."""

    format = fields.String(load_default="csv", validate=validate.OneOf(FORMATS))
    level = fields.String(load_default="unit", validate=validate.OneOf(LEVELS))
    region = fields.String(validate=REGION)
    zone = fields.String(validate=validate.OneOf(ZONES))


class IncompleteExportArgsSchema(ResultChoiceArgsSchema):
    """Query of ``GET /api/v1/exports/incomplete``: the run choice of ``GET /results`` and a
    region inside the caller's."""

    format = fields.String(load_default="csv", validate=validate.OneOf(FORMATS))
    region = fields.String(validate=REGION)


class InspectionExportArgsSchema(StrictSchema):
    """Query of ``GET /api/v1/exports/inspections``: the filters of ``GET /inspections``, a
    region inside the caller's, and a range of visit dates (the unit's calendar)."""

    format = fields.String(load_default="csv", validate=validate.OneOf(FORMATS))
    unit = fields.String(validate=CODE)
    status = fields.String(validate=validate.OneOf(STATUSES))
    since = Timestamp()
    surveyor = id_field()
    #: An integrity flag code (fieldcheck.core.integrity.ALL_CODES), e.g. gps_far.
    flag = fields.String(validate=validate.OneOf(sorted(ALL_FLAG_CODES)))
    region = fields.String(validate=REGION)
    visited_from = fields.Date()
    visited_to = fields.Date()


class FindingExportArgsSchema(InspectionExportArgsSchema):
    """Query of ``GET /api/v1/exports/findings``: the inspection filters, and ``withdrawn``
    (true: only findings withdrawn after an upheld objection; false: only those in force)."""

    withdrawn = fields.Boolean()
