"""Real gunicorn (2 workers): /metrics sums every worker through PROMETHEUS_MULTIPROC_DIR,
X-Request-ID is echoed and carried by the JSON log line, and the log holds no token."""

from __future__ import annotations

import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.ops.metrics import value

STATUS_401 = {"endpoint": "system.status", "method": "GET", "status": "4xx"}


def _pids_with_samples(directory) -> set[int]:
    return {int(p.stem.rsplit("_", 1)[1]) for p in directory.glob("counter_*.db")}


def test_metrics_sum_both_workers_and_survive_a_worker_restart(gunicorn, tmp_path, factory):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    # Many anonymous requests from one address: the per-address budget is not under test here.
    server = gunicorn(
        env={"PROMETHEUS_MULTIPROC_DIR": str(directory)},
        settings={"ratelimit_per_address": "1000000 per minute"},
    )
    workers = set(server.worker_pids())
    assert len(workers) == 2

    def anonymous(_):
        # A new connection each time, so the kernel hands requests to both workers.
        return requests.get(server.url + "/api/v1/status", timeout=10).status_code

    sent = 0
    with ThreadPoolExecutor(8) as pool:
        # Which worker accepts a connection is the kernel's choice: send until both have
        # answered (a loaded machine may give the first few hundred to one of them).
        deadline = time.monotonic() + 90
        while not workers <= _pids_with_samples(directory) and time.monotonic() < deadline:
            assert set(pool.map(anonymous, range(40))) == {401}
            sent += 40
    assert workers <= _pids_with_samples(directory), "one worker never answered"

    scraped = requests.get(server.url + "/metrics", timeout=10)
    assert scraped.status_code == 200
    assert value(scraped.text, "fieldcheck_http_requests_total", **STATUS_401) == sent
    assert (
        value(scraped.text, "fieldcheck_http_request_duration_seconds_count", **STATUS_401) == sent
    )

    # A worker that dies takes nothing with it: its samples stay in the sum.
    victim = sorted(workers)[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (
        victim in server.worker_pids() or len(server.worker_pids()) < 2
    ):
        time.sleep(0.2)
    assert victim not in server.worker_pids()
    again = requests.get(server.url + "/metrics", timeout=10).text
    assert value(again, "fieldcheck_http_requests_total", **STATUS_401) == sent


def test_request_id_is_echoed_and_logged_as_json_without_tokens(gunicorn, factory):
    factory.units()
    _, token = factory.user("surveyor", "35", name="Rahmat Hidayat")
    server = gunicorn(settings={"log_level": "INFO", "log_format": "json"})
    body = factory.all_yes_submission()
    sent = requests.post(
        server.url + "/api/v1/inspections",
        json=body,
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "phone-7f3a-0001"},
        timeout=30,
    )
    assert sent.status_code == 201, sent.text
    assert sent.headers["X-Request-ID"] == "phone-7f3a-0001"
    made = requests.get(server.url + "/healthz", headers={"X-Request-ID": "bad\tid"}, timeout=10)
    assert made.headers["X-Request-ID"] != "bad\tid" and len(made.headers["X-Request-ID"]) == 32

    deadline = time.monotonic() + 10
    lines: list[dict] = []
    while time.monotonic() < deadline:
        text = server.log.read_text(encoding="utf-8")
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        if any(line.get("request_id") == made.headers["X-Request-ID"] for line in lines):
            break
        time.sleep(0.2)
    (intake,) = [line for line in lines if line.get("request_id") == "phone-7f3a-0001"]
    assert intake["route"] == "inspections.create_inspection" and intake["status"] == 201
    assert intake["method"] == "POST" and intake["user_id"] is not None
    assert intake["level"] == "INFO" and intake["timestamp"].startswith("20")
    # Every line gunicorn and the app wrote is JSON; none holds the token or the name.
    assert all(line.startswith("{") for line in text.splitlines() if line.strip())
    assert token not in text and "Rahmat" not in text
