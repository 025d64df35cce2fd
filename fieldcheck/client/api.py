"""A small client of fieldcheck's JSON API: a checklist and a photo, with retries.

Only ``requests`` and the standard library: this module is installed on surveyors' and regional
offices' machines without the server (docs/decisions.md, "Issue 15: sync client").

Every answer maps to one :class:`Outcome`. Network errors, 5xx and 429 are retried with
exponential backoff and jitter, capped, and a ``Retry-After`` from the server is honoured: the
server is idempotent on ``submission_id`` and a photo's sha256, so sending the same request again
never makes a duplicate.
"""

from __future__ import annotations

import email.utils
import mimetypes
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import requests

#: The API endpoints this client uses (method, path). tests/client checks each is in the
#: server's OpenAPI document: the client speaks only the documented API.
ENDPOINTS: dict[str, tuple[str, str]] = {
    "inspections": ("post", "/api/v1/inspections"),
    "photos": ("post", "/api/v1/photos"),
}

USER_AGENT = "fieldcheck-sync/0.1"

#: Statuses after which the same request may succeed later: the server was busy, restarting, or
#: behind a proxy that lost it. 500 is included: an unexpected error may be passing, and a resend
#: is harmless because intake is idempotent.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class Outcome(StrEnum):
    """What became of one request (or one file), as the sync report shows it."""

    CREATED = "created"  #: 201: stored now
    ALREADY_PRESENT = "already_present"  #: 200: the server had exactly this already
    CONFLICT = "conflict"  #: 409: the server has another body under this submission_id
    REJECTED = "rejected"  #: 4xx: the server refused it (422 with its field errors)
    FAILED = "failed"  #: gave up after the retries (network, 5xx, 429)


#: Outcomes meaning the server holds what was sent.
ACCEPTED = frozenset({Outcome.CREATED, Outcome.ALREADY_PRESENT})


class AuthError(Exception):
    """The server refused the token (401): nothing else can succeed, so the run stops."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry.

    The wait before retry ``n`` (0-based) is drawn from ``[d/2, d]`` with
    ``d = min(cap_seconds, base_seconds * 2**n)`` ("equal jitter": it grows for sure, and many
    clients that failed together do not come back together). A ``Retry-After`` answer is waited
    exactly, up to ``max_retry_after_seconds``.
    """

    attempts: int = 6
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    max_retry_after_seconds: float = 300.0

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (0 = the first retry)."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2**retry))
        return rng.uniform(ceiling / 2, ceiling)


@dataclass
class Result:
    """One request's outcome, with the server's answer when there was one."""

    outcome: Outcome
    status: int | None = None
    body: dict[str, Any] | None = None
    message: str | None = None
    attempts: int = 1
    waits: list[float] = field(default_factory=list)
    retry_after: str | None = None  #: the answer's Retry-After header, as sent

    @property
    def error(self) -> dict[str, Any]:
        """The error envelope's inner object (``code``, ``message``, ``details``), or {}."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"]
        return {}

    @property
    def fields(self) -> dict[str, Any]:
        """The server's field errors of a 422 (``details.fields``: dotted path -> messages)."""
        details = self.error.get("details")
        fields = details.get("fields") if isinstance(details, dict) else None
        return fields if isinstance(fields, dict) else {}


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header in seconds (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Client:
    """fieldcheck's JSON API for one token: post checklists, upload photos."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (10.0, 120.0),
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT})
        # Injected so tests see the waits without waiting, and may fix the jitter.
        self.sleep = sleep
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security

    def submit_inspection(self, body: dict[str, Any]) -> Result:
        """POST a checklist (the JSON API's body): created, already present, conflict, ..."""
        method, path = ENDPOINTS["inspections"]
        return self._send(method, path, lambda: {"json": body})

    def upload_photo(self, data: bytes, filename: str) -> Result:
        """POST a photo as the multipart field ``file``: 201 new, 200 already stored."""
        method, path = ENDPOINTS["photos"]
        mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return self._send(method, path, lambda: {"files": {"file": (filename, data, mime)}})

    def _send(self, method: str, path: str, payload: Callable[[], dict[str, Any]]) -> Result:
        """Send until an answer that is final, or the attempts run out (FAILED)."""
        waits: list[float] = []
        last = Result(Outcome.FAILED, message="not sent")
        for attempt in range(1, self.retry.attempts + 1):
            last = self._once(method, path, payload())
            last.attempts, last.waits = attempt, waits
            if last.outcome is not Outcome.FAILED or attempt == self.retry.attempts:
                return last
            wait = self._wait_for(last, attempt - 1)
            if wait is None:
                return last
            waits.append(wait)
            self.sleep(wait)
        return last

    def _wait_for(self, result: Result, retry: int) -> float | None:
        """Seconds to wait before retrying ``result`` (None: the server's wait is too long)."""
        asked = retry_after_seconds(result.retry_after)
        if asked is None:
            return self.retry.backoff(retry, self.rng)
        if asked > self.retry.max_retry_after_seconds:
            result.message = f"{result.message}; the server asked to wait {asked:.0f} s"
            return None
        return asked

    def _once(self, method: str, path: str, payload: dict[str, Any]) -> Result:
        try:
            response = self.session.request(
                method, self.base_url + path, timeout=self.timeout, **payload
            )
        except requests.RequestException as exc:  # refused, reset, timed out, DNS...
            return Result(Outcome.FAILED, message=f"network: {type(exc).__name__}: {exc}")
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        result = Result(_outcome(response.status_code), response.status_code, body)
        result.retry_after = response.headers.get("Retry-After")
        if not isinstance(body, dict):
            result.body = None  # a proxy's HTML page, or JSON that is not the envelope
        error = result.error
        result.message = error.get("message") or (
            None if response.ok else f"HTTP {response.status_code}"
        )
        if response.status_code == 401:
            raise AuthError(result.message or "unauthorized")
        return result


def _outcome(status: int) -> Outcome:
    if status == 201:
        return Outcome.CREATED
    if status == 200:
        return Outcome.ALREADY_PRESENT
    if status == 409:
        return Outcome.CONFLICT
    if status in RETRY_STATUSES or status >= 500:
        return Outcome.FAILED
    return Outcome.REJECTED
