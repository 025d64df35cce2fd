"""``GET /metrics``: the Prometheus exposition of every process, plus figures read at scrape.

Request and intake counters come from fieldcheck.observability (summed over gunicorn's workers
through ``PROMETHEUS_MULTIPROC_DIR``). What the database already records is read when scraped,
so it is the same whichever process answers and needs no process of its own to be alive: the
scheduler's heartbeat, zoning runs by state with their durations (runs from the scheduler, the
API and the CLI alike), the outbox backlog (undelivered events), and what packages beside this
one add through ``METRIC_FAMILIES`` (webhook deliveries by state: fieldcheck.webhooks.metrics).

Who may read it: with ``METRICS_TOKEN`` set, a request carrying it as a bearer token; without, only
a request from this machine (loopback), which is where the scraper or a proxy's local
``location`` sits; nginx does not expose /metrics (deploy/nginx).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Iterator

from flask import current_app, request
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from fieldcheck.errors import ApiError
from fieldcheck.extensions import METRIC_FAMILIES, db
from fieldcheck.i18n import N_
from fieldcheck.outbox.models import OutboxEvent
from fieldcheck.zoning.models import RUN_STATES, Lease, ZoningRun
from fieldcheck.zoning.scheduler import HEARTBEAT_NAME


def check_may_read() -> None:
    """Refuse (ApiError) a scrape that is neither from loopback nor carries ``METRICS_TOKEN``."""
    expected = current_app.config["METRICS_TOKEN"]
    if expected:
        scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            offered.strip().encode(), expected.encode()
        ):
            return
        raise ApiError("unauthorized", N_("A valid metrics token is required."))
    try:
        local = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        local = False
    if not local:
        raise ApiError("forbidden", N_("Metrics are readable from this machine only."))


def exposition() -> bytes:
    """The text exposition: every process's samples, then the database's figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
    else:
        processes = REGISTRY  # one process (flask run, tests): its own samples
    scraped = CollectorRegistry()
    scraped.register(DatabaseCollector())
    return generate_latest(processes) + generate_latest(scraped)


class DatabaseCollector(Collector):
    """Figures the database holds, read at each scrape (a few small indexed queries)."""

    def collect(self) -> Iterator[Metric]:
        """Yield the heartbeat, run and outbox families (and whether the reads worked)."""
        try:
            families = list(_database_families())
            up = 1.0
        except SQLAlchemyError:
            db.session.rollback()
            families, up = [], 0.0
        yield from families
        yield GaugeMetricFamily(
            "fieldcheck_metrics_database_up",
            "1 when the figures read from the database at this scrape are present",
            value=up,
        )


def _database_families() -> Iterator[Metric]:
    beat = db.session.execute(
        select(Lease.heartbeat_at).where(Lease.name == HEARTBEAT_NAME)
    ).scalar_one_or_none()
    heartbeat = GaugeMetricFamily(
        "fieldcheck_scheduler_heartbeat_timestamp_seconds",
        "When the scheduler process last beat (Unix time); absent before its first beat",
    )
    if beat is not None:
        heartbeat.add_metric([], beat.timestamp())
    yield heartbeat

    counts = dict(
        db.session.execute(select(ZoningRun.state, func.count()).group_by(ZoningRun.state))
        .tuples()
        .all()
    )
    runs = GaugeMetricFamily(
        "fieldcheck_zoning_runs", "Zoning runs recorded, by state", labels=["state"]
    )
    for state in RUN_STATES:
        runs.add_metric([state], counts.get(state, 0))
    yield runs

    durations: dict[str, list[float]] = {}
    finished = db.session.execute(
        select(ZoningRun.state, ZoningRun.started_at, ZoningRun.finished_at).where(
            ZoningRun.started_at.is_not(None), ZoningRun.finished_at.is_not(None)
        )
    )
    for state, started_at, finished_at in finished.tuples():
        durations.setdefault(state, []).append((finished_at - started_at).total_seconds())
    summary = SummaryMetricFamily(
        "fieldcheck_zoning_run_duration_seconds",
        "Duration of finished zoning runs by outcome (count and total seconds)",
        labels=["state"],
    )
    for state, seconds in sorted(durations.items()):
        summary.add_metric([state], count_value=len(seconds), sum_value=sum(seconds))
    yield summary

    backlog = db.session.execute(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.delivered_at.is_(None))
    ).scalar_one()
    yield GaugeMetricFamily(
        "fieldcheck_outbox_backlog", "Outbox events not yet delivered", value=backlog
    )
    for contributed in current_app.extensions.get(METRIC_FAMILIES, ()):
        yield from contributed()
