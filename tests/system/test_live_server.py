"""Real HTTP against a real server process: durability across kill -9, concurrent resends."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from fieldcheck.inspections.models import Inspection
from tests.helpers import count_rows

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A gunicorn process serving the app on the test database."""

    def __init__(self, database_url: str, workers: int = 1, threads: int = 8) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDCHECK_")}
        env["FIELDCHECK_DATABASE_URL"] = database_url
        self.proc = subprocess.Popen(  # noqa: S603 - our own server binary and arguments
            [
                str(GUNICORN),
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--bind",
                f"127.0.0.1:{self.port}",
                "app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            # Gunicorn accepts connections before a worker has booted; under load the first
            # answer can take longer than the 1 s read timeout. Both mean "not up yet".
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        self.kill()
        raise RuntimeError("server did not start: " + self.proc.stderr.read().decode()[-2000:])

    def kill(self) -> None:
        """SIGKILL the whole process group: no graceful shutdown, no flush."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc.stderr.close()


@pytest.fixture
def seeded(factory, database_url):
    """Demo units and a Jawa Timur surveyor; returns (database url, token)."""
    factory.units()
    return database_url, factory.user("surveyor", "35")[1]


def test_accepted_submission_survives_kill_9_right_after_201(factory, seeded):
    database_url, token = seeded
    headers = {"Authorization": f"Bearer {token}"}
    body = factory.submission()
    server = Server(database_url)
    try:
        response = requests.post(
            server.url + "/api/v1/inspections", json=body, headers=headers, timeout=30
        )
        assert response.status_code == 201
    finally:
        server.kill()  # immediately after the 201: nothing gets a chance to flush later
    created = response.json()
    restarted = Server(database_url)
    try:
        stored = requests.get(
            f"{restarted.url}/api/v1/inspections/{created['id']}", headers=headers, timeout=10
        )
        assert stored.status_code == 200
        assert stored.json()["score"] == created["score"]
        assert stored.json()["findings"] == created["findings"]
        resend = requests.post(
            restarted.url + "/api/v1/inspections", json=body, headers=headers, timeout=30
        )
        assert (resend.status_code, resend.json()["id"]) == (200, created["id"])
    finally:
        restarted.kill()


def test_concurrent_resends_store_one_inspection(factory, seeded, app):
    database_url, token = seeded
    headers = {"Authorization": f"Bearer {token}"}
    body = factory.submission()
    server = Server(database_url, workers=2, threads=4)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            responses = list(
                pool.map(
                    lambda _: requests.post(
                        server.url + "/api/v1/inspections", json=body, headers=headers, timeout=60
                    ),
                    range(8),
                )
            )
    finally:
        server.kill()
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 7 + [201], [r.text[:200] for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert count_rows(app, Inspection) == 1


def test_what_gunicorn_refuses_is_answered_in_the_envelope_too(factory, seeded):
    """Errors raised before the app is reached (gunicorn's own limits) and a chunked body past
    the size limit (no Content-Length to check up front) get the one JSON envelope."""
    database_url, token = seeded
    headers = {"Authorization": f"Bearer {token}"}
    server = Server(database_url)
    try:
        long_url = requests.get(f"{server.url}/api/v1/units?q={'x' * 5000}", timeout=10)
        huge_header = requests.get(
            server.url + "/api/v1/units", headers={"X-Big": "y" * 9000}, timeout=10
        )
        for response, status, code in (
            (long_url, 414, "uri_too_long"),
            (huge_header, 431, "headers_too_large"),
        ):
            assert response.status_code == status
            assert response.headers["Content-Type"] == "application/json"
            assert response.json()["error"]["code"] == code

        body = json.dumps(factory.submission()).encode() + b" " * 1_200_000

        def chunks():  # a generator body: requests sends it chunked, without Content-Length
            for start in range(0, len(body), 65536):
                yield body[start : start + 65536]

        chunked = requests.post(
            server.url + "/api/v1/inspections",
            data=chunks(),
            headers={**headers, "Content-Type": "application/json"},
            timeout=30,
        )
        assert chunked.status_code == 413
        assert chunked.json()["error"]["code"] == "payload_too_large"
        listing = requests.get(server.url + "/api/v1/inspections", headers=headers, timeout=10)
        assert listing.json()["total"] == 0
    finally:
        server.kill()
