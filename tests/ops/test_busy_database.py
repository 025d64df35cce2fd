"""A busy or stalled database gets 503 with Retry-After, /healthz keeps answering within a second,
and the service recovers by itself (issue 14), through real gunicorn on the test database."""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import requests

from fieldcheck.inspections.models import Inspection
from tests.helpers import count_rows
from tests.serving import Gunicorn

#: How long the table lock is held. The issue's case is 45 s (FIELDCHECK_TEST_LOCK_SECONDS=45);
#: by default long enough for several lock timeouts in a row, which shows the same.
HOLD_SECONDS = float(os.environ.get("FIELDCHECK_TEST_LOCK_SECONDS", "8"))
#: The request lock timeout (and SQLite busy timeout) the served app is configured with.
LOCK_TIMEOUT_MS = 1000
#: Slack on "503 within the configured time" for a 2-core machine running other work.
SLACK_SECONDS = 4.0


def _is_pg(url: str) -> bool:
    return url.startswith("postgresql")


@pytest.fixture
def surveyor(factory) -> str:
    """Demo units and a Jawa Timur surveyor's token."""
    factory.units()
    return factory.user("surveyor", "35")[1]


def _submit(url: str, token: str, body: dict) -> tuple[int, float, requests.Response]:
    started = time.monotonic()
    response = requests.post(
        url + "/api/v1/inspections",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    return response.status_code, time.monotonic() - started, response


def _healthz(url: str) -> tuple[int, float, dict]:
    started = time.monotonic()
    response = requests.get(url + "/healthz", timeout=10)
    return response.status_code, time.monotonic() - started, response.json()


def _assert_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, response.text[:300]
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "unavailable"
    assert set(response.json()["error"]) == {"code", "message", "details"}


@contextmanager
def _pg_table_lock(database_url: str, table: str) -> Iterator[None]:
    """Another session holds ``LOCK TABLE <table> IN ACCESS EXCLUSIVE MODE`` (an operator's
    maintenance, a stuck migration) until the block ends."""
    plain = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain) as conn:
        conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()


@contextmanager
def _sqlite_write_lock(database_url: str) -> Iterator[None]:
    """Another connection holds SQLite's write lock until the block ends."""
    path = database_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def test_a_locked_table_gives_503_within_the_lock_timeout_and_the_service_recovers(
    database_url, gunicorn, surveyor, factory, app
):
    """The issue's case: inspections locked by another session. Submissions get 503 with
    Retry-After within the configured lock timeout while /healthz answers within a second; once
    the lock goes, submissions succeed again without a restart, and only acknowledged ones are
    stored. On SQLite the same with a held write lock and the busy timeout."""
    server = gunicorn(
        settings={
            "database_lock_timeout_ms": str(LOCK_TIMEOUT_MS),
            "sqlite_busy_timeout_ms": str(LOCK_TIMEOUT_MS),
        }
    )
    status, _, first = _submit(server.url, surveyor, factory.submission())
    assert status == 201, first.text[:300]
    acknowledged = 1

    hold = (
        _pg_table_lock(database_url, "inspections")
        if _is_pg(database_url)
        else _sqlite_write_lock(database_url)
    )
    submitted: list[tuple[int, float, requests.Response]] = []
    health: list[tuple[int, float, dict]] = []
    stop = threading.Event()

    def submitter() -> None:
        while not stop.is_set():
            submitted.append(_submit(server.url, surveyor, factory.submission()))

    def prober() -> None:
        while not stop.is_set():
            health.append(_healthz(server.url))
            time.sleep(0.2)

    # Two submitters and one prober: fewer stuck requests than a worker has threads, so a
    # thread is free for /healthz (docs/decisions.md: a stuck request holds one for at most
    # the lock timeout).
    with hold:
        threads = [threading.Thread(target=submitter) for _ in range(2)]
        threads.append(threading.Thread(target=prober))
        for thread in threads:
            thread.start()
        time.sleep(HOLD_SECONDS)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        # Reads of the locked table get the same answer.
        started = time.monotonic()
        listing = requests.get(
            server.url + "/api/v1/inspections",
            headers={"Authorization": f"Bearer {surveyor}"},
            timeout=60,
        )
        listing_seconds = time.monotonic() - started

    print(  # the figures for docs/decisions.md (pytest -s)
        f"lock held {HOLD_SECONDS:.0f}s: {len(submitted)} submissions answered in "
        f"max {max(s for _, s, _ in submitted):.2f}s, {len(health)} /healthz in max "
        f"{max(s for _, s, _ in health):.3f}s"
    )
    assert len(submitted) >= 2, "no submission was tried while the lock was held"
    for _status, seconds, response in submitted:
        _assert_unavailable(response)
        assert seconds < LOCK_TIMEOUT_MS / 1000 + SLACK_SECONDS, seconds
    _assert_unavailable(listing)
    assert listing_seconds < LOCK_TIMEOUT_MS / 1000 + SLACK_SECONDS

    assert len(health) >= 3
    for status, seconds, body in health:
        assert seconds < 1.0, (seconds, body)
        # The database itself answers (the probe reads no locked table; on SQLite it reads
        # without the write lock).
        assert (status, body["status"], body["database"]) == (200, "ok", "ok"), body

    # The lock is gone: the same server accepts again, by itself.
    for _ in range(3):
        status, _, response = _submit(server.url, surveyor, factory.submission())
        assert status == 201, response.text[:300]
        acknowledged += 1
    assert _healthz(server.url)[0] == 200
    # Nothing answered 503 was stored; everything acknowledged was.
    assert count_rows(app, Inspection) == acknowledged


class _Blackhole:
    """A TCP port that accepts connections and never says a word (a frozen database server or
    a dropped network: no server-side timeout can fire)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        """Stop listening and drop the held connections."""
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.mark.parametrize("database", ["silent", "down"])
def test_a_database_that_does_not_answer_gives_503_and_healthz_answers_within_a_second(
    tmp_path, database
):
    """PostgreSQL that never answers (frozen server, dropped network) or refuses (down): /healthz
    answers "degraded" within a second every time, and a request gets 503 with Retry-After
    within the connect timeout instead of hanging."""
    blackhole = _Blackhole()
    port = blackhole.port
    if database == "down":
        blackhole.close()  # nothing listens there any more: connections are refused
    server = Gunicorn(
        f"postgresql+psycopg://fieldcheck@127.0.0.1:{port}/fieldcheck",
        tmp_path / "served",
        settings={"database_connect_timeout_seconds": "2"},
    ).start(healthy=False)
    try:
        for _ in range(4):
            status, seconds, body = _healthz(server.url)
            assert seconds < 1.0, (seconds, body)
            assert (status, body["status"]) == (503, "degraded")
            # Refused is "unreachable" once the probe is back; on a machine too busy to get it
            # back within the probe's wait, "busy" (never "ok").
            expected = {"busy"} if database == "silent" else {"unreachable", "busy"}
            assert body["database"] in expected, body
        started = time.monotonic()
        response = requests.get(
            server.url + "/api/v1/units", headers={"Authorization": "Bearer x"}, timeout=60
        )
        # 2 s connect timeout; psycopg may try twice (with and without TLS).
        assert time.monotonic() - started < 2 * 2 + SLACK_SECONDS
        _assert_unavailable(response)
    finally:
        server.stop()
        blackhole.close()
