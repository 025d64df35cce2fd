"""Errors as pages: a person in a browser gets the error in their language, not JSON.

Registered in ``app.extensions[PAGE_ERRORS]`` so the one error path (``errors.error_response``)
renders a page for every request outside the API; the code, status and message are the same.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import g, make_response, render_template, request, session
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
            g.page_language = session.get("lang") or CONTENT_DEFAULT
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
