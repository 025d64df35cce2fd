"""Wire format of webhook endpoints, their deliveries and the events they carry."""

from __future__ import annotations

from marshmallow import Schema, fields, post_dump, validate

from fieldcheck.outbox.events import EVENT_TYPES
from fieldcheck.webhooks.models import DELIVERY_STATES, rounds
from schemas.common import NOT_BLANK, DisplayDateTime, PageArgsSchema, StrictBoolean, StrictSchema

#: What an admin may subscribe to (a ping is asked for by hand, per endpoint).
SUBSCRIBABLE = [t for t in EVENT_TYPES if t != "webhook.ping"]


class EndpointCreateSchema(StrictSchema):
    """Body of ``POST /api/v1/webhooks``."""

    url = fields.String(required=True, validate=[validate.Length(min=1, max=2048), NOT_BLANK])
    event_types = fields.List(
        fields.String(validate=validate.OneOf(SUBSCRIBABLE)),
        required=True,
        validate=validate.Length(min=1, max=len(SUBSCRIBABLE)),
    )
    description = fields.String(load_default="", validate=validate.Length(max=200))
    #: Omitted: the admin's own region. A national admin may give one (or null: national).
    region_code = fields.String(allow_none=True, validate=validate.Length(min=1, max=16))
    #: Omitted: one is generated (and shown in the answer, once).
    secret = fields.String(validate=validate.Length(min=16, max=200))


class EndpointUpdateSchema(StrictSchema):
    """Body of ``PATCH /api/v1/webhooks/{id}``: any of the fields."""

    url = fields.String(validate=[validate.Length(min=1, max=2048), NOT_BLANK])
    event_types = fields.List(
        fields.String(validate=validate.OneOf(SUBSCRIBABLE)),
        validate=validate.Length(min=1, max=len(SUBSCRIBABLE)),
    )
    description = fields.String(validate=validate.Length(max=200))
    is_active = StrictBoolean()
    secret = fields.String(validate=validate.Length(min=16, max=200))
    rotate_secret = StrictBoolean()


class EndpointSchema(Schema):
    """An endpoint as admins see it (never its secret)."""

    id = fields.Integer()
    url = fields.String()
    event_types = fields.List(fields.String())
    region_code = fields.String(allow_none=True)
    description = fields.String()
    is_active = fields.Boolean()
    created_at = DisplayDateTime()
    updated_at = DisplayDateTime()


class EndpointWithSecretSchema(EndpointSchema):
    """An endpoint just created (or its secret just changed), with the secret: shown once."""

    secret = fields.String()


class DeliveryListArgsSchema(PageArgsSchema):
    """Filters of ``GET /api/v1/webhooks/{id}/deliveries``."""

    state = fields.String(validate=validate.OneOf(DELIVERY_STATES))


class AttemptSchema(Schema):
    """One HTTP attempt of a delivery."""

    #: 1 for the first sending, 2 for the first manual redelivery, ... (set by the delivery).
    round = fields.Integer(
        metadata={"description": "1: the first sending; each manual redelivery adds a round"}
    )
    #: Counted within its round (what the receiver got as ``X-Fieldcheck-Attempt``).
    number = fields.Integer(metadata={"description": "the attempt's number within its round"})
    started_at = DisplayDateTime()
    duration_ms = fields.Integer()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    response_snippet = fields.String(allow_none=True)


class DeliverySchema(Schema):
    """A delivery of one event to one endpoint."""

    id = fields.Integer()
    endpoint_id = fields.Integer()
    event_id = fields.String()
    event_type = fields.String()
    state = fields.String()
    attempts = fields.Integer()
    #: Only while pending: a delivered or dead delivery has no next attempt (null).
    next_attempt_at = DisplayDateTime(
        allow_none=True, metadata={"description": "null unless the delivery is pending"}
    )
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = DisplayDateTime()
    delivered_at = DisplayDateTime(allow_none=True)

    @post_dump(pass_original=True)
    def _no_stale_next_attempt(self, data: dict, delivery, **_kwargs) -> dict:
        # The column keeps the last planned time after the delivery ended; shown, it read as
        # a retry still to come.
        if delivery.state != "pending":
            data["next_attempt_at"] = None
        return data


class DeliveryDetailSchema(DeliverySchema):
    """A delivery with the exact body it sends and its attempt log."""

    body = fields.Method("_body")
    log = fields.List(fields.Nested(AttemptSchema))

    def _body(self, delivery) -> str:
        return bytes(delivery.body).decode("utf-8")

    @post_dump(pass_original=True)
    def _rounds(self, data: dict, delivery, **_kwargs) -> dict:
        # ``number`` restarts at 1 after a redelivery; the round tells the attempts apart.
        position = 0
        for index, attempts in enumerate(rounds(list(delivery.log)), start=1):
            for _attempt in attempts:
                data["log"][position]["round"] = index
                position += 1
        return data


# --- the events (bodies the receivers get; in the OpenAPI document under x-webhooks) ----------


class InspectionReceivedData(Schema):
    """``data`` of ``inspection.received``."""

    inspection_id = fields.Integer(required=True)
    submission_id = fields.UUID(required=True)
    unit_code = fields.String(required=True)
    region_code = fields.String(required=True)
    methodology = fields.String(required=True)
    methodology_version = fields.Integer(required=True)
    visit_date = fields.Date(required=True)
    score = fields.String(required=True, allow_none=True, metadata={"example": "81.25"})
    zone = fields.String(required=True, allow_none=True, metadata={"example": "kuning"})
    supersedes_id = fields.Integer(required=True, allow_none=True)


class InterviewReceivedData(Schema):
    """``data`` of ``interview.received``: where and what kind, never the respondent or answers."""

    interview_id = fields.Integer(required=True)
    submission_id = fields.UUID(required=True)
    methodology = fields.String(required=True)
    methodology_version = fields.Integer(required=True)
    instrument = fields.String(required=True, metadata={"example": "pengguna"})
    agency_code = fields.String(required=True)
    unit_code = fields.String(required=True, allow_none=True)
    region_code = fields.String(required=True, allow_none=True)
    interview_date = fields.Date(required=True)


class InspectionReviewedData(Schema):
    """``data`` of ``inspection.reviewed`` (one event per inspection, bulk reviews too)."""

    inspection_id = fields.Integer(required=True)
    unit_code = fields.String(required=True)
    decision = fields.String(required=True, metadata={"example": "approve"})
    from_status = fields.String(required=True)
    to_status = fields.String(required=True)


class ZoningRunSucceededData(Schema):
    """``data`` of ``zoning_run.succeeded``."""

    run_id = fields.Integer(required=True)
    methodology = fields.String(required=True)
    methodology_version = fields.Integer(required=True)
    period = fields.Integer(required=True)
    scope = fields.String(required=True, metadata={"description": "region code; empty: national"})
    mode = fields.String(required=True, metadata={"example": "incremental"})
    counts = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)


class ZoningRunPublishedData(Schema):
    """``data`` of ``zoning_run.published``."""

    run_id = fields.Integer(required=True)
    methodology = fields.String(required=True)
    period = fields.Integer(required=True)
    scope = fields.String(required=True)
    published_by = fields.Integer(required=True, allow_none=True)


class ZoneChangeData(Schema):
    """One unit or agency that moved zone."""

    level = fields.String(required=True, metadata={"example": "unit"})
    code = fields.String(required=True)
    region_code = fields.String(required=True, allow_none=True)
    old_zone = fields.String(required=True, allow_none=True)
    new_zone = fields.String(required=True, allow_none=True)
    old_score = fields.String(required=True, allow_none=True)
    new_score = fields.String(required=True, allow_none=True)


class ZoneChangesData(Schema):
    """``data`` of ``zoning_run.zone_changes`` (a regional endpoint: its region's moves only)."""

    run_id = fields.Integer(required=True)
    compared_run_id = fields.Integer(required=True, allow_none=True)
    changes = fields.List(fields.Nested(ZoneChangeData), required=True)


class UnitOverrideData(Schema):
    """``data`` of ``unit_override.set`` and ``unit_override.withdrawn``."""

    override_id = fields.Integer(required=True)
    unit_code = fields.String(required=True)
    period = fields.Integer(required=True)
    zone = fields.String(required=True, metadata={"example": "merah"})
    withdrawn = fields.Boolean(required=True)


class ObjectionDecidedData(Schema):
    """``data`` of ``objection.decided``."""

    objection_id = fields.Integer(required=True)
    inspection_id = fields.Integer(required=True)
    finding_id = fields.Integer(required=True)
    unit_code = fields.String(required=True)
    decision = fields.String(required=True, metadata={"example": "upheld"})
    finding_withdrawn = fields.Boolean(required=True)


class PingData(Schema):
    """``data`` of ``webhook.ping``."""

    endpoint_id = fields.Integer(required=True)


#: Event type -> the schema of its ``data``.
EVENT_DATA: dict[str, type[Schema]] = {
    "inspection.received": InspectionReceivedData,
    "inspection.reviewed": InspectionReviewedData,
    "interview.received": InterviewReceivedData,
    "zoning_run.succeeded": ZoningRunSucceededData,
    "zoning_run.published": ZoningRunPublishedData,
    "zoning_run.zone_changes": ZoneChangesData,
    "unit_override.set": UnitOverrideData,
    "unit_override.withdrawn": UnitOverrideData,
    "objection.decided": ObjectionDecidedData,
    "webhook.ping": PingData,
}
