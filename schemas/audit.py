"""Wire format of the audit log."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from fieldcheck.i18n import N_
from schemas.common import DisplayDateTime, PageArgsSchema, Timestamp, id_field


class AuditListArgsSchema(PageArgsSchema):
    """Filters of ``GET /api/v1/audit``."""

    #: ``<type>:<id>``, e.g. ``inspection:12``.
    object = fields.String(validate=validate.Length(min=3, max=100))
    actor = id_field()
    action = fields.String(validate=validate.Length(min=1, max=64))
    since = Timestamp()
    until = Timestamp()

    @validates("object")
    def _type_and_id(self, value: str, **kwargs: Any) -> None:
        kind, sep, ident = value.partition(":")
        if not sep or not kind or not ident:
            raise ValidationError(N_("Must be <type>:<id>, e.g. inspection:12."))


class AuditEntrySchema(Schema):
    """One audit row: UTC time and the same instant in WIB, actor, object, before/after, hashes."""

    id = fields.Integer()
    at = fields.Method("_utc")
    at_wib = DisplayDateTime(attribute="created_at")
    actor = fields.Method("_actor")
    action = fields.String()
    object = fields.Method("_object")
    region_code = fields.String(allow_none=True)
    before = fields.Raw()
    after = fields.Raw()
    prev_hash = fields.String()
    hash = fields.String()

    def _utc(self, entry: Any) -> str:
        return entry.created_at.isoformat().replace("+00:00", "Z")

    def _actor(self, entry: Any) -> dict[str, Any]:
        return {"id": entry.actor_id, "name": entry.actor_name}

    def _object(self, entry: Any) -> dict[str, Any]:
        return {"type": entry.object_type, "id": entry.object_id}
