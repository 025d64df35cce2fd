"""Who may open a page: the API's role and region rules, applied to the logged-in person.

A page view is decorated with ``page_role(...)``: a visitor who is not logged in goes to the login
page (and comes back after), one who must change their password goes there first, and a role that
does not fit gets the same 403 the API gives (``auth.services.check_role``). Region scope is the
services' business, exactly as for the API: the page passes ``current_user`` to them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import g, redirect, request, url_for
from flask_login import current_user

from fieldcheck.auth.models import ROLES, User
from fieldcheck.auth.services import check_role

#: Every role that may use the web app (surveyors use phones, but may see their own work).
STAFF = ("supervisor", "admin")


def page_role(*roles: str) -> Callable:
    """Decorate a page view: logged in (else the login page), password changed, and a role."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if not current_user.is_authenticated:
                return redirect(url_for("web.login", next=_here()))
            user: User = current_user._get_current_object()
            if user.must_change_password:
                return redirect(url_for("web.change_password", next=_here()))
            g.user = check_role(user, roles)  # the services and the audit log read g.user
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the page tests (every page is guarded)
        return wrapped

    return decorator


def _here() -> str:
    """The path (and query) to come back to after logging in; only ever a local path."""
    return request.full_path.rstrip("?") if request.query_string else request.path


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default`` (no open redirect).

    Browsers drop tabs and newlines from a URL and read a backslash as a slash, so
    "/\t/evil.example" would leave the site: any control character, space or backslash is
    refused, and what is left must parse with neither scheme nor host.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if any(ch < " " or ch == "\x7f" or ch.isspace() or ch == "\\" for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
