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
from tests.helpers import count_rows, post_json

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
                "-c",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
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


def test_racing_requests_on_one_object_take_effect_once(client, factory, database_url, runner):
    """Several app processes, one object, requests at the same instant (what PostgreSQL in
    production sees; SQLite serialises them anyway): one objection decision wins and the finding
    follows it; one publish changes the official run; each is audited once."""
    from tests.world import make_world

    world = make_world(client, factory)
    inspection = world.post_with_findings()
    finding = inspection["findings"][0]
    objection = post_json(
        client,
        f"/api/v1/findings/{finding['id']}/objections",
        {"text": "Papan biaya sudah diganti sebelum kunjungan", "photos": []},
        world.token("supervisor"),
    ).get_json()
    assert runner.invoke(args=["rescore", "--period", "2026", "--no-progress"]).exit_code == 0
    supervisor = {"Authorization": f"Bearer {world.token('supervisor')}"}
    admin = {"Authorization": f"Bearer {world.token('admin')}"}
    server = Server(database_url, workers=3, threads=4)
    try:
        decide = f"{server.url}/api/v1/objections/{objection['id']}/decision"
        with ThreadPoolExecutor(max_workers=8) as pool:
            decisions = list(
                pool.map(
                    lambda d: requests.post(
                        decide,
                        json={"decision": d, "reason": "Bukti"},
                        headers=supervisor,
                        timeout=60,
                    ),
                    ["upheld", "dismissed"] * 4,
                )
            )
        won = [r for r in decisions if r.status_code == 200]
        assert len(won) == 1, [r.status_code for r in decisions]
        assert {r.status_code for r in decisions if r not in won} == {409}
        shown = requests.get(
            f"{server.url}/api/v1/inspections/{inspection['id']}", headers=supervisor, timeout=10
        ).json()
        withdrawn = next(f for f in shown["findings"] if f["id"] == finding["id"])["is_withdrawn"]
        assert withdrawn is (won[0].json()["status"] == "upheld")

        run_id = requests.get(f"{server.url}/api/v1/zoning-runs", headers=admin, timeout=10).json()[
            "items"
        ][0]["id"]
        publish = f"{server.url}/api/v1/zoning-runs/{run_id}/publish"
        with ThreadPoolExecutor(max_workers=5) as pool:
            published = list(
                pool.map(
                    lambda _: requests.post(publish, json={}, headers=admin, timeout=60), range(5)
                )
            )
        assert [r.status_code for r in published] == [200] * 5
        assert sum(r.json()["changed"] for r in published) == 1

        def audited(action: str, obj: str) -> int:
            body = requests.get(
                f"{server.url}/api/v1/audit?object={obj}&action={action}", headers=admin, timeout=10
            ).json()
            return body["total"]

        assert audited("objection.decide", f"objection:{objection['id']}") == 1
        assert audited("zoning_run.publish", f"zoning_run:{run_id}") == 1
    finally:
        server.kill()
