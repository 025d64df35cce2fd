"""The delivery loop, for the scheduler's job and for ``flask --app app worker``."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from fieldcheck.extensions import db
from fieldcheck.webhooks.delivery import Pass, run_pass

log = logging.getLogger(__name__)

#: Passes one call of ``drain`` makes at most: the scheduler's job returns now and then, so a
#: flood of events never keeps it from its next firing (or a worker from seeing a stop request).
MAX_PASSES = 50


def drain(app: Flask, stop: threading.Event | None = None) -> Pass:
    """Passes until one finds no work (at most MAX_PASSES); the counts added up."""
    total = Pass()
    with app.app_context():
        try:
            for _ in range(MAX_PASSES):
                if stop is not None and stop.is_set():
                    break
                done = run_pass()
                total.fanned_out += done.fanned_out
                total.delivered += done.delivered
                total.retrying += done.retrying
                total.dead += done.dead
                if not done.busy:
                    break
        finally:
            db.session.remove()
    return total


def run_forever(app: Flask, stop: threading.Event) -> None:
    """Drain, then wait ``WEBHOOKS_POLL_SECONDS`` (or until ``stop``), until ``stop`` is set.

    A failing pass (the database away) is logged and retried after the poll interval: a worker
    outlives a database restart.
    """
    poll = app.config["WEBHOOKS_POLL_SECONDS"]
    while not stop.is_set():
        try:
            done = drain(app, stop)
        except Exception:
            log.exception("webhook worker pass failed; retrying in %s s", poll)
            stop.wait(poll)
            continue
        if done.busy:
            log.info(
                "webhooks: %s event(s) fanned out, %s delivered, %s to retry, %s dead",
                done.fanned_out,
                done.delivered,
                done.retrying,
                done.dead,
            )
        stop.wait(poll)
