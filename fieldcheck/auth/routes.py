"""Users and tokens over HTTP: admins manage users; everyone sees and revokes their own tokens."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint
from sqlalchemy import select

from fieldcheck.auth.models import ApiToken, User
from fieldcheck.auth.services import (
    create_user,
    current_user,
    deactivate_user,
    hash_token,
    in_scope,
    new_token,
    require_role,
    revoke_token,
    scope_filter,
)
from fieldcheck.clock import utcnow
from fieldcheck.errors import ApiError, field_errors
from fieldcheck.extensions import db
from fieldcheck.http import json_body, load, load_args, page_body, paginate
from fieldcheck.i18n import N_
from fieldcheck.openapi.doc import PageOf, api_doc
from fieldcheck.regions.models import Region
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


def _managed_user(user_id: int) -> User:
    """A user the current admin may manage (inside their region), else 404."""
    user = db.session.get(User, user_id)
    if user is None or not in_scope(current_user(), user.region_code):
        raise ApiError("not_found", N_("No such user."))
    return user


def _above(admin: User, user: User) -> bool:
    """True when ``admin``'s region strictly contains ``user``'s (national contains all)."""
    if user.region_code is None:
        return False
    return admin.region_code is None or user.region_code.startswith(admin.region_code + ".")


def _expiry(days: int | None) -> timedelta | None:
    return timedelta(days=days) if days else None


@bp.get("/users")
@api_doc(args=UserListArgsSchema, responses={200: PageOf(UserSchema)})
@require_role("admin")
def list_users():
    """Users inside the admin's region (all for a national admin)."""
    args = load_args(UserListArgsSchema())
    query = select(User).order_by(User.id)
    condition = scope_filter(current_user(), User.region_code)
    if condition is not None:
        query = query.where(condition)
    if "role" in args:
        query = query.where(User.role == args["role"])
    if "active" in args:
        query = query.where(User.is_active.is_(args["active"]))
    items, total = paginate(query, args["page"], args["per_page"])
    return page_body(UserSchema(many=True).dump(items), args["page"], args["per_page"], total)


@bp.post("/users")
@api_doc(body=UserCreateSchema, responses={201: UserCreatedSchema}, errors=("out_of_scope",))
@require_role("admin")
def create_user_endpoint():
    """Create a user and its first token; the token is in this response only."""
    data = load(UserCreateSchema(), json_body())
    region = data["region_code"]
    if region is not None and db.session.get(Region, region) is None:
        raise field_errors({"region_code": [N_("Unknown region code.")]})
    admin = current_user()
    if not in_scope(admin, region):
        raise ApiError("out_of_scope", N_("You may only create users inside your region."))
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
    return UserSchema().dump(_managed_user(user_id))


@bp.post("/users/<int:user_id>/deactivate")
@api_doc(responses={200: UserSchema}, errors=("conflict",))
@require_role("admin")
def deactivate_user_endpoint(user_id: int):
    """Deactivate a user: every token of theirs stops working. Not yourself (409)."""
    user = _managed_user(user_id)
    admin = current_user()
    if user.id == admin.id:
        raise ApiError("conflict", N_("You cannot deactivate yourself."))
    deactivate_user(user, actor=admin)
    return UserSchema().dump(user)


@bp.post("/users/<int:user_id>/tokens")
@api_doc(body=TokenCreateSchema, responses={201: TokenIssuedSchema}, errors=("conflict",))
@require_role("admin")
def issue_token_endpoint(user_id: int):
    """Issue a token for a user (optional ``expires_in_days``); shown once, in this response."""
    data = load(TokenCreateSchema(), json_body())
    user = _managed_user(user_id)
    admin = current_user()
    if user.role == "admin" and user.id != admin.id and not _above(admin, user):
        # Whoever holds the token acts as its user in the audit log: an admin minting one for a
        # peer could act in the peer's name. Only an admin over a wider region may (a national
        # admin for a provincial one), as for any other user they manage.
        raise ApiError(
            "forbidden", N_("Only an admin over a wider region may issue tokens for another admin.")
        )
    if not user.is_active:
        raise ApiError("conflict", N_("The user is deactivated."))
    row, token = new_token(user, _expiry(data["expires_in_days"]), actor=admin)
    return {"token": token, **TokenSchema().dump(row)}, 201


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
    row = db.session.get(ApiToken, token_id)
    allowed = row is not None and (
        row.user_id == user.id or (user.role == "admin" and in_scope(user, row.user.region_code))
    )
    if not allowed:
        raise ApiError("not_found", N_("No such token."))
    revoke_token(row, actor=user)
    return TokenSchema().dump(row)
