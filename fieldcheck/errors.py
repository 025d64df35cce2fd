"""The one error envelope and the catalogue of stable error codes.

Every error leaves the service as ``{"error": {"code", "message", "details"}}``. Code raises
``ApiError`` (or a werkzeug HTTPException); the handlers registered here are the only place that
turns either into a response, so phones and tools can rely on ``code`` and never see a traceback.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, current_app, g, jsonify
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from fieldcheck.extensions import db
from fieldcheck.i18n import N_, localize, localize_details, request_language

log = logging.getLogger(__name__)

#: ``app.extensions`` key of the renderers that answer an error in another shape than the JSON
#: envelope: objects with ``wants_page()`` (true for the request at hand) and ``render(code,
#: message, details, status)``, tried in the order they were added (``add_error_renderer``):
#: OpenRosa's XML under ``/openrosa/`` (fieldcheck.openrosa.routes), then the web app's pages
#: (fieldcheck.web.errors). Plumbing knows neither.
ERROR_RENDERERS = "fieldcheck.error_renderers"


def add_error_renderer(app: Flask, renderer: Any) -> None:
    """Let ``renderer`` answer the errors of the requests it wants (see ``ERROR_RENDERERS``)."""
    app.extensions.setdefault(ERROR_RENDERERS, []).append(renderer)


#: code -> (HTTP status, default message). Codes are stable; messages may be improved. The
#: messages are msgids (``N_``), rendered in the request's language by ``error_response``.
CATALOGUE: dict[str, tuple[int, str]] = {
    "malformed_json": (400, N_("The request body is not valid JSON.")),
    "bad_request": (400, N_("The request could not be understood.")),
    "unauthorized": (401, N_("A valid bearer token is required.")),
    "forbidden": (403, N_("Your role does not allow this.")),
    "out_of_scope": (403, N_("This object is outside your region.")),
    "not_found": (404, N_("No such object.")),
    "method_not_allowed": (405, N_("This method is not allowed here.")),
    "not_acceptable": (406, N_("The requested representation is not available.")),
    "conflict": (409, N_("The request conflicts with the stored state.")),
    "submission_conflict": (409, N_("This submission_id was already used for a different body.")),
    "invalid_transition": (409, N_("This change is not allowed from the object's current state.")),
    "review_blocked": (409, N_("The inspection cannot be approved yet.")),
    "already_superseded": (409, N_("This inspection was already corrected by another submission.")),
    "payload_too_large": (413, N_("The request body is larger than allowed.")),
    "uri_too_long": (414, N_("The request line (URL) is longer than allowed.")),
    "unsupported_media_type": (415, N_("The content type is not supported here.")),
    "validation_failed": (422, N_("The request is well-formed but invalid.")),
    "invalid_image": (422, N_("The file is not a complete, acceptable image.")),
    "rate_limited": (429, N_("Too many requests; slow down.")),
    "headers_too_large": (431, N_("The request headers are larger than allowed.")),
    "internal_error": (500, N_("Something went wrong on our side; it has been logged.")),
    "unavailable": (503, N_("The service is temporarily unavailable; try again.")),
}

#: What a 503 asks clients to wait before they try again. A request gives up on a busy database
#: after the lock timeout (a few seconds); a phone resending sooner would only queue again.
RETRY_AFTER_SECONDS = 5

#: A busy, stalled or unreachable database: a lock or statement timeout, "database is locked"
#: (SQLite's busy timeout), a refused or timed-out connection (OperationalError), or no free
#: connection in the pool within its timeout. Each is a 503 the client may retry, never a 500.
UNAVAILABLE_ERRORS = (OperationalError, PoolTimeoutError)

_HTTP_TO_CODE = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    431: "headers_too_large",
}


class ApiError(Exception):
    """An error with a catalogue code; the handler renders it in the envelope."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        default_status, default_message = CATALOGUE[code]
        super().__init__(message or default_message)
        self.code = code
        self.status = status or default_status
        self.message = message or default_message
        self.details = details or {}


def field_errors(fields: dict[str, list[str]], message: str | None = None) -> ApiError:
    """A 422 whose ``details.fields`` maps dotted paths to lists of messages."""
    return ApiError("validation_failed", message, {"fields": fields})


def envelope(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The error body as a dict."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(
    code: str,
    message: str | None = None,
    details: dict[str, Any] | None = None,
    status: int | None = None,
):
    """The error envelope as a response, its messages in the language the request asks for
    (``Accept-Language``: English or Indonesian, fieldcheck.i18n); the only way one is built."""
    g.error_code = code  # for the request's metrics (fieldcheck.observability)
    for renderer in current_app.extensions.get(ERROR_RENDERERS, ()):
        if renderer.wants_page():
            # A person in a browser (fieldcheck.web), a phone speaking OpenRosa: the same error
            # in the shape and language they read.
            return renderer.render(code, message, details or {}, status or CATALOGUE[code][0])
    language = request_language()
    default_status, default_message = CATALOGUE[code]
    body = envelope(code, localize(message or default_message), localize_details(details or {}))
    response = jsonify(body)
    response.status_code = status or default_status
    response.headers["Content-Language"] = language
    response.vary.add("Accept-Language")
    return response


def unavailable_response(message: str | None = None):
    """503 ``unavailable`` in the envelope (or a page) with ``Retry-After``: the database is busy
    or down; nothing was stored, and the same request may be sent again."""
    response = error_response("unavailable", message)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def register_error_handlers(app: Flask) -> None:
    """Route every exception through the one envelope."""

    @app.errorhandler(ApiError)
    def handle_api_error(exc: ApiError):
        response = error_response(exc.code, exc.message, exc.details, exc.status)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="fieldcheck"'
        return response

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        original = getattr(exc, "original_exception", None)
        if isinstance(exc, InternalServerError) and isinstance(original, UNAVAILABLE_ERRORS):
            # Raised outside the view, where Flask only offers a 500 (a web session read or
            # written while the database is busy): still the 503 it is.
            return handle_unavailable(original)
        status = exc.code or 500
        code = _HTTP_TO_CODE.get(status, "internal_error" if status >= 500 else "bad_request")
        details: dict[str, Any] = {}
        if status == 405 and getattr(exc, "valid_methods", None):
            details["allowed"] = sorted(exc.valid_methods)
        response = error_response(code, None, details, status)
        if status == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        return response

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(exc: IntegrityError):
        # A constraint caught what the service layer did not: a conflict, never a 500.
        db.session.rollback()
        log.warning("integrity error turned into 409: %s", exc.orig)
        return error_response("conflict", N_("The change conflicts with stored data."))

    @app.errorhandler(DataError)
    def handle_data_error(exc: DataError):
        # A value the database cannot store (out of range for its column...). Validation should
        # have caught it; answering 422 keeps a schema gap from becoming a 500.
        db.session.rollback()
        log.warning("data error turned into 422: %s", exc.orig)
        return error_response("validation_failed", N_("A value cannot be stored as given."))

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeoutError)
    def handle_unavailable(exc: Exception):
        try:
            db.session.rollback()
        except UNAVAILABLE_ERRORS:  # the connection itself is gone: nothing left to undo
            log.warning("rollback after a database error failed", exc_info=True)
        log.error("database unavailable: %s", getattr(exc, "orig", None) or exc)
        return unavailable_response()

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response("internal_error")


def http_error_response(status: int, reason: str) -> bytes:
    """A complete HTTP/1.1 error response in the envelope, for a server that answers before the
    app is reached (gunicorn on an over-long request line or headers: deploy/gunicorn.conf.py)."""
    code = _HTTP_TO_CODE.get(status, "internal_error" if status >= 500 else "bad_request")
    body = json.dumps(envelope(code, str(CATALOGUE[code][1]))).encode()  # English: no request
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body
