"""Webhook fixtures: a real HTTP receiver on 127.0.0.1 (http.server in a thread), an app that
may deliver to it (private targets allowed, tiny backoff), and a helper that runs the worker."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select

from fieldcheck.extensions import db
from tests.helpers import auth

WEBHOOKS = "/api/v1/webhooks"


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local HTTP server answering POSTs with scripted statuses (then ``default``)."""

    statuses: list[int] = field(default_factory=list)
    default: int = 200
    #: When set, each request waits for it before answering (a slow receiver).
    gate: threading.Event | None = None
    requests: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                receiver.arrived.set()
                if receiver.gate is not None:
                    receiver.gate.wait(60)
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                answer = json.dumps({"ok": status < 300}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in self.requests if r.headers.get("X-Fieldcheck-Event-Type") == event_type]

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    """A receiver that answers 200 (set ``statuses``/``default``/``gate`` to change that)."""
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def hooks_app(app):
    """The test app allowed to deliver to 127.0.0.1, with a tiny backoff and 3 attempts."""
    app.config.update(
        WEBHOOKS_ALLOW_PRIVATE_TARGETS=True,
        WEBHOOKS_BACKOFF_SECONDS=0.01,
        WEBHOOKS_BACKOFF_MAX_SECONDS=0.02,
        WEBHOOKS_MAX_ATTEMPTS=3,
        WEBHOOKS_CONNECT_TIMEOUT_SECONDS=2.0,
        WEBHOOKS_READ_TIMEOUT_SECONDS=10.0,
    )
    return app


def register(client, token: str, url: str, types: list[str], **extra: Any) -> dict:
    """POST an endpoint; returns the answer's JSON (with the secret)."""
    response = client.post(
        WEBHOOKS, json={"url": url, "event_types": types, **extra}, headers=auth(token)
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def pending(app) -> int:
    """Deliveries still pending plus outbox events not fanned out yet."""
    from fieldcheck.outbox.models import OutboxEvent
    from fieldcheck.webhooks.models import WebhookDelivery

    with app.app_context():
        waiting = db.session.execute(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.state == "pending")
        ).scalar_one()
        unfanned = db.session.execute(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.delivered_at.is_(None))
        ).scalar_one()
        db.session.remove()
        return waiting + unfanned


def work(app, limit: float = 60.0) -> None:
    """Run worker passes until nothing is pending (retries become due after the tiny backoff).
    ``limit`` only bounds a broken worker; nothing here asserts on time."""
    from fieldcheck.webhooks.worker import drain

    deadline = time.monotonic() + limit
    while True:
        drain(app)
        if pending(app) == 0:
            return
        assert time.monotonic() < deadline, "the worker left deliveries pending"
        time.sleep(0.02)


# The web app's fixtures (demo world, live server, headless Chromium) for the admin pages.
from tests.web.conftest import browser, chromium, demo, live_server  # noqa: E402, F401
