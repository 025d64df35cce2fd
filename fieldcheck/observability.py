"""What operators see of a running service: request ids, structured logs, Prometheus metrics.

Every request gets an id (the proxy's ``X-Request-ID`` when it is sane, else a new one), echoed
in the response and carried by every log line written while the request runs, with the method,
the route (endpoint name) and the user id. One log line per request (logger
``fieldcheck.request``) says its status and duration: gunicorn's own access log stays off.
Log lines are JSON (``LOG_FORMAT = "json"``, python-json-logger) or text for people.

Metrics are prometheus_client's. Under gunicorn every worker (and the scheduler) writes its
samples to files in ``PROMETHEUS_MULTIPROC_DIR`` (deploy/gunicorn.conf.py sets and cleans it),
and ``GET /metrics`` (fieldcheck.system) sums them; without that variable (``flask run``, tests)
the metrics live in the one process. Nothing here may log a token, a password, a cookie or a
person's name: ids only, and database error details are cut (``redact``).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from prometheus_client import Counter, Histogram
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import inspect as sa_inspect

REQUEST_ID_HEADER = "X-Request-ID"
#: A proxy's request id is kept when it is short and plain (nginx's $request_id is 32 hex
#: digits); anything else (newlines, quotes, 4 kB) could forge or bloat log lines: a new one.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: The phone's checklist submission, counted by outcome as well.
INTAKE_ENDPOINT = "inspections.create_inspection"

REQUESTS = Counter(
    "fieldcheck_http_requests",
    "HTTP requests answered, by endpoint name, method and status class",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "fieldcheck_http_request_duration_seconds",
    "Time from the app seeing a request to its response being ready, by endpoint name",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
INTAKE = Counter(
    "fieldcheck_intake_submissions",
    "Checklist submissions (POST /api/v1/inspections) by outcome",
    ["outcome"],
)

request_log = logging.getLogger("fieldcheck.request")


def init_app(app: Flask) -> None:
    """Configure logging; give each request an id, a log line and its metrics.

    Called before any other request hook is registered, so the id exists for every other hook
    and the closing hook runs last (Flask runs ``after_request`` hooks in reverse), after the
    commit has decided the final status.
    """
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        # prometheus_client writes there at the first sample; a missing folder would fail
        # the first request instead of the start.
        os.makedirs(directory, exist_ok=True)
    app.before_request(_start)
    app.after_request(_finish)


def request_id() -> str | None:
    """The current request's id (None outside a request)."""
    return g.get("request_id") if has_request_context() else None


def _start() -> None:
    g.request_started = time.perf_counter()
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = offered if _SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex


def _finish(response: Response) -> Response:
    # A hook before ours may have refused the request (a rate limit): the id is made here then.
    rid = g.get("request_id") or uuid.uuid4().hex
    g.request_id = rid
    response.headers[REQUEST_ID_HEADER] = rid
    elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
    # The endpoint name, never the path: paths carry ids and would make a series per object.
    endpoint = request.endpoint or "unmatched"
    method = request.method if request.method in _METHODS else "other"
    status = response.status_code
    status_class = f"{status // 100}xx"
    REQUESTS.labels(endpoint, method, status_class).inc()
    LATENCY.labels(endpoint, method, status_class).observe(elapsed)
    if endpoint == INTAKE_ENDPOINT and method == "POST":
        INTAKE.labels(intake_outcome(status, g.get("error_code"))).inc()
    request_log.info(
        "%s %s %s",
        method,
        endpoint,
        status,
        # The path (without the query: it may hold search text) shows which object; a token
        # in it (ODK Collect's key URL) never reaches the log.
        extra={
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
            "path": redact_path(request.path),
        },
    )
    return response


def intake_outcome(status: int, error_code: str | None) -> str:
    """The outcome label of one checklist submission, from its status and error code."""
    if status == 201:
        return "created"
    if status == 200:
        return "resend"
    if status in (400, 413, 415, 422):
        return "invalid"
    if status == 403:
        return "out_of_scope" if error_code == "out_of_scope" else "forbidden"
    if status == 409:
        return "conflict"
    return {401: "unauthorized", 429: "rate_limited", 503: "unavailable"}.get(
        status, "error" if status >= 500 else "other"
    )


# ---- logs -----------------------------------------------------------------------------------

#: Record attributes every line carries (None outside a request).
CONTEXT_FIELDS = ("request_id", "method", "route", "user_id")
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
#: ODK Collect's server URL carries an API token (fieldcheck.auth.collect): any path quoted in
#: a log line (the request line, werkzeug's dev server lines, a traceback) shows
#: ``/openrosa/key/<redacted>/...``.
_KEY_IN_PATH = re.compile(r"(/openrosa/key/)[^/?#\s\"'<>]+")
#: Cut from log text: SQL parameters and PostgreSQL's DETAIL echo the stored values (names,
#: usernames, phone numbers of a row that failed a constraint).
_REDACTIONS = (
    (re.compile(r"\[parameters: .*?\]( \(Background on this error)?", re.S), r"[parameters: …]\1"),
    (re.compile(r"DETAIL: .*"), "DETAIL: …"),
    (re.compile(r"(Key \([^)]*\)=)\(.*?\)"), r"\1(…)"),
    (_KEY_IN_PATH, r"\1<redacted>"),
)


def redact_path(path: str) -> str:
    """``path`` with the token of an ODK Collect key URL replaced by ``<redacted>``."""
    return _KEY_IN_PATH.sub(r"\1<redacted>", path)


def redact(text: str) -> str:
    """``text`` without SQL parameter values or database error details."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class _Redacting(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if record.args:
            record.msg, record.args = record.getMessage(), None
        record.msg = redact(str(record.msg))
        return super().format(record)

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(ei))


class TextFormatter(_Redacting):
    """``time LEVEL logger [request id] message``: for a person reading a terminal."""

    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT, defaults=dict.fromkeys(CONTEXT_FIELDS, "-"))

    def format(self, record: logging.LogRecord) -> str:
        """The line, with ``-`` for a request id outside a request (a copy: other handlers
        still see None)."""
        if getattr(record, "request_id", None) is None:
            record = logging.makeLogRecord({**record.__dict__, "request_id": "-"})
        return super().format(record)


class JsonLineFormatter(_Redacting, JsonFormatter):
    """One JSON object per line: timestamp, level, logger, message, and the request context."""

    def __init__(self) -> None:
        JsonFormatter.__init__(
            self,
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,  # ISO 8601, UTC
        )


def make_formatter(log_format: str = "json") -> logging.Formatter:
    """The formatter for ``LOG_FORMAT`` (also named in deploy/gunicorn.conf.py's log config)."""
    return JsonLineFormatter() if log_format == "json" else TextFormatter()


def configure_logging(level: str, log_format: str) -> None:
    """Root level and format; every record gets the request context (see module doc).

    A handler is added only where none is set up: under gunicorn its log config already put
    the same formatter on the root logger; under pytest the capture handlers are left alone.
    """
    if not getattr(logging.getLogRecordFactory(), "fieldcheck", False):
        logging.setLogRecordFactory(_context_factory(logging.getLogRecordFactory()))
    root = logging.getLogger()
    root.setLevel(level)
    ours = [h for h in root.handlers if getattr(h, "fieldcheck", False)]
    if ours:
        ours[0].setFormatter(make_formatter(log_format))
    elif not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.fieldcheck = True  # type: ignore[attr-defined]
        handler.setFormatter(make_formatter(log_format))
        root.addHandler(handler)


def _context_factory(base: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        if has_request_context():
            record.request_id = g.get("request_id")
            record.method = request.method
            record.route = request.endpoint
            record.user_id = _user_id()
        else:
            for name in CONTEXT_FIELDS:
                setattr(record, name, None)
        return record

    factory.fieldcheck = True  # type: ignore[attr-defined]
    return factory


def _user_id() -> int | None:
    user = g.get("user")
    if user is None:
        return None
    # The identity map's key, not ``user.id``: reading an attribute of an expired object would
    # run a query from inside logging (after the commit every attribute is expired).
    state = sa_inspect(user, raiseerr=False)
    identity = state.identity if state is not None else None
    return identity[0] if identity else None
