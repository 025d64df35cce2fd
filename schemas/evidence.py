"""Wire format of evidence: waivers of missing photos."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.common import StrictSchema


class WaiverSchema(StrictSchema):
    """Body of ``POST /api/v1/inspections/{id}/evidence-waivers``."""

    indicator = fields.String(required=True, validate=validate.Length(min=1, max=32))
    reason = fields.String(required=True, validate=validate.Length(min=5, max=2000))
