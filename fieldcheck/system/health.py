"""The readiness probe behind ``/healthz``: an answer within a second, whatever the database does.

The probe runs in a thread of its own and the request waits for it ``PROBE_WAIT_SECONDS`` at
most, so neither a held lock nor a database that stopped answering (a frozen server, a dropped
network, where no server-side timeout fires) can hold ``/healthz`` up. Its transaction has short
lock and statement timeouts, so a held lock frees it quickly; on SQLite it reads without the
write lock. At most one probe runs per process: a request arriving while one is still under way
waits for that one instead of starting another, so a stalled database costs one thread per
worker, not one per health check.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import psycopg
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from fieldcheck.extensions import TIMEOUTS, db
from fieldcheck.zoning.services import status_summary

log = logging.getLogger(__name__)

#: How long ``/healthz`` waits for the probe: the answer stays under a second.
PROBE_WAIT_SECONDS = 0.8
#: The probe's own limits on PostgreSQL (ms): a lock wait, and any one statement.
PROBE_LOCK_TIMEOUT_MS = 200
PROBE_STATEMENT_TIMEOUT_MS = 500
#: SQLSTATEs of a PostgreSQL statement cancelled by our timeouts (statement, lock).
_TIMED_OUT = {"57014", "55P03"}
_EXTENSION = "fieldcheck.health_probe"


@dataclass(frozen=True)
class Health:
    """What the probe found: ``database`` is ``ok``, ``busy`` (it did not answer in time) or
    ``unreachable`` (it refused: down, no such database, wrong password); ``zoning`` is the
    scheduler summary when the database could give it in time."""

    database: str
    zoning: dict[str, Any] | None = None


def check(app: Flask) -> Health:
    """The database's state, found within ``PROBE_WAIT_SECONDS``."""
    state = app.extensions.setdefault(_EXTENSION, {"lock": threading.Lock(), "probe": None})
    with state["lock"]:
        probe: _Probe | None = state["probe"]
        if probe is None or probe.done.done():
            probe = _Probe()
            state["probe"] = probe
            # A daemon thread, not an executor's: a probe stuck on a frozen server must not keep
            # a worker from exiting.
            thread = threading.Thread(target=probe.run, args=(app,), name="healthz", daemon=True)
            thread.start()
    try:
        return probe.done.result(timeout=PROBE_WAIT_SECONDS)
    except TimeoutError:
        # The database answered but the scheduler summary is not in yet (a busy machine, a
        # locked scheduler table): ok, without the summary. No answer at all: busy.
        answered = probe.answered
        return Health("ok") if answered.done() and answered.result() == "ok" else Health("busy")


class _Probe:
    """One probe: ``answered`` holds the database's state as soon as ``SELECT 1`` is back,
    ``done`` the whole :class:`Health` with the scheduler summary."""

    def __init__(self) -> None:
        self.answered: Future[str] = Future()
        self.done: Future[Health] = Future()

    def run(self, app: Flask) -> None:
        try:
            with app.app_context():
                try:
                    health = self._read()
                finally:
                    db.session.rollback()
        except Exception as exc:  # a probe that fails says so; it never kills its thread noisily
            log.warning("health probe failed: %s", exc)
            health = Health(_state_of(exc))
        if not self.answered.done():
            self.answered.set_result(health.database)
        self.done.set_result(health)

    def _read(self) -> Health:
        # Short limits for this transaction only (PostgreSQL); a deferred BEGIN on SQLite, so a
        # writer holding the write lock does not make the service look down.
        db.session.connection(
            execution_options={
                TIMEOUTS: (PROBE_LOCK_TIMEOUT_MS, PROBE_STATEMENT_TIMEOUT_MS),
                "fieldcheck_read_snapshot": True,
            }
        )
        try:
            db.session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            return Health(_state_of(exc))
        self.answered.set_result("ok")
        try:
            zoning = status_summary()
        except SQLAlchemyError as exc:
            # The database answers; only the scheduler's tables are slow (locked): no summary.
            log.info("health probe: no scheduler summary: %s", exc)
            zoning = None
        return Health("ok", zoning)


def _state_of(exc: BaseException) -> str:
    if isinstance(exc, PoolTimeoutError):
        return "busy"
    if isinstance(exc, DBAPIError):
        if isinstance(exc.orig, psycopg.errors.ConnectionTimeout):
            return "busy"  # a server that accepts and never answers: stalled, not refused
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if sqlstate in _TIMED_OUT or "database is locked" in str(exc.orig):
            return "busy"
    return "unreachable"
