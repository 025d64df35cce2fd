"""Wire format of publication and overrides (issue 4)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from fieldcheck.catalogue.registry import get_registry
from fieldcheck.catalogue.zones import zone_codes
from fieldcheck.i18n import N_
from schemas.common import DisplayDateTime, StrictSchema

REASON = validate.Length(min=1, max=4000)
#: The zone catalogue's codes, worst first (the OpenAPI enum of an override's zone).
ZONES = zone_codes()


class ZoneInUse(validate.OneOf):
    """One of the zones some loaded methodology uses, read when validating (a catalogue zone no
    methodology names, e.g. hitam with only the 2019 method, is refused with the rest of the
    body's problems); the OpenAPI enum lists the whole catalogue."""

    def __init__(self) -> None:
        super().__init__(ZONES)

    def __call__(self, value: str) -> str:
        allowed = get_registry().zones_in_use()
        if value not in allowed:
            raise ValidationError(
                self.error.format(input=value, choices=", ".join(allowed), labels="")
            )
        return value


#: The assessment period (a year) an override applies to; omitted: the current one (WIB).
PERIOD = validate.Range(2000, 2100)


def _nonblank(value: str) -> None:
    if not value.strip():
        raise validate.ValidationError(N_("A reason is required."))


class OverrideCreateSchema(StrictSchema):
    """Body of ``POST /api/v1/units/{code}/override``."""

    zone = fields.String(required=True, validate=ZoneInUse())
    reason = fields.String(required=True, validate=[REASON, _nonblank])
    period = fields.Integer(strict=True, load_default=None, validate=PERIOD)


class OverrideWithdrawSchema(StrictSchema):
    """Body of ``POST /api/v1/units/{code}/override/withdraw``."""

    reason = fields.String(required=True, validate=[REASON, _nonblank])
    period = fields.Integer(strict=True, load_default=None, validate=PERIOD)


class OverrideListArgsSchema(StrictSchema):
    """Query of ``GET /api/v1/units/{code}/overrides``."""

    period = fields.Integer(validate=PERIOD)


def _user(user_id: int | None, name: str | None = None) -> dict | None:
    return None if user_id is None else {"id": user_id, "name": name}


class OverrideBriefSchema(Schema):
    """An override as shown beside a computed result: ``{period, zone, reason, by, at}``."""

    period = fields.Integer()
    zone = fields.String()
    reason = fields.String()
    by = fields.Function(lambda o: _user(o.created_by, o.creator.name))
    at = DisplayDateTime(attribute="created_at")


class OverrideSchema(OverrideBriefSchema):
    """An override with its unit and, once withdrawn, who withdrew it and why."""

    id = fields.Integer()
    is_active = fields.Function(lambda o: o.withdrawn_at is None)
    withdrawn_at = DisplayDateTime(allow_none=True)
    withdrawn_by = fields.Function(
        lambda o: _user(o.withdrawn_by, o.withdrawer.name if o.withdrawer else None)
    )
    withdraw_reason = fields.String(allow_none=True)


class UnitOverrideSchema(OverrideSchema):
    """An override as the override endpoints answer it, with its unit's code."""

    unit = fields.String()
