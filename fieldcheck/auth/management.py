"""What an admin may do to whom: the rules behind ``/api/v1/users`` and the admin pages.

Both shells call these; neither repeats a rule. An admin manages the users inside their region
(a national admin all of them). One rule for admin accounts (``may_manage_account``): only an
admin over a strictly wider region acts on another admin's account (creates it, deactivates or
unlocks it, sets its password, issues or revokes its tokens): a national admin for a provincial
one, a provincial admin for a regency's. Peers (same region, two national admins too) never act
on each other: whoever could, could act in the peer's name in the audit log or lock them out;
national admins are created and retired by the operator's CLI (``flask users ...``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from fieldcheck.audit.models import AuditEntry
from fieldcheck.audit.services import entries_query
from fieldcheck.auth.models import ROLES, ApiToken, User
from fieldcheck.auth.passwords import password_problems, set_password, username_problems
from fieldcheck.auth.services import add_user, in_scope, scope_filter
from fieldcheck.clock import utcnow
from fieldcheck.errors import ApiError, field_errors
from fieldcheck.extensions import db
from fieldcheck.i18n import N_
from fieldcheck.regions.models import Region
from fieldcheck.regions.services import in_region


def managed_user(admin: User, user_id: int) -> User:
    """A user ``admin`` may manage (inside their region), else a 404 ApiError."""
    user = db.session.get(User, user_id)
    if user is None or not in_scope(admin, user.region_code):
        raise ApiError("not_found", N_("No such user."))
    return user


def is_above(admin: User, user: User) -> bool:
    """True when ``admin``'s region strictly contains ``user``'s (national contains all)."""
    return _region_above(admin.region_code, user.region_code)


def _region_above(outer: str | None, inner: str | None) -> bool:
    if inner is None:
        return False  # nobody is above national
    return outer is None or inner.startswith(outer + ".")


def may_manage_account(admin: User, user: User) -> bool:
    """The one rule: ``admin`` may act on ``user``'s account (a user they already manage by
    region) unless ``user`` is another admin not strictly below them (see the module doc)."""
    return user.role != "admin" or is_above(admin, user)


def check_may_manage_account(admin: User, user: User) -> None:
    """Refuse (403) acting on the account of a peer admin or one above (``may_manage_account``)."""
    if not may_manage_account(admin, user):
        raise ApiError("forbidden", PEER_ADMIN)


#: Why an admin may not act on another admin's account (API and pages alike).
PEER_ADMIN = N_("Only an admin over a wider region may act on another admin's account.")


def may_act_as(admin: User, user: User) -> bool:
    """True when ``admin`` may hold credentials of ``user`` (a token): their own, or an account
    they manage (``may_manage_account``)."""
    return user.id == admin.id or may_manage_account(admin, user)


def check_may_issue_token(admin: User, user: User) -> None:
    """Refuse (ApiError) a token for a peer admin or for a deactivated user."""
    if not may_act_as(admin, user):
        # Whoever holds the token acts as its user in the audit log.
        raise ApiError("forbidden", PEER_ADMIN)
    if not user.is_active:
        raise ApiError("conflict", N_("The user is deactivated."))


def check_may_deactivate(admin: User, user: User) -> None:
    """Refuse deactivating yourself (409: the last admin could lock everyone out) or a peer
    admin (403, ``may_manage_account``)."""
    if user.id == admin.id:
        raise ApiError("conflict", N_("You cannot deactivate yourself."))
    check_may_manage_account(admin, user)


def check_may_unlock(admin: User, user: User) -> None:
    """Refuse (403) lifting the lockout of a peer admin (``may_manage_account``)."""
    check_may_manage_account(admin, user)


def check_may_reset_password(admin: User, user: User) -> None:
    """Refuse (ApiError) setting a password the admin would then know, where they may not."""
    if user.id == admin.id:
        raise ApiError("conflict", N_("Change your own password on your account page."))
    check_may_manage_account(admin, user)
    if not user.is_active:
        raise ApiError("conflict", N_("The user is deactivated."))


def check_may_revoke(reader: User, row: ApiToken) -> None:
    """Refuse (403) revoking another admin's token unless ``reader`` is above them."""
    if row.user_id != reader.id:
        check_may_manage_account(reader, row.user)


def new_admin_problems(admin: User, role: str | None, region_code: str | None) -> list[str]:
    """Why ``admin`` may not create an account of ``role`` in ``region_code`` (msgids)."""
    if role == "admin" and not _region_above(admin.region_code, region_code):
        return [PEER_ADMIN]
    return []


def region_problems(admin: User, region_code: str | None) -> list[str]:
    """Why ``region_code`` cannot be a new user's region for ``admin`` (msgids; empty if fine)."""
    if region_code is not None and db.session.get(Region, region_code) is None:
        return [N_("Unknown region code.")]
    if not in_scope(admin, region_code):
        return [N_("You may only create users inside your region.")]
    return []


def check_new_user_region(admin: User, region_code: str | None, role: str | None = None) -> None:
    """The API's check of a new user: 422 when the region is unknown, 403 when outside the
    scope, 403 for an admin account the creator may not manage (``may_manage_account``)."""
    if region_code is not None and db.session.get(Region, region_code) is None:
        raise field_errors({"region_code": [N_("Unknown region code.")]})
    if not in_scope(admin, region_code):
        raise ApiError("out_of_scope", N_("You may only create users inside your region."))
    if new_admin_problems(admin, role, region_code):
        raise ApiError("forbidden", PEER_ADMIN)


@dataclass(frozen=True)
class UserFilters:
    """The filters of a user list; None = any."""

    role: str | None = None
    active: bool | None = None
    region: str | None = None


def users_query(admin: User, filters: UserFilters = UserFilters()) -> Select:
    """Users ``admin`` may see (inside their region), filtered, by id."""
    query = select(User).order_by(User.id)
    condition = scope_filter(admin, User.region_code)
    if condition is not None:
        query = query.where(condition)
    if filters.role is not None:
        query = query.where(User.role == filters.role)
    if filters.active is not None:
        query = query.where(User.is_active.is_(filters.active))
    if filters.region is not None:
        query = query.where(in_region(User.region_code, filters.region))
    return query


def active_token_counts(user_ids: list[int]) -> dict[int, int]:
    """How many live (not revoked, not expired) tokens each of ``user_ids`` holds; one query."""
    if not user_ids:
        return {}
    now = utcnow()
    rows = db.session.execute(
        select(ApiToken.user_id, func.count())
        .where(
            ApiToken.user_id.in_(user_ids),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at.is_(None) | (ApiToken.expires_at > now),
        )
        .group_by(ApiToken.user_id)
    )
    return dict(rows.tuples().all())


def last_logins(user_ids: list[int]) -> dict[int, datetime]:
    """Each user's last web login, read from the audit log (one indexed query, no extra column)."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(AuditEntry.object_id, func.max(AuditEntry.created_at))
        .where(
            AuditEntry.object_type == "user",
            AuditEntry.object_id.in_([str(i) for i in user_ids]),
            AuditEntry.action == "user.login",
        )
        .group_by(AuditEntry.object_id)
    )
    return {int(ident): at for ident, at in rows.tuples().all()}


def user_tokens(user: User) -> list[ApiToken]:
    """``user``'s tokens, newest first (the caller has checked it may manage ``user``)."""
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(db.session.execute(query).unique().scalars())


def visible_token(reader: User, token_id: int) -> ApiToken:
    """A token ``reader`` may revoke: their own, or (admin) one in their region (else 404) of a
    user whose account they manage (else 403, ``may_manage_account``)."""
    row = db.session.get(ApiToken, token_id)
    allowed = row is not None and (
        row.user_id == reader.id
        or (reader.role == "admin" and in_scope(reader, row.user.region_code))
    )
    if not allowed:
        raise ApiError("not_found", N_("No such token."))
    check_may_revoke(reader, row)
    return row


def create_login_user(
    admin: User,
    *,
    name: str,
    username: str,
    role: str,
    region_code: str | None,
    password: str,
) -> User:
    """Create a person who logs in with ``password`` and must change it at the first login.

    Every problem is reported at once as a 422 with one list of msgids per form field.
    """
    name, username = name.strip(), username.strip()
    problems: dict[str, list[str]] = {}
    if not name:
        problems["name"] = [N_("Enter the person's name.")]
    elif len(name) > 120:
        problems["name"] = [N_("The name must have at most 120 characters.")]
    problems["username"] = username_problems(username)
    if role not in ROLES:
        problems["role"] = [N_("Choose a role.")]
    problems["region_code"] = region_problems(admin, region_code)
    problems["role"] = problems.get("role") or new_admin_problems(admin, role, region_code)
    problems["password"] = password_problems(password, username)
    problems = {field: found for field, found in problems.items() if found}
    if problems:
        raise field_errors(problems)
    user = add_user(name, role, region_code, actor=admin, username=username)
    set_password(user, password, actor=admin, must_change=True)
    return user


def reset_password(admin: User, user: User, password: str) -> None:
    """Give ``user`` a temporary password (must change; their sessions end), or an ApiError."""
    check_may_reset_password(admin, user)
    problems = password_problems(password, user.username)
    if problems:
        raise field_errors({"password": problems})
    set_password(user, password, actor=admin, must_change=True)


@dataclass(frozen=True)
class AuditFilters:
    """The filters of an audit log listing; None = any."""

    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    #: A user id, or ``SYSTEM`` for entries written by the CLI and jobs.
    actor: int | str | None = None
    region: str | None = None
    since: datetime | None = None
    until: datetime | None = None


SYSTEM = "system"


def audit_query(reader: User, filters: AuditFilters = AuditFilters()) -> Select:
    """Audit entries ``reader`` may read, filtered, newest first.

    The region is stamped on each entry when written (the object's region at that time), so
    scoping is one indexed prefix match and survives later moves of the object.
    """
    conditions: list[Any] = []
    scope = scope_filter(reader, AuditEntry.region_code)
    if scope is not None:
        conditions.append(scope)
    if filters.region is not None:
        conditions.append(in_region(AuditEntry.region_code, filters.region))
    return entries_query(
        conditions,
        action=filters.action,
        object_type=filters.object_type,
        object_id=filters.object_id,
        actor_id=None if filters.actor in (None, SYSTEM) else int(filters.actor),
        system_only=filters.actor == SYSTEM,
        since=filters.since,
        until=filters.until,
    )
