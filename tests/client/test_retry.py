"""The client's retries against real local HTTP servers (http.server in a thread): a 503 or 429
with Retry-After is waited exactly, a dropped connection is retried with growing, capped,
jittered waits, and a run through a proxy that answers 503 once still lands every checklist."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from fieldcheck.client.api import Client, Outcome, RetryPolicy, retry_after_seconds
from fieldcheck.client.sync import REPORT_NAME
from tests.client.conftest import run_sync, write_folder
from tests.helpers import count_rows

#: An answer: (status, headers, body) or None to drop the connection without answering.
Answer = tuple[int, dict[str, str], bytes] | None


@dataclass
class Receiver:
    """A running local HTTP server: its URL and the (method, path, body) it received."""

    url: str
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)


@contextmanager
def receiver(answer: Callable[[BaseHTTPRequestHandler, bytes], Answer]) -> Iterator[Receiver]:
    """A local HTTP server answering each request with ``answer(handler, body)``."""
    got = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            got.requests.append((self.command, self.path, body))
            result = answer(self, body)
            if result is None:
                self.close_connection = True
                return  # nothing written: the client sees the connection drop
            status, headers, payload = result
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _any  # noqa: N815 - http.server's method names

        def log_message(self, *args) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    got.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()


def _json(status: int, body: dict, **headers: str) -> Answer:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode()


CREATED = {"id": 7, "photos": {"expected": [], "received": [], "missing": []}}
BUSY = {"error": {"code": "unavailable", "message": "The database is busy; try again."}}


def _client(url: str, waits: list[float], **policy) -> Client:
    return Client(url, "token-x", retry=RetryPolicy(**policy), sleep=waits.append)


def _in_order(*answers: Answer) -> Callable[[BaseHTTPRequestHandler, bytes], Answer]:
    queue = list(answers)
    return lambda _handler, _body: queue.pop(0) if len(queue) > 1 else queue[0]


def test_a_503_with_retry_after_is_waited_exactly_then_sent_again_unchanged():
    with receiver(_in_order(_json(503, BUSY, **{"Retry-After": "7"}), _json(201, CREATED))) as got:
        waits: list[float] = []
        result = _client(got.url, waits).submit_inspection({"submission_id": "a"})
    assert result.outcome is Outcome.CREATED and result.attempts == 2
    assert waits == [7.0]
    assert [(m, p) for m, p, _ in got.requests] == [("POST", "/api/v1/inspections")] * 2
    assert (
        got.requests[0][2] == got.requests[1][2]
    )  # the same bytes again: the server dedupes on submission_id


def test_a_429_with_an_http_date_is_honoured():
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    limited = {"error": {"code": "rate_limited", "message": "Too many requests."}}
    with receiver(
        _in_order(_json(429, limited, **{"Retry-After": later}), _json(200, CREATED))
    ) as got:
        waits: list[float] = []
        result = _client(got.url, waits).submit_inspection({"submission_id": "a"})
    assert result.outcome is Outcome.ALREADY_PRESENT
    assert len(waits) == 1 and 100 < waits[0] <= 120


def test_a_retry_after_beyond_the_limit_ends_as_failed_without_waiting():
    with receiver(_in_order(_json(503, BUSY, **{"Retry-After": "3600"}))) as got:
        waits: list[float] = []
        result = _client(got.url, waits, max_retry_after_seconds=60).submit_inspection({})
    assert result.outcome is Outcome.FAILED and waits == [] and len(got.requests) == 1
    assert "3600" in result.message


def test_dropped_connections_back_off_exponentially_with_jitter_and_a_cap():
    with receiver(lambda _h, _b: None) as got:
        waits: list[float] = []
        policy = {"attempts": 8, "base_seconds": 1.0, "cap_seconds": 10.0}
        result = _client(got.url, waits, **policy).submit_inspection({})
    assert result.outcome is Outcome.FAILED and result.attempts == 8 and len(got.requests) == 8
    assert "network" in result.message
    ceilings = [1, 2, 4, 8, 10, 10, 10]
    assert len(waits) == 7
    for wait, ceiling in zip(waits, ceilings, strict=True):
        assert ceiling / 2 <= wait <= ceiling
    assert len(set(waits)) > 1  # jittered, not a fixed schedule


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (201, Outcome.CREATED),
        (200, Outcome.ALREADY_PRESENT),
        (409, Outcome.CONFLICT),
        (422, Outcome.REJECTED),
        (403, Outcome.REJECTED),
        (413, Outcome.REJECTED),
    ],
)
def test_final_answers_are_not_retried(status, outcome):
    with receiver(_in_order(_json(status, CREATED if status < 300 else BUSY))) as got:
        waits: list[float] = []
        result = _client(got.url, waits).submit_inspection({})
    assert (result.outcome, len(got.requests), waits) == (outcome, 1, [])


def test_a_proxy_page_is_retried_as_a_5xx():
    page = (502, {"Content-Type": "text/html"}, b"<html>Bad Gateway</html>")
    with receiver(_in_order(page, _json(201, CREATED))) as got:
        waits: list[float] = []
        result = _client(got.url, waits, base_seconds=0.01).submit_inspection({})
    assert result.outcome is Outcome.CREATED and len(waits) == 1


def test_retry_after_parsing():
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("30", now) == 30
    assert retry_after_seconds("Sat, 05 Dec 2026 12:00:45 GMT", now) == 45
    assert retry_after_seconds("Sat, 05 Dec 2026 11:00:00 GMT", now) == 0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_sync_through_a_proxy_that_is_busy_once_lands_every_checklist(
    app, factory, served, tmp_path
):
    """fieldcheck-sync (a process) through a proxy answering the first checklist 503 with
    Retry-After: 1; every other request goes on to gunicorn."""
    state = {"busy": 1}

    def proxy(handler: BaseHTTPRequestHandler, body: bytes) -> Answer:
        if handler.path == "/api/v1/inspections" and state["busy"]:
            state["busy"] -= 1
            return _json(503, BUSY, **{"Retry-After": "1"})
        headers = {k: v for k, v in handler.headers.items() if k.lower() != "host"}
        upstream = requests.request(
            handler.command, served.url + handler.path, data=body, headers=headers, timeout=60
        )
        keep = {"Content-Type", "Retry-After"}
        return (
            upstream.status_code,
            {k: v for k, v in upstream.headers.items() if k in keep},
            upstream.content,
        )

    from fieldcheck.inspections.models import Inspection

    folder = tmp_path / "kiriman"
    write_folder(folder, factory, 5, photo_every=2)
    with receiver(proxy) as got:
        done = run_sync(folder, served, "--server", got.url)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((folder / REPORT_NAME).read_text(encoding="utf-8"))
    assert report["summary"]["created"] == 5
    assert count_rows(app, Inspection) == 5
    posts = [p for _m, p, _ in got.requests if p == "/api/v1/inspections"]
    assert len(posts) == 6  # the refused one was sent again
    assert sum(p == "/api/v1/photos" for _m, p, _ in got.requests) == 3
