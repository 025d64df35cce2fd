"""Wire format of units, agencies and regions."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import PageArgsSchema


class UnitListArgsSchema(PageArgsSchema):
    """Filters of ``GET /api/v1/units``."""

    region = fields.String(validate=validate.Regexp(r"^\d{2}(\.\d{2})?$"))
    q = fields.String(validate=validate.Length(min=1, max=100))
    agency = fields.String(validate=validate.Length(min=1, max=64))
    unit_type = fields.String(validate=validate.Length(min=1, max=40))


class RegionListArgsSchema(PageArgsSchema):
    """Filters of ``GET /api/v1/regions``."""

    level = fields.String(validate=validate.OneOf(("province", "regency")))
    parent = fields.String(validate=validate.Regexp(r"^\d{2}$"))
    q = fields.String(validate=validate.Length(min=1, max=100))


class RegionSchema(Schema):
    """A province or regency/city."""

    code = fields.String()
    name = fields.String()
    level = fields.String()
    parent_code = fields.String(allow_none=True)
    kind = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    timezone = fields.String()


class AgencySchema(Schema):
    """An instansi."""

    code = fields.String()
    name = fields.String()
    kind = fields.String()
    region_code = fields.String()


class UnitSchema(Schema):
    """A unit layanan as phones and supervisors see it."""

    code = fields.String()
    name = fields.String()
    unit_type = fields.String()
    agency = fields.Nested(AgencySchema)
    region = fields.Function(
        lambda u: {"code": u.region.code, "name": u.region.name, "timezone": u.region.timezone}
    )
    location = fields.Function(lambda u: None if u.lat is None else {"lat": u.lat, "lon": u.lon})
    services = fields.Function(lambda u: u.service_codes)
