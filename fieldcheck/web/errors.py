"""Errors as pages: a person in a browser gets the error in their language, not JSON.

Registered with ``errors.add_error_renderer`` so the one error path (``errors.error_response``)
renders a page for every request outside the API; the code, status and message are the same.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, g, make_response, render_template, request, session
from flask.globals import request_ctx
from markupsafe import escape

from fieldcheck.errors import CATALOGUE
from fieldcheck.i18n import CONTENT_DEFAULT, localize, localize_details

log = logging.getLogger(__name__)

#: Paths answered in JSON even from a browser: the API, its document, the health check.
API_PREFIXES = ("/api/", "/healthz", "/metrics")


class PageErrors:
    """Renders the error envelope's content as ``web/error.html``."""

    @staticmethod
    def wants_page() -> bool:
        """True for a request to a page (anything outside the API)."""
        return not request.path.startswith(API_PREFIXES)

    @staticmethod
    def render(code: str, message: Any, details: dict[str, Any], status: int):
        """The error page (status kept) in the page language."""
        if not g.get("page_language"):
            g.page_language = _chosen_language() or CONTENT_DEFAULT
        text = localize(message or CATALOGUE[code][1])
        fields = localize_details(details).get("fields") or {}
        try:
            body = render_template(
                "web/error.html", code=code, status=status, message=text, fields=fields
            )
        except Exception:  # the error page itself failed: still a readable page, no traceback
            log.exception("error page failed")
            body = f"<!doctype html><title>{status}</title><h1>{escape(text)}</h1>"
        return make_response(body, status)


def _chosen_language() -> str | None:
    """The language the person chose, if their session could be read.

    A busy database can make opening the session fail (the 503 page); Flask then has none, and
    the layout (the login's name, the language switch) could not render. The page gets Flask's
    null session: it renders as for a visitor, and nothing is saved at the end of the request.
    """
    ctx = request_ctx._get_current_object()
    if ctx._session is None:  # Flask keeps no public way to ask "was it opened?"
        ctx._session = current_app.session_interface.make_null_session(current_app)
        return None
    return session.get("lang")
