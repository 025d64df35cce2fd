"""Tokens, authentication of a request, roles and region scope."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import current_app, g, request
from sqlalchemy import bindparam, select

from fieldcheck.audit.services import record
from fieldcheck.auth.models import ROLES, ApiToken, User
from fieldcheck.auth.passwords import end_sessions
from fieldcheck.clock import utcnow
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db, lock
from fieldcheck.i18n import N_, _
from fieldcheck.regions.services import in_region

TOKEN_PREFIX = "fc_"  # noqa: S105 - a public marker that tells tokens apart, not a secret


def hash_token(token: str) -> str:
    """The SHA-256 hex digest a token is stored and looked up by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(
    user: User,
    expires_in: timedelta | None = None,
    *,
    actor: User | None = None,
    client: str | None = None,
) -> tuple[ApiToken, str]:
    """Create and audit a token for ``user``; returns the row and the token (shown once).
    ``client`` records the app it is for ("odk-collect"; None for the API)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = utcnow() + expires_in if expires_in else None
    row = ApiToken(
        user=user,
        token_hash=hash_token(token),
        prefix=token[:10],
        expires_at=expires_at,
        client=client,
    )
    db.session.add(row)
    db.session.flush()
    record(
        "token.issue",
        "token",
        row.id,
        after={
            "user_id": user.id,
            "prefix": row.prefix,
            "expires_at": expires_at,
            "client": client,
        },
        actor=actor,
        region=user.region_code,
    )
    return row, token


def issue_token(
    user: User, expires_in: timedelta | None = None, *, actor: User | None = None
) -> str:
    """Create a token for ``user``, store its hash, and return the token (shown once)."""
    return new_token(user, expires_in, actor=actor)[1]


def revoke_token(row: ApiToken, *, actor: User | None = None) -> bool:
    """Revoke ``row`` (audited); False when it was already revoked."""
    lock(row)  # revoked once, audited once, however many requests ask at the same time
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    record(
        "token.revoke",
        "token",
        row.id,
        before={"revoked_at": None},
        after={"user_id": row.user_id, "prefix": row.prefix, "revoked_at": row.revoked_at},
        actor=actor,
        region=row.user.region_code,
    )
    return True


def add_user(
    name: str,
    role: str,
    region_code: str | None = None,
    *,
    actor: User | None = None,
    username: str | None = None,
) -> User:
    """Create a user (audited) without token or password; the callers add what they need."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    name = name.strip()
    if not name:
        raise ValueError("name must not be blank: it is who the audit log shows")
    user = User(name=name, role=role, region_code=region_code, username=username)
    db.session.add(user)
    db.session.flush()
    after = {"name": name, "role": role, "region_code": region_code}
    if username is not None:
        after["username"] = username
    record("user.create", "user", user.id, after=after, actor=actor, region=region_code)
    return user


def create_user(
    name: str,
    role: str,
    region_code: str | None = None,
    *,
    actor: User | None = None,
    expires_in: timedelta | None = None,
    username: str | None = None,
) -> tuple[User, str]:
    """Create a user with a first token (both audited); returns both (token not stored in clear)."""
    user = add_user(name, role, region_code, actor=actor, username=username)
    return user, issue_token(user, expires_in, actor=actor)


def deactivate_user(user: User, *, actor: User | None = None) -> bool:
    """Deactivate ``user`` (their tokens stop working at once); False when already inactive."""
    lock(user)
    if not user.is_active:
        return False
    user.is_active = False
    end_sessions(user)  # logged out of every browser at once, as their tokens stop working
    record(
        "user.deactivate",
        "user",
        user.id,
        before={"is_active": True},
        after={"is_active": False},
        actor=actor,
        region=user.region_code,
    )
    return True


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


#: Built once per process: every API request runs it.
TOKEN_BY_HASH = select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash"))


def authenticate() -> User:
    """The user behind the request's bearer token, or a 401 ApiError."""
    token = _bearer_token()
    if token is None:
        raise ApiError("unauthorized")
    return user_for_token(token)


def user_for_token(token: str) -> User:
    """The active user holding ``token`` (sets ``g.token``), or a 401 ApiError.

    The one check of a token, whether it came as a bearer header or inside an OpenRosa
    client's server URL (``/openrosa/key/<token>``, as ODK Central's app users do).
    """
    row = db.session.execute(TOKEN_BY_HASH, {"token_hash": hash_token(token)}).scalar_one_or_none()
    now = utcnow()
    if (
        row is None
        or row.revoked_at is not None
        or (row.expires_at is not None and row.expires_at <= now)
        or not row.user.is_active
    ):
        raise ApiError("unauthorized", N_("The token is unknown, expired or revoked."))
    touch = timedelta(seconds=current_app.config["TOKEN_TOUCH_SECONDS"])
    if row.last_used_at is None or now - row.last_used_at >= touch:
        # Recorded at most every TOKEN_TOUCH_SECONDS so reads don't all become writes.
        row.last_used_at = now
    g.token = row
    return row.user


def current_user() -> User:
    """The authenticated user of this request (set by ``require_role``)."""
    return g.user


def require_role(*roles: str) -> Callable:
    """Decorate a view: authenticate (401) and require one of ``roles`` (403)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            g.user = check_role(authenticate(), roles)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the authorization-matrix test
        return wrapped

    return decorator


def check_role(user: User, roles: tuple[str, ...]) -> User:
    """``user`` when their role is one of ``roles``, else a 403 ApiError.

    The one role rule: the API's ``require_role`` and the web app's page guard both call it.
    """
    if user.role not in roles:
        raise ApiError(
            "forbidden", _("This needs one of the roles: %(roles)s.", roles=", ".join(roles))
        )
    return user


def in_scope(user: User, region_code: str | None) -> bool:
    """True when ``region_code`` lies inside the user's region (prefix match on whole segments)."""
    if user.region_code is None:
        return True
    if region_code is None:
        return False
    return region_code == user.region_code or region_code.startswith(user.region_code + ".")


def scope_filter(user: User, column: Any) -> Any:
    """A SQL condition limiting ``column`` (a region code) to the user's scope, or None."""
    if user.region_code is None:
        return None
    return in_region(column, user.region_code)


def user_names(ids: Iterable[int | None]) -> dict[int, str]:
    """User names by id (None ids ignored), in one query: for pages naming who did what."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return dict(rows.tuples().all())
