"""Wire format of methodologies and the legal service catalogue (what phones fetch)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from fieldcheck.i18n import _
from schemas.common import StrictSchema


def _num(value: Any) -> Any:
    """Decimals as JSON numbers (ints when whole)."""
    if value is None:
        return None
    return int(value) if value == int(value) else float(value)


class BandSchema(Schema):
    """A score band."""

    min = fields.Function(lambda b: _num(b.min))
    max = fields.Function(lambda b: _num(b.max))
    grade = fields.String()
    label = fields.String()
    zone = fields.String()


class ZoneSchema(Schema):
    """A zone of the zone catalogue: its code, name in the request's language and colours."""

    code = fields.String(metadata={"example": "hitam"})
    name = fields.Function(lambda z: _(z.name), metadata={"example": "hitam"})
    colour = fields.String(metadata={"example": "#1f1f1f"})
    text_colour = fields.String(metadata={"example": "#ffffff"})
    confidence = fields.String(metadata={"example": "unverified"})
    source = fields.String()


class DimensionSchema(Schema):
    """A dimension."""

    code = fields.String()
    name = fields.String()
    weight = fields.Function(lambda d: _num(d.weight))


class IndicatorSchema(Schema):
    """An indicator as a phone renders it."""

    code = fields.String()
    dimension = fields.String()
    question = fields.String()
    answer = fields.Function(
        lambda i: {"scale": [i.answer[1], i.answer[2]]} if i.is_scale else i.answer
    )
    weight = fields.Function(lambda i: _num(i.weight))
    scope = fields.String()
    component = fields.String(allow_none=True)
    legal_basis = fields.List(fields.String())
    photo_required = fields.Boolean()
    obligation = fields.String(allow_none=True)
    help = fields.String(allow_none=True)


class MethodologySummarySchema(Schema):
    """A methodology in the list."""

    id = fields.String()
    version = fields.Integer()
    title = fields.String()
    status = fields.String()
    effective_from = fields.Date()
    effective_to = fields.Date(allow_none=True)
    content_hash = fields.String()


class MethodologySchema(MethodologySummarySchema):
    """The whole checklist and scoring rules."""

    description = fields.String()
    aggregation = fields.String()
    answer_values = fields.Function(lambda m: {k: _num(v) for k, v in m.answer_values.items()})
    rounding = fields.Function(lambda m: {"places": m.rounding_places, "mode": "half_up"})
    roll_up = fields.Function(lambda m: dict(m.roll_up))
    dimensions = fields.List(fields.Nested(DimensionSchema))
    indicators = fields.List(fields.Nested(IndicatorSchema))
    bands = fields.List(fields.Nested(BandSchema))
    #: The zones its bands name, worst first (issue 16: not always three).
    zones = fields.Function(lambda m: list(m.zones))


class LegalValueSchema(Schema):
    """A legal value with its citation and validity."""

    kind = fields.String()
    value = fields.Function(lambda v: list(v.value) if isinstance(v.value, tuple) else v.value)
    citation = fields.String()
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True)
    confidence = fields.String()
    note = fields.String()
    sanction = fields.String(allow_none=True)


class ServiceSchema(Schema):
    """A service of the legal catalogue."""

    code = fields.String()
    name = fields.String()
    sector = fields.String()
    legal_values = fields.List(fields.Nested(LegalValueSchema))


class NoArgsSchema(StrictSchema):
    """An endpoint that takes no query arguments."""


class CatalogueVersionSchema(Schema):
    """Beside the page of ``GET /api/v1/services``: the legal catalogue's version."""

    version = fields.String()
