"""The supervisors' web app: server-rendered pages over the same services as the API.

``init_app`` binds the server-side sessions, Flask-Login, CSRF, the login rate limit, the security
headers and the error pages, then mounts the one ``web`` blueprint whose views live in the page
modules below (one per area of the product). Pages are a shell: they call the services the API
calls, with the same role check (``auth.services.check_role``) and the same region scope.
"""

from __future__ import annotations

from flask import Flask, Response, g, request, session
from flask_wtf.csrf import CSRFError

from fieldcheck.auth.models import User
from fieldcheck.errors import add_error_renderer, error_response
from fieldcheck.extensions import csrf, db, login_manager
from fieldcheck.i18n import CONTENT_DEFAULT, LANGUAGES, N_
from fieldcheck.web import formatting, nav, zones
from fieldcheck.web.blueprint import bp
from fieldcheck.web.errors import PageErrors
from fieldcheck.web.sessions import DatabaseSessionInterface

#: Scripts and styles only from this site; no inline script; nobody may frame the pages.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def init_app(app: Flask) -> None:
    """Mount the web app on ``app``."""
    app.config["SESSION_COOKIE_NAME"] = "fieldcheck_session"  # not Flask's generic "session"
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    # CSRF is checked by the web blueprint (below), not on the API's bearer-token endpoints.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    # A form stays valid as long as the login does (WEB_SESSION_HOURS), not one hour.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.session_interface = DatabaseSessionInterface()
    csrf.init_app(app)
    # The limiter is bound by fieldcheck.ratelimits (every request); the login form adds its own.
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.user_loader(_load_user)
    add_error_renderer(app, PageErrors())
    formatting.init_app(app)
    nav.init_app(app)
    zones.init_app(app)

    # The page modules add their views to ``bp`` when imported.
    from fieldcheck.web import (  # noqa: F401
        admin,
        exports,
        inspections,
        interviews,
        login,
        methodologies,
        overview,
        places,
        reports,
        review,
        runs,
        units,
        webhooks,
    )

    app.register_blueprint(bp)

    @app.errorhandler(CSRFError)
    def refuse_csrf(_exc: CSRFError):
        return error_response(
            "bad_request",
            N_(
                "This form has expired or did not come from this site. Reload the page and try "
                "again."
            ),
        )

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response


def _load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the active user a session names (a deactivated one is logged out)."""
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None


@bp.before_request
def page_boundary() -> None:
    """Every page: the person's language (Indonesian unless they chose English), CSRF on posts."""
    lang = session.get("lang")
    g.page_language = lang if lang in LANGUAGES else CONTENT_DEFAULT
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()


@bp.after_request
def cache_assets(response: Response) -> Response:
    """Vendored assets may be cached (they change only with a release); pages may not."""
    if request.endpoint == "web.static":
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = 3600
    return response
