"""Admin pages: users (create, deactivate, passwords, unlock), their phones' tokens with a QR
code, and the audit log with its chain check.

A thin shell over ``auth.management`` and the audit services, the same calls as
``/api/v1/users`` and ``/api/v1/audit``: the same region scope, the same "who may act as whom".
A secret (a generated password, a new token) is rendered in the response to the POST that made
it, never stored to survive a redirect: only hashes of either are ever written (decisions.md).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

import segno
from flask import current_app, flash, g, redirect, render_template, request, url_for

from fieldcheck.audit.models import AuditEntry
from fieldcheck.audit.services import known_values
from fieldcheck.audit.verification import verify
from fieldcheck.auth.collect import (
    CLIENTS,
    collect_settings,
    encode_settings,
    qr_code,
    server_url,
    unreachable_host,
)
from fieldcheck.auth.management import (
    SYSTEM,
    AuditFilters,
    UserFilters,
    active_token_counts,
    audit_query,
    check_may_deactivate,
    check_may_issue_token,
    check_may_unlock,
    create_login_user,
    last_logins,
    managed_user,
    may_act_as,
    may_manage_account,
    reset_password,
    user_tokens,
    users_query,
    visible_token,
)
from fieldcheck.auth.models import ROLES, User
from fieldcheck.auth.passwords import generate_password, is_locked, unlock
from fieldcheck.auth.services import deactivate_user, new_token, revoke_token
from fieldcheck.clock import utcnow
from fieldcheck.errors import ApiError, field_errors
from fieldcheck.extensions import db
from fieldcheck.http import paginate
from fieldcheck.i18n import N_, _
from fieldcheck.regions.models import Region
from fieldcheck.web.access import page_role
from fieldcheck.web.blueprint import bp

PER_PAGE = 50
#: Token lifetimes offered on the user page (days; None = until revoked).
TOKEN_DAYS = (None, 30, 90, 365)
#: Above this many audit rows the page verifies the chain only when asked (a button). Measured
#: on 20,000 rows: 1.0 s on SQLite, 1.7-2.1 s on PostgreSQL (about 10,000 rows a second), so
#: the check that runs by itself stays under ~0.2 s.
VERIFY_AUTO_MAX_ROWS = 2_000


def _admin() -> User:
    return g.user


def _page() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise field_errors({"page": [N_("Not a page number.")]})
    return int(raw)


def _region_arg(value: str, field: str) -> str | None:
    """A region code from a form or the query string; None when blank; 422 when unknown."""
    value = value.strip()
    if not value:
        return None
    if len(value) > 16 or db.session.get(Region, value) is None:
        raise field_errors({field: [N_("Unknown region code.")]})
    return value


# ---- users ----------------------------------------------------------------------------------


@bp.get("/admin/users")
@page_role("admin")
def admin_users():
    """The users of the admin's region, filtered by role, region and state, with their tokens."""
    args = request.args
    role = args.get("role") or None
    if role is not None and role not in ROLES:
        raise field_errors({"role": [N_("Choose a role.")]})
    active = {"": None, "1": True, "0": False}.get(args.get("active", ""), "bad")
    if active == "bad":
        raise field_errors({"active": [N_("Choose active or deactivated.")]})
    region = _region_arg(args.get("region", ""), "region")
    page = _page()
    filters = UserFilters(role=role, active=active, region=region)
    users, total = paginate(users_query(_admin(), filters), page, PER_PAGE)
    ids = [u.id for u in users]
    return render_template(
        "web/admin/users.html",
        users=users,
        total=total,
        page=page,
        per_page=PER_PAGE,
        args={k: v for k, v in args.items() if k != "page" and v},
        roles=ROLES,
        tokens=active_token_counts(ids),
        logins=last_logins(ids),
        is_locked=is_locked,
    )


@bp.route("/admin/users/new", methods=["GET", "POST"])
@page_role("admin")
def admin_user_new():
    """Create a person who logs in; the temporary password is typed or generated (shown once)."""
    form: dict[str, Any] = {"role": "surveyor", "region_code": _admin().region_code or ""}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = {k: request.form.get(k, "")[:300] for k in ("name", "username", "role")}
        form["region_code"] = request.form.get("region_code", "").strip()[:16]
        typed = request.form.get("password", "")[:1024]
        password = typed or generate_password()
        try:
            user = create_login_user(
                _admin(),
                name=form["name"],
                username=form["username"],
                role=form["role"],
                region_code=form["region_code"] or None,
                password=password,
            )
        except ApiError as error:
            if error.code != "validation_failed":
                raise
            errors = {k: [_(m) for m in v] for k, v in error.details["fields"].items()}
        else:
            if typed:
                flash(_("User %(name)s created.", name=user.name), "success")
                return redirect(url_for("web.admin_user", user_id=user.id), 303)
            # 201 with the page, not a redirect: the generated password exists only here.
            return render_template(
                "web/admin/secret.html", user=user, password=password, created=True
            ), 201
    return render_template("web/admin/user_new.html", form=form, errors=errors, roles=ROLES), (
        422 if errors else 200
    )


@bp.get("/admin/users/<int:user_id>")
@page_role("admin")
def admin_user(user_id: int):
    """One user: facts, what the admin may do to them, and their tokens (devices)."""
    return _user_page(managed_user(_admin(), user_id))


def _user_page(user: User, errors: dict[str, list[str]] | None = None, status: int = 200):
    admin = _admin()
    return render_template(
        "web/admin/user.html",
        user=user,
        tokens=user_tokens(user),
        last_login=last_logins([user.id]).get(user.id),
        locked=is_locked(user),
        may_act_as=may_act_as(admin, user),
        may_manage=may_manage_account(admin, user),
        is_self=user.id == admin.id,
        token_days=TOKEN_DAYS,
        now=utcnow(),
        errors=errors or {},
    ), status


@bp.post("/admin/users/<int:user_id>/deactivate")
@page_role("admin")
def admin_user_deactivate(user_id: int):
    """Deactivate a user: their tokens stop working and their browsers are logged out."""
    admin = _admin()
    user = managed_user(admin, user_id)
    check_may_deactivate(admin, user)
    if deactivate_user(user, actor=admin):
        flash(_("%(name)s is deactivated.", name=user.name), "success")
    return redirect(url_for("web.admin_user", user_id=user.id), 303)


@bp.post("/admin/users/<int:user_id>/unlock")
@page_role("admin")
def admin_user_unlock(user_id: int):
    """Lift a lockout after too many wrong passwords."""
    user = managed_user(_admin(), user_id)
    check_may_unlock(_admin(), user)
    if unlock(user, actor=_admin()):
        flash(_("%(name)s may log in again.", name=user.name), "success")
    return redirect(url_for("web.admin_user", user_id=user.id), 303)


@bp.post("/admin/users/<int:user_id>/password")
@page_role("admin")
def admin_user_password(user_id: int):
    """Set a temporary password (typed or generated): must be changed, their sessions end."""
    admin = _admin()
    user = managed_user(admin, user_id)
    if not user.username:
        raise ApiError("conflict", N_("This user has no username: they use API tokens only."))
    typed = request.form.get("password", "")[:1024]
    password = typed or generate_password()
    try:
        reset_password(admin, user, password)
    except ApiError as error:
        if error.code != "validation_failed":
            raise
        errors = {k: [_(m) for m in v] for k, v in error.details["fields"].items()}
        return _user_page(user, errors, 422)
    if typed:
        flash(_("New temporary password set for %(name)s.", name=user.name), "success")
        return redirect(url_for("web.admin_user", user_id=user.id), 303)
    return render_template("web/admin/secret.html", user=user, password=password, created=False)


@bp.post("/admin/users/<int:user_id>/tokens")
@page_role("admin")
def admin_token_issue(user_id: int):
    """Issue a token for a phone; the page shows it once, as text and as a QR code: for the
    fieldcheck phone app, or (``client=odk-collect``, surveyors) ODK Collect's settings code."""
    admin = _admin()
    user = managed_user(admin, user_id)
    raw = request.form.get("expires_in_days", "")
    if raw not in {str(d) if d else "" for d in TOKEN_DAYS}:
        return _user_page(user, {"expires_in_days": [_("Choose a validity.")]}, 422)
    client = request.form.get("client", "api")
    if client not in CLIENTS:
        return _user_page(user, {"client": [_("Choose a phone app.")]}, 422)
    check_may_issue_token(admin, user)
    if client == "odk-collect" and user.role != "surveyor":
        return _user_page(user, {"client": [_("ODK Collect is set up for surveyors only.")]}, 422)
    row, token = new_token(
        user,
        timedelta(days=int(raw)) if raw else None,
        actor=admin,
        client="odk-collect" if client == "odk-collect" else None,
    )
    server = _public_base_url()
    # Warn before anyone walks off with a phone set up to call itself (see secret.html).
    reach = {
        "unreachable": unreachable_host(server),
        "configured": bool(current_app.config["PUBLIC_BASE_URL"]),
        "base": server,
    }
    if client == "odk-collect":
        settings = collect_settings(server, token, user)
        payload = encode_settings(settings)
        return render_template(
            "web/admin/secret.html",
            user=user,
            token=token,
            row=row,
            reach=reach,
            server=server_url(server, token),
            payload=payload,
            settings=json.dumps(settings, ensure_ascii=False, indent=2),
            qr=qr_code(payload).svg_data_uri(scale=5, border=4),
            collect=True,
        ), 201
    payload = json.dumps({"server": server, "token": token}, ensure_ascii=False)
    qr = segno.make(payload, error="m").svg_data_uri(scale=5, border=4)
    return render_template(
        "web/admin/secret.html",
        user=user,
        token=token,
        row=row,
        reach=reach,
        server=server,
        payload=payload,
        qr=qr,
    ), 201


@bp.get("/admin/users/<int:user_id>/tokens")
@page_role("admin")
def admin_token_issue_reload(user_id: int):
    """A reload of the page a token was issued on (a GET of the form's address): back to the
    user's page, not a bare 405; the token is shown once and never again."""
    return redirect(url_for("web.admin_user", user_id=user_id), 303)


def _public_base_url() -> str:
    """The address phones reach this server at: the configured one, else the browser's."""
    return (current_app.config["PUBLIC_BASE_URL"] or request.host_url).rstrip("/")


@bp.post("/admin/tokens/<int:token_id>/revoke")
@page_role("admin")
def admin_token_revoke(token_id: int):
    """Revoke a token (it stops working at once); back to its user's page."""
    row = visible_token(_admin(), token_id)
    if revoke_token(row, actor=_admin()):
        flash(_("Token %(prefix)s… revoked.", prefix=row.prefix), "success")
    return redirect(url_for("web.admin_user", user_id=row.user_id), 303)


# ---- audit log ------------------------------------------------------------------------------


@bp.get("/admin/audit")
@page_role("admin")
def admin_audit():
    """The audit log of the admin's region, filtered, newest first, with the chain's state."""
    args = request.args
    filters = _audit_filters(args)
    page = _page()
    items, total = paginate(audit_query(_admin(), filters), page, PER_PAGE)
    rows = db.session.execute(db.select(db.func.max(AuditEntry.id))).scalar_one_or_none() or 0
    check = None
    # The chain is one for the whole country: its length and where it breaks are the national
    # admins' to see, not a regional admin's (whose page lists their region's entries only).
    if _admin().region_code is None and (args.get("verify") or rows <= VERIFY_AUTO_MAX_ROWS):
        started = perf_counter()
        check = {"report": verify(), "seconds": perf_counter() - started}
    admin = _admin()
    return render_template(
        "web/admin/audit.html",
        entries=items,
        total=total,
        page=page,
        per_page=PER_PAGE,
        args={k: v for k, v in args.items() if k not in ("page", "verify") and v},
        form=args,
        check=check,
        actions=known_values(AuditEntry.action),
        object_types=known_values(AuditEntry.object_type),
        actors=db.session.execute(users_query(admin).order_by(None).order_by(User.name))
        .unique()
        .scalars()
        .all(),
        system=SYSTEM,
    )


def _audit_filters(args: Any) -> AuditFilters:
    """The audit page's query string as filters; a bad value is a 422 naming the field."""
    problems: dict[str, list[str]] = {}
    actor: int | str | None = args.get("actor") or None
    if actor is not None and actor != SYSTEM:
        if not str(actor).isdigit() or len(str(actor)) > 12:
            problems["actor"] = [N_("Choose a person from the list.")]
        else:
            actor = int(actor)
    since = _day_arg(args.get("since", ""), "since", problems)
    until = _day_arg(args.get("until", ""), "until", problems)
    if since and until and until < since:
        problems["until"] = [N_("The end date is before the start date.")]
    try:
        region = _region_arg(args.get("region", ""), "region")
    except ApiError as error:
        problems.update(error.details["fields"])
        region = None
    if problems:
        raise field_errors(problems)
    return AuditFilters(
        action=(args.get("action") or None) and args["action"][:64],
        object_type=(args.get("object_type") or None) and args["object_type"][:32],
        object_id=(args.get("object_id") or "").strip()[:64] or None,
        actor=actor,
        region=region,
        since=_start_of(since),
        until=_start_of(until + timedelta(days=1)) if until else None,
    )


def _day_arg(raw: str, field: str, problems: dict[str, list[str]]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        problems[field] = [N_("Not a date (year-month-day).")]
        return None


def _start_of(day: date | None) -> datetime | None:
    """Midnight of ``day`` in the display zone (WIB): the dates people type are office dates."""
    if day is None:
        return None
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    return datetime.combine(day, time(0, 0), tzinfo=zone)
