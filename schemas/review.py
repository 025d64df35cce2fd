"""Wire format of reviews, bulk review, comments and objections."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from fieldcheck.core.integrity import ALL_CODES as ALL_FLAG_CODES
from fieldcheck.i18n import N_
from fieldcheck.review.comments import COMMENT_MAX
from fieldcheck.review.decisions import REASON_MISSING, REASON_REQUIRED
from schemas.common import (
    NOT_BLANK,
    DisplayDateTime,
    PageArgsSchema,
    StrictSchema,
    Timestamp,
    id_field,
)
from schemas.inspections import CODE, SHA256_HEX

REASON = validate.Length(max=4000)


def _require_reason(data: dict[str, Any], needs_reason: bool) -> None:
    if needs_reason and not (data.get("reason") or "").strip():
        raise ValidationError(REASON_MISSING, "reason")


class ReviewDecisionSchema(StrictSchema):
    """Body of ``POST /api/v1/inspections/{id}/review``."""

    decision = fields.String(
        required=True, validate=validate.OneOf(("approve", "reject", "return"))
    )
    reason = fields.String(load_default=None, allow_none=True, validate=REASON)

    @validates_schema
    def _reason(self, data: dict[str, Any], **kwargs: Any) -> None:
        _require_reason(data, data.get("decision") in REASON_REQUIRED)


class BulkFilterSchema(StrictSchema):
    """Which inspections a bulk review applies to (all given criteria must hold)."""

    unit = fields.String(validate=CODE)
    region = fields.String(validate=validate.Length(min=1, max=16))
    surveyor = id_field(strict=True)
    since = Timestamp()
    until = Timestamp()
    status = fields.String(
        validate=validate.OneOf(("received", "approved", "rejected", "returned"))
    )
    flag = fields.String(validate=validate.OneOf(sorted(ALL_FLAG_CODES)))
    #: The criteria the review queue page filters by (review.bulk.matching), so the page's
    #: "decide on all N matching" and the API select the same inspections.
    unit_type = fields.String(validate=validate.Length(min=1, max=40))
    #: True: approval is blocked by missing photo evidence; False: it is not.
    has_blockers = fields.Boolean()
    #: The visit's local date (the unit's zone), both ends inclusive.
    visited_from = fields.Date()
    visited_to = fields.Date()


class BulkReviewSchema(ReviewDecisionSchema):
    """Body of ``POST /api/v1/inspections/bulk-review``."""

    filter = fields.Nested(BulkFilterSchema, load_default=dict)
    ids = fields.List(
        id_field(strict=True),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=10_000),
    )

    @validates_schema
    def _something_chosen(self, data: dict[str, Any], **kwargs: Any) -> None:
        # An empty filter would decide on everything in scope: almost always a mistake.
        if not data.get("filter") and not data.get("ids"):
            raise ValidationError(
                N_("Give at least one filter criterion or a list of ids."), "filter"
            )


class ItemResultSchema(Schema):
    """One inspection's outcome in a bulk review."""

    id = fields.Integer()
    ok = fields.Boolean()
    status = fields.String(allow_none=True)
    error = fields.Method("_error")

    def _error(self, item: Any) -> Any:
        if item.ok:
            return None
        error = {"code": item.error, "message": item.message}
        if item.blockers:
            error["blockers"] = item.blockers
        return error


class ReviewSchema(Schema):
    """One entry of an inspection's review history."""

    id = fields.Integer()
    reviewer_id = fields.Integer()
    decision = fields.String()
    from_status = fields.String()
    to_status = fields.String()
    reason = fields.String(allow_none=True)
    created_at = DisplayDateTime()


class CommentCreateSchema(StrictSchema):
    """Body of ``POST /api/v1/inspections/{id}/comments``."""

    body = fields.String(
        required=True, validate=[validate.Length(min=1, max=COMMENT_MAX), NOT_BLANK]
    )


class CommentSchema(Schema):
    """A comment as shown."""

    id = fields.Integer()
    inspection_id = fields.Integer()
    author = fields.Function(lambda c: {"id": c.author.id, "name": c.author.name})
    body = fields.String()
    created_at = DisplayDateTime()


class ObjectionCreateSchema(StrictSchema):
    """Body of ``POST /api/v1/findings/{id}/objections``: the agency's counter-evidence."""

    text = fields.String(required=True, validate=[validate.Length(min=1, max=10_000), NOT_BLANK])
    photos = fields.List(
        fields.String(validate=SHA256_HEX), load_default=list, validate=validate.Length(max=50)
    )


class ObjectionDecisionSchema(StrictSchema):
    """Body of ``POST /api/v1/objections/{id}/decision``."""

    decision = fields.String(required=True, validate=validate.OneOf(("upheld", "dismissed")))
    reason = fields.String(required=True, validate=REASON)

    @validates_schema
    def _reason(self, data: dict[str, Any], **kwargs: Any) -> None:
        _require_reason(data, True)


class ObjectionSchema(Schema):
    """An objection and, once decided, its decision."""

    id = fields.Integer()
    finding_id = fields.Integer()
    inspection_id = fields.Integer()
    text = fields.String()
    photos = fields.List(fields.String())
    recorded_by_id = fields.Integer()
    recorded_at = DisplayDateTime()
    status = fields.String()
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = DisplayDateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)


class ListArgsSchema(PageArgsSchema):
    """Paging only."""


class BulkReviewResultSchema(Schema):
    """Answer of ``POST /api/v1/inspections/bulk-review``: counts and one result per item."""

    decision = fields.String()
    matched = fields.Integer()
    applied = fields.Integer()
    failed = fields.Integer()
    items = fields.List(fields.Nested(ItemResultSchema))
