"""Wire format of methodology versions (issue 16: upload, publish, list)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from schemas.catalogue import MethodologySchema
from schemas.common import DisplayDateTime, StrictSchema


def _shown(row: Any, name: str) -> str | None:
    """A row's timestamp as every time is shown (WIB); None for a shipped file."""
    return None if row is None else DisplayDateTime()._serialize(getattr(row, name), name, row)


class MethodologyVersionSchema(Schema):
    """One version: status, effective dates, content hash, and who uploaded and published it
    (``source`` shipped: a file of the release, which names no one)."""

    id = fields.Function(lambda v: v.methodology.id)
    version = fields.Function(lambda v: v.methodology.version)
    title = fields.Function(lambda v: v.methodology.title)
    status = fields.String()
    effective_from = fields.Date()
    effective_to = fields.Function(
        lambda v: None if v.methodology.effective_to is None else str(v.methodology.effective_to)
    )
    content_hash = fields.Function(lambda v: v.methodology.content_hash)
    source = fields.String()
    format = fields.Function(lambda v: "toml" if v.row is None else v.row.format)
    uploaded_by = fields.Function(lambda v: None if v.row is None else v.row.uploaded_by)
    uploaded_at = fields.Function(lambda v: _shown(v.row, "uploaded_at"))
    published_by = fields.Function(lambda v: None if v.row is None else v.row.published_by)
    published_at = fields.Function(lambda v: _shown(v.row, "published_at"))


class MethodologyVersionDetailSchema(MethodologyVersionSchema):
    """One version with its whole content (dimensions, indicators, bands, zones)."""

    methodology = fields.Nested(MethodologySchema)


class PublishSchema(StrictSchema):
    """Body of ``POST /api/v1/methodologies/{id}/versions/{version}/publish``."""

    effective_from = fields.Date(required=True)


class MethodologyArgsSchema(StrictSchema):
    """Query of ``GET /api/v1/methodologies/{id}``: the version in force ``on`` a date, or one
    ``version``; neither: the version in force today."""

    on = fields.Date()
    version = fields.Integer(strict=False)
