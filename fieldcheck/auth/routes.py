"""Users and tokens over HTTP: admins manage users; everyone sees and revokes their own tokens."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, request
from sqlalchemy import select

from fieldcheck.auth.collect import (
    check_collect_user,
    collect_settings,
    encode_settings,
    server_url,
)
from fieldcheck.auth.management import (
    UserFilters,
    check_may_deactivate,
    check_may_issue_token,
    check_new_user_region,
    managed_user,
    users_query,
    visible_token,
)
from fieldcheck.auth.models import ApiToken, User
from fieldcheck.auth.services import (
    create_user,
    current_user,
    deactivate_user,
    hash_token,
    new_token,
    require_role,
    revoke_token,
    scope_filter,
)
from fieldcheck.clock import utcnow
from fieldcheck.http import json_body, load, load_args, page_body, paginate
from fieldcheck.openapi.doc import PageOf, api_doc
from schemas.users import (
    TokenCreateSchema,
    TokenIssuedSchema,
    TokenListArgsSchema,
    TokenSchema,
    UserCreatedSchema,
    UserCreateSchema,
    UserListArgsSchema,
    UserSchema,
)

bp = Blueprint("auth", __name__)

ALL_ROLES = ("surveyor", "supervisor", "admin")


def _expiry(days: int | None) -> timedelta | None:
    return timedelta(days=days) if days else None


@bp.get("/users")
@api_doc(args=UserListArgsSchema, responses={200: PageOf(UserSchema)})
@require_role("admin")
def list_users():
    """Users inside the admin's region (all for a national admin)."""
    args = load_args(UserListArgsSchema())
    filters = UserFilters(role=args.get("role"), active=args.get("active"))
    query = users_query(current_user(), filters)
    items, total = paginate(query, args["page"], args["per_page"])
    return page_body(UserSchema(many=True).dump(items), args["page"], args["per_page"], total)


@bp.post("/users")
@api_doc(body=UserCreateSchema, responses={201: UserCreatedSchema}, errors=("out_of_scope",))
@require_role("admin")
def create_user_endpoint():
    """Create a user and its first token; the token is in this response only."""
    data = load(UserCreateSchema(), json_body())
    region = data["region_code"]
    admin = current_user()
    check_new_user_region(admin, region, data["role"])
    user, token = create_user(
        data["name"].strip(),
        data["role"],
        region,
        actor=admin,
        expires_in=_expiry(data["expires_in_days"]),
    )
    row = next(t for t in user.tokens if t.token_hash == hash_token(token))
    return {"user": UserSchema().dump(user), "token": token, **TokenSchema().dump(row)}, 201


@bp.get("/users/<int:user_id>")
@api_doc(responses={200: UserSchema})
@require_role("admin")
def get_user(user_id: int):
    """One user."""
    return UserSchema().dump(managed_user(current_user(), user_id))


@bp.post("/users/<int:user_id>/deactivate")
@api_doc(responses={200: UserSchema}, errors=("conflict",))
@require_role("admin")
def deactivate_user_endpoint(user_id: int):
    """Deactivate a user: every token of theirs stops working. Not yourself (409)."""
    admin = current_user()
    user = managed_user(admin, user_id)
    check_may_deactivate(admin, user)
    deactivate_user(user, actor=admin)
    return UserSchema().dump(user)


@bp.post("/users/<int:user_id>/tokens")
@api_doc(body=TokenCreateSchema, responses={201: TokenIssuedSchema}, errors=("conflict",))
@require_role("admin")
def issue_token_endpoint(user_id: int):
    """Issue a token for a user (optional ``expires_in_days``); shown once, in this response.
    With ``client: "odk-collect"`` (surveyors only) also the settings for ODK Collect's QR."""
    data = load(TokenCreateSchema(), json_body())
    admin = current_user()
    user = managed_user(admin, user_id)
    check_may_issue_token(admin, user)
    collect = data["client"] == "odk-collect"
    if collect:
        check_collect_user(user)
    row, token = new_token(
        user,
        _expiry(data["expires_in_days"]),
        actor=admin,
        client="odk-collect" if collect else None,
    )
    answer = {"token": token, **TokenSchema().dump(row)}
    if collect:
        base = current_app.config["PUBLIC_BASE_URL"] or request.host_url
        answer["server_url"] = server_url(base, token)
        answer["collect_settings"] = encode_settings(collect_settings(base, token, user))
    return answer, 201


@bp.get("/tokens")
@api_doc(args=TokenListArgsSchema, responses={200: PageOf(TokenSchema)})
@require_role(*ALL_ROLES)
def list_tokens():
    """Token metadata: an admin sees tokens of users in their region, others their own."""
    args = load_args(TokenListArgsSchema())
    user = current_user()
    query = select(ApiToken).join(ApiToken.user).order_by(ApiToken.id)
    if user.role == "admin":
        condition = scope_filter(user, User.region_code)
        if condition is not None:
            query = query.where(condition)
    else:
        query = query.where(ApiToken.user_id == user.id)
    if "user" in args:
        query = query.where(ApiToken.user_id == args["user"])
    if "active" in args:
        now = utcnow()
        # A deactivated user's tokens are refused at once: not active, whatever their dates.
        live = (
            ApiToken.revoked_at.is_(None)
            & (ApiToken.expires_at.is_(None) | (ApiToken.expires_at > now))
            & User.is_active.is_(True)
        )
        query = query.where(live if args["active"] else ~live)
    items, total = paginate(query, args["page"], args["per_page"])
    return page_body(TokenSchema(many=True).dump(items), args["page"], args["per_page"], total)


@bp.post("/tokens/<int:token_id>/revoke")
@api_doc(responses={200: TokenSchema})
@require_role(*ALL_ROLES)
def revoke_token_endpoint(token_id: int):
    """Revoke a token: your own, or (admin) any in your region. Revoking twice is harmless."""
    user = current_user()
    row = visible_token(user, token_id)
    revoke_token(row, actor=user)
    return TokenSchema().dump(row)
