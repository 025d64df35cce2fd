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
    """One audit row: UTC time and the same instant in WIB, actor, object, before/after, and its
    link in the chain (``seq``, ``prev_hash``, ``hash``: null until sealed, seconds after)."""

    id = fields.Integer()
    at = fields.Method("_utc")
    at_wib = DisplayDateTime(attribute="created_at")
    actor = fields.Method("_actor")
    action = fields.String()
    object = fields.Method("_object")
    region_code = fields.String(allow_none=True)
    before = fields.Raw()
    after = fields.Raw()
    seq = fields.Function(lambda entry: entry.seal.seq if entry.seal else None)
    prev_hash = fields.Function(lambda entry: entry.seal.prev_hash if entry.seal else None)
    hash = fields.Function(lambda entry: entry.seal.hash if entry.seal else None)

    def _utc(self, entry: Any) -> str:
        return entry.created_at.isoformat().replace("+00:00", "Z")

    def _actor(self, entry: Any) -> dict[str, Any]:
        return {"id": entry.actor_id, "name": entry.actor_name}

    def _object(self, entry: Any) -> dict[str, Any]:
        return {"type": entry.object_type, "id": entry.object_id}


class ChainPointSchema(Schema):
    """A checkpoint as the chain report names it: its time and the link it anchors."""

    at = fields.Method("_utc")
    seq = fields.Integer()

    def _utc(self, checkpoint: Any) -> str:
        return checkpoint.at.isoformat().replace("+00:00", "Z")


class ChainProblemSchema(Schema):
    """One thing the audit log should hold and does not (or a limit of what is vouched for)."""

    code = fields.String()
    message = fields.Function(lambda problem: problem.text())
    seq = fields.Integer(allow_none=True)
    entry_id = fields.Integer(allow_none=True)


class AuditChainSchema(Schema):
    """``GET /api/v1/audit/chain``: what ``audit verify`` found."""

    ok = fields.Boolean()
    #: Links checked, of which the first ``legacy`` are the unkeyed chain from before 0011.
    links = fields.Integer()
    legacy = fields.Integer()
    keyed_from = fields.Integer(allow_none=True)
    key_ids = fields.List(fields.String())
    unsealed = fields.Integer()
    checkpoints = fields.Integer()
    anchored_since = fields.Nested(ChainPointSchema, attribute="first_checkpoint", allow_none=True)
    vouched_to = fields.Nested(ChainPointSchema, attribute="vouched", allow_none=True)
    problems = fields.List(fields.Nested(ChainProblemSchema))
    notes = fields.List(fields.Nested(ChainProblemSchema))
