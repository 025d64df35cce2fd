"""Logging in and out, changing one's password, choosing the page language."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from fieldcheck.audit.services import record
from fieldcheck.auth.models import ROLES
from fieldcheck.auth.passwords import (
    LoginRefused,
    authenticate_password,
    password_problems,
    set_password,
    verify_password,
)
from fieldcheck.extensions import limiter
from fieldcheck.i18n import LANGUAGES, _, render
from fieldcheck.web.access import page_role, safe_next
from fieldcheck.web.blueprint import bp


def _landing() -> str:
    """Where a person goes after logging in: the overview, or their account (surveyors)."""
    user = current_user
    if user.is_authenticated and user.role in ("supervisor", "admin"):
        return url_for("web.overview") if "web.overview" in current_app.view_functions else "/"
    return url_for("web.account")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """The login form; a wrong password is counted, and enough of them lock the account."""
    target = safe_next(request.values.get("next"), "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target or _landing())
    error = None
    username = request.form.get("username", "").strip()[:64]
    if request.method == "POST":
        password = request.form.get("password", "")[:1024]
        try:
            user = authenticate_password(username, password)
        except LoginRefused as refused:
            error = _(refused.message)
            if refused.locked_until is not None:
                local = refused.locked_until.astimezone(
                    ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
                )
                error = render(refused.message, {"until_at": local.isoformat()})
            # 200, not 401: the failure count must be committed (one commit per request, and
            # only a successful response commits).
            return render_template("web/login.html", error=error, username=username, next=target)
        session.rotate()  # a new session id at login: a planted cookie learns nothing
        login_user(user)
        g.user = user
        record("user.login", "user", user.id, actor=user, region=user.region_code)
        if user.must_change_password:
            return redirect(url_for("web.change_password", next=target or None))
        return redirect(target or _landing())
    return render_template("web/login.html", error=error, username=username, next=target)


@bp.post("/logout")
def logout():
    """End the session here (its row is deleted) and go back to the login page."""
    logout_user()
    session.clear()
    session.rotate()  # the flash below lives in a new session, not the logged-out one
    flash(_("You have logged out."), "info")
    return redirect(url_for("web.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    """Choose a new password (required after an admin set one)."""
    if not current_user.is_authenticated:
        return redirect(url_for("web.login", next=request.path))
    user = current_user._get_current_object()
    g.user = user
    target = safe_next(request.values.get("next"), "")
    errors: list[str] = []
    if request.method == "POST":
        current = request.form.get("current_password", "")[:1024]
        new = request.form.get("new_password", "")[:1024]
        repeat = request.form.get("repeat_password", "")[:1024]
        if not verify_password(user, current):
            errors.append(_("The current password is wrong."))
        errors += [_(p) for p in password_problems(new, user.username)]
        if new != repeat:
            errors.append(_("The two new passwords differ."))
        if new and new == current:
            errors.append(_("Choose a password different from the current one."))
        if not errors:
            set_password(user, new, actor=user, must_change=False)
            session.rotate()
            login_user(user)  # set_password ended every session, this one included
            flash(_("Your password has been changed."), "success")
            return redirect(target or _landing())
    status = 422 if errors else 200
    return render_template(
        "web/change_password.html", errors=errors, next=target, forced=user.must_change_password
    ), status


@bp.get("/account")
@page_role(*ROLES)
def account():
    """The person's own account: name, role, region, password."""
    return render_template("web/account.html")


@bp.post("/language")
def set_language():
    """Switch the pages' language (kept in the session) and go back where the person was."""
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
        g.page_language = lang
    return redirect(safe_next(request.form.get("next"), "/"))
