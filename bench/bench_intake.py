"""Intake benchmark: ``POST /api/v1/inspections`` through real gunicorn vs the storage limit.

The app is served as the README runs it (``gunicorn -c deploy/gunicorn.conf.py``, 2 workers x 4
threads) and loaded by closed-loop clients (bench/load.py) at 1, 8 and 32 clients, each client
with its own connection and surveyor tokens, posting realistic checklists (bench/load.py: 192
units with five services each, 64 surveyors, visits spread over days, 11 answers + 5 posted
services, one checklist in four citing two photos uploaded beforehand).

For each concurrency it prints checklists/s, latency p50/p95/p99, worker CPU per checklist
(utime+stime of the gunicorn workers from /proc, before/after) and, measured in the same run
right after, the storage limit: the same bodies inserted as raw JSON into a scratch table of the
same database, one transaction each, at the same concurrency; then the ratio. Last, SQL
statements per checklist (counted in-process on the same database).

SQLite (a temporary file) always; PostgreSQL too when FIELDCHECK_BENCH_DATABASE_URL is set (its
public schema is DROPPED and recreated: point it at a scratch database). ``--quick`` for a smoke
run. Targets (issue 14, PostgreSQL, 32 clients): >= 5% of the storage limit, p99 <= 150 ms;
p50 at one client <= 8 ms; worker CPU <= 5 ms per checklist.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.common import reset_pg_schema
from bench.load import (
    ChecklistFactory,
    LoadResult,
    World,
    checklist_jobs,
    client_visits,
    prepare_world,
    raw_insert_baseline,
    run_closed_loop,
    upload_photos,
)

SURVEYORS = 64
UNITS_PER_CITY = 24
#: (clients, checklists) per phase; the quick run is a smoke test of the machinery.
PHASES = ((1, 400), (8, 1600), (32, 3200))
QUICK_PHASES = ((1, 40), (8, 80), (32, 128))
WARMUP = 64
#: Settings for the served app (FIELDCHECK_*): quiet logs, and no rate limit may throttle the
#: bench's 64 tokens from one address.
SERVED_SETTINGS = {"log_level": "WARNING"}
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pids: list[int]) -> float:
    """utime + stime of ``pids`` (all threads) in seconds, from /proc/<pid>/stat."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / TICKS


def _fresh_database(url: str | None, folder: Path) -> str:
    if url is None:
        return f"sqlite:///{folder / 'bench.db'}"
    return reset_pg_schema(url)


def _plan(phases: tuple[tuple[int, int], ...]) -> list[tuple[int, int, int, int]]:
    """(clients, requests per client, first visit number, visits per surveyor) per phase, the
    warm-up first; each phase continues the surveyors' timelines after the previous one."""
    plan = []
    first = 0
    for clients, total in ((4, WARMUP), *phases):
        per_client = total // clients
        owned = SURVEYORS // clients
        visits = math.ceil(per_client / owned)
        plan.append((clients, per_client, first, visits))
        first += visits
    return plan


def _statements_per_checklist(app: Any, factory: ChecklistFactory, first: int) -> float:
    """SQL statements one checklist costs (in-process test client, same database), averaged
    over a few checklists without photos."""
    from fieldcheck.extensions import db

    counted = []
    with app.app_context():
        engine = db.engine

        def count(*_args: Any) -> None:
            counted.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            client = app.test_client()
            visits = ((s, k) for k in range(first, first + 16) for s in range(SURVEYORS))
            picked = [(s, k) for s, k in visits if not factory.photos(s, k)][:8]
            for s, k in picked:
                token = factory.world.surveyors[s].token
                response = client.post(
                    "/api/v1/inspections",
                    data=json.dumps(factory.body(s, k)),
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                    },
                )
                assert response.status_code == 201, response.get_data(as_text=True)  # noqa: S101
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return len(counted) / 8


def _bench_backend(name: str, url: str, folder: Path, phases: tuple[tuple[int, int], ...]) -> None:
    from fieldcheck import create_app
    from fieldcheck.config import SETTINGS
    from tests.serving import Gunicorn

    settings = dict(SERVED_SETTINGS)
    if "RATELIMIT_ENABLED" in SETTINGS:
        # 64 surveyor tokens from one address at full speed: no limit may throttle the bench.
        settings["ratelimit_enabled"] = "false"

    app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        world: World = prepare_world(SURVEYORS, UNITS_PER_CITY)
    plan = _plan(phases)
    capacity = sum(p[3] for p in plan) + 16
    factory = ChecklistFactory(world, capacity=capacity)
    server = Gunicorn(url, folder / "served", workers=2, threads=4, settings=settings)
    server.start()
    rows = []
    try:
        started = time.perf_counter()
        visits = [
            client_visits(c, clients, SURVEYORS, seq, first)
            for clients, per_client, first, _ in plan
            for c in range(clients)
            for seq in range(per_client)
        ]
        photos = upload_photos(server.url, factory, visits)
        print(
            f"{name}: {len(world.units)} units, {SURVEYORS} surveyors; {photos} photos uploaded "
            f"for {len(visits) - plan[0][0] * plan[0][1]} checklists in "
            f"{time.perf_counter() - started:.1f}s",
            flush=True,
        )
        for i, (clients, per_client, first, _visits) in enumerate(plan):
            pids = server.worker_pids()
            cpu_before = _cpu_seconds(pids)
            result = run_closed_loop(
                server.url,
                clients,
                checklist_jobs(factory, clients, first=first),
                requests_per_client=per_client,
                keep_body=lambda status: status not in (200, 201),
            )
            cpu = _cpu_seconds(pids) - cpu_before
            _check(result)
            if i == 0:
                continue  # warm-up
            bodies = [json.dumps(factory.body(s.key[0], s.key[1])) for s in result.samples]
            baseline = raw_insert_baseline(url, bodies, clients)
            rows.append((clients, result, cpu, baseline))
            _print_row(clients, result, cpu, baseline)
    finally:
        server.stop()
    statements = _statements_per_checklist(app, factory, sum(p[3] for p in plan))
    print(f"{name}: {statements:.1f} SQL statements per checklist (no photos)")
    _print_targets(name, rows)


def _check(result: LoadResult) -> None:
    bad = [s for s in result.samples if s.status not in (200, 201)]
    if bad:
        raise RuntimeError(
            f"{len(bad)} of {len(result.samples)} checklists not accepted, e.g. "
            f"{bad[0].status}: {bad[0].body[:500]!r}"
        )


def _print_row(clients: int, result: LoadResult, cpu: float, baseline: LoadResult) -> None:
    n = len(result.ok())
    rate, limit = result.rate(), baseline.rate()
    print(
        f"  {clients:>2} clients: {rate:7.1f} checklists/s  p50 {result.percentile(50) * 1e3:6.1f}"
        f"  p95 {result.percentile(95) * 1e3:6.1f}  p99 {result.percentile(99) * 1e3:6.1f} ms"
        f"  worker CPU {cpu / n * 1e3:5.1f} ms/checklist | storage limit {limit:7.0f}/s"
        f" (p50 {baseline.percentile(50) * 1e3:.2f} ms) | ratio {rate / limit:6.2%}",
        flush=True,
    )


def _print_targets(name: str, rows: list[tuple[int, LoadResult, float, LoadResult]]) -> None:
    by_clients = {r[0]: r for r in rows}
    if 32 not in by_clients or 1 not in by_clients:
        return
    _, r32, cpu32, b32 = by_clients[32]
    _, r1, _, _ = by_clients[1]
    cpu = max(cpu / len(r.ok()) for _, r, cpu, _ in rows)
    checks = [
        ("32 clients >= 5% of the storage limit", r32.rate() / b32.rate() >= 0.05),
        ("32 clients p99 <= 150 ms", r32.percentile(99) <= 0.150),
        ("1 client p50 <= 8 ms", r1.percentile(50) <= 0.008),
        ("worker CPU <= 5 ms per checklist", cpu <= 0.005),
    ]
    print(
        f"{name} targets (issue 14 sets them for PostgreSQL): "
        + "; ".join(f"{label}: {'met' if ok else 'NOT met'}" for label, ok in checks)
    )
    del cpu32


def main(quick: bool = False) -> None:
    """Run the intake benchmark on SQLite, and on PostgreSQL when configured (see above)."""
    phases = QUICK_PHASES if quick else PHASES
    backends: list[tuple[str, str | None]] = [("SQLite", None)]
    pg = os.environ.get("FIELDCHECK_BENCH_DATABASE_URL")
    if pg:
        backends.append(("PostgreSQL", pg))
    only = os.environ.get("FIELDCHECK_BENCH_INTAKE_ONLY")  # "sqlite" or "postgresql"
    if only:
        backends = [b for b in backends if b[0].lower() == only.lower()]
    for name, url in backends:
        folder = Path(tempfile.mkdtemp(prefix="fieldcheck-bench-intake-"))
        try:
            _bench_backend(name, _fresh_database(url, folder), folder, phases)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
