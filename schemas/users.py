"""Wire format of users and API tokens."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from fieldcheck.auth.collect import CLIENTS
from fieldcheck.auth.models import ROLES
from fieldcheck.clock import utcnow
from schemas.common import NOT_BLANK, DisplayDateTime, PageArgsSchema, StrictSchema, id_field


class UserCreateSchema(StrictSchema):
    """Body of ``POST /api/v1/users``."""

    name = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=120),
            NOT_BLANK,
        ],
    )
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    region_code = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=16)
    )
    expires_in_days = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(1, 3650)
    )


class TokenCreateSchema(StrictSchema):
    """Body of ``POST /api/v1/users/{id}/tokens`` (may be ``{}``)."""

    expires_in_days = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(1, 3650)
    )
    #: "odk-collect": the answer also carries ODK Collect's settings (a surveyor's phone).
    client = fields.String(load_default="api", validate=validate.OneOf(CLIENTS))


class UserListArgsSchema(PageArgsSchema):
    """Filters of ``GET /api/v1/users``."""

    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()


class TokenListArgsSchema(PageArgsSchema):
    """Filters of ``GET /api/v1/tokens``."""

    user = id_field()
    active = fields.Boolean()


class UserSchema(Schema):
    """A user as admins see it."""

    id = fields.Integer()
    name = fields.String()
    role = fields.String()
    region_code = fields.String(allow_none=True)
    is_active = fields.Boolean()
    created_at = DisplayDateTime()


class TokenSchema(Schema):
    """A token's metadata; the token itself is never shown after creation."""

    id = fields.Integer()
    user_id = fields.Integer()
    prefix = fields.String()
    created_at = DisplayDateTime()
    expires_at = DisplayDateTime(allow_none=True)
    revoked_at = DisplayDateTime(allow_none=True)
    last_used_at = DisplayDateTime(allow_none=True)
    #: The app the token was issued for: "odk-collect", or null (the API).
    client = fields.String(allow_none=True)
    is_active = fields.Method("_active")

    def _active(self, token) -> bool:
        return (
            token.revoked_at is None
            and (token.expires_at is None or token.expires_at > utcnow())
            and token.user.is_active
        )


class TokenIssuedSchema(TokenSchema):
    """Answer of ``POST /api/v1/users/{id}/tokens``: the token itself, in this answer only."""

    token = fields.String()
    #: For ``client: "odk-collect"`` only: the server URL carrying the token, and the QR code's
    #: text (Collect's settings: JSON, zlib-deflated, base64).
    server_url = fields.String()
    collect_settings = fields.String()


class UserCreatedSchema(TokenIssuedSchema):
    """Answer of ``POST /api/v1/users``: the user and its first token (shown once)."""

    user = fields.Nested(UserSchema)
