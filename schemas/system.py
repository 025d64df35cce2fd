"""Wire format of the health and status answers (documentation of hand-built bodies)."""

from __future__ import annotations

from marshmallow import Schema, fields


class SchedulerStateSchema(Schema):
    """The scheduler process's heartbeat."""

    heartbeat_at = fields.String(allow_none=True)
    is_alive = fields.Boolean()


class LeaseStateSchema(Schema):
    """Who holds the zoning lease."""

    is_held = fields.Boolean()
    run_id = fields.Integer(allow_none=True)
    expires_at = fields.String(allow_none=True)


class LastRunSchema(Schema):
    """The last finished zoning run, in brief."""

    id = fields.Integer()
    state = fields.String()
    mode = fields.String(allow_none=True)
    dry_run = fields.Boolean()
    finished_at = fields.String(allow_none=True)
    duration_seconds = fields.Float(allow_none=True)
    error = fields.String(allow_none=True)


class HealthSchema(Schema):
    """Answer of ``GET /healthz`` (200 ok, 503 degraded): no token, no error texts."""

    status = fields.String()
    database = fields.String()
    time = fields.String()
    methodologies = fields.List(fields.String())
    legal_catalogue = fields.String()
    scheduler = fields.Nested(SchedulerStateSchema)
    last_zoning_run = fields.Nested(LastRunSchema, allow_none=True)


class StatusSchema(Schema):
    """Answer of ``GET /api/v1/status``."""

    time = fields.String()
    scheduler = fields.Nested(SchedulerStateSchema)
    zoning_lease = fields.Nested(LeaseStateSchema)
    last_run = fields.Nested(LastRunSchema, allow_none=True)
    queued_runs = fields.Integer()
