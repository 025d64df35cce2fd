"""Soak: 100,000 submissions through gunicorn on PostgreSQL (``make soak``, not in ``make test``).

    python -m bench.soak [--url postgresql://...] [--count 100000] [--clients 16]

The database at ``--url`` is WIPED: its ``public`` schema is dropped and recreated, then
migrated. The default is the suite's ``postgresql://postgres@127.0.0.1:5432/test``.

It serves the app as the README runs it (``gunicorn -c deploy/gunicorn.conf.py``, 2 workers x 4
threads, through ``tests/serving.py``), creates synthetic units and surveyors (``bench/load.py``),
and sends ``--count`` distinct realistic checklists from ``--clients`` closed-loop clients. While
it runs it samples the workers' resident memory. It passes when:

- no request got a 5xx or a transport error;
- the stored inspections are exactly the acknowledged (200/201) submissions, each once, each with
  its ``inspection.submit`` audit entry;
- worker memory is flat: from the sample at 10% of the run (after warm-up: imports, caches,
  pools) to the end, no worker grew by more than ``--max-growth-mb``.

It prints the rate, latency percentiles and the memory at start/mid/end, then PASS or FAIL (exit
status 0 or 1).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.load import ChecklistFactory, checklist_jobs, prepare_world, run_closed_loop

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
#: The sample taken this far into the run is the "start": workers are warm by then.
WARM_FRACTION = 0.10


def _sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def fresh_database(url: str) -> None:
    """Drop and recreate the ``public`` schema at ``url``, then run the migrations."""
    from flask_migrate import upgrade

    from bench.common import reset_pg_schema
    from fieldcheck import create_app
    from fieldcheck.extensions import db

    url = reset_pg_schema(url)
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def rss_mb(pid: int) -> float | None:
    """Resident memory of ``pid`` in MB (None when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class MemorySampler:
    """Samples the gunicorn workers' RSS every ``interval`` seconds in a thread."""

    def __init__(
        self, server, interval: float, progress: float = 60.0, sent: Callable[[], int] = int
    ) -> None:
        self.server = server
        self.interval = interval
        #: Every ``progress`` seconds a line: requests sent so far and the workers' RSS (a long
        #: run shows how it goes; an interrupted one leaves its figures).
        self.progress = progress
        self.sent = sent
        self._printed = 0.0
        self.samples: list[tuple[float, dict[int, float]]] = []  # (seconds, pid -> MB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.perf_counter()

    def start(self) -> MemorySampler:
        """Begin sampling (time 0 is now)."""
        self._t0 = time.perf_counter()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Take a last sample and stop."""
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        sizes = {pid: rss_mb(pid) for pid in self.server.worker_pids()}
        now = time.perf_counter() - self._t0
        self.samples.append((now, {p: mb for p, mb in sizes.items() if mb is not None}))
        if now - self._printed >= self.progress:
            self._printed = now
            rss = ", ".join(f"{mb:.1f}" for mb in self.samples[-1][1].values())
            print(f"  {now:>6.0f}s  sent {self.sent():>7,}  worker RSS MB: {rss}", flush=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def at(self, fraction: float) -> tuple[float, dict[int, float]]:
        """The first sample at or after ``fraction`` of the sampled time."""
        end = self.samples[-1][0]
        return next(s for s in self.samples if s[0] >= fraction * end)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main(argv: list[str] | None = None) -> int:
    """Run the soak; 0 when it passes."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--url",
        default=os.environ.get("FIELDCHECK_SOAK_DATABASE_URL", DEFAULT_URL),
        help=f"PostgreSQL URL; its public schema is DROPPED and recreated (default {DEFAULT_URL})",
    )
    parser.add_argument("--count", type=int, default=100_000, help="submissions to send")
    parser.add_argument("--clients", type=int, default=16, help="closed-loop clients")
    parser.add_argument("--surveyors", type=int, default=320, help="surveyors (tokens)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--sample-seconds", type=float, default=5.0, help="RSS sampling interval")
    parser.add_argument("--progress-seconds", type=float, default=60.0, help="progress lines")
    parser.add_argument(
        "--max-growth-mb", type=float, default=20.0, help="largest RSS growth of a warm worker"
    )
    args = parser.parse_args(argv)
    if not args.url.startswith("postgresql"):
        parser.error("the soak runs on PostgreSQL: --url postgresql://...")
    url = _sqlalchemy_url(args.url)

    from fieldcheck import create_app
    from tests.serving import Gunicorn

    print(
        f"soak: {args.count:,} submissions, {args.clients} clients, {args.url} (schema wiped)",
        flush=True,
    )
    fresh_database(url)
    app = create_app({"DATABASE_URL": url})
    visits_each = -(-args.count // args.surveyors)
    with app.app_context():
        world = prepare_world(surveyors=args.surveyors, units_per_city=24)
    # No photos: the soak is about intake and its durability; bench_intake covers photos.
    factory = ChecklistFactory(world, capacity=visits_each + 3, photo_every=0)
    jobs = checklist_jobs(factory, args.clients)
    issued = 0
    lock = threading.Lock()
    stopping = threading.Event()

    def next_job(client: int, seq: int):
        nonlocal issued
        with lock:
            if issued >= args.count or stopping.is_set():
                return None
            issued += 1
        return jobs(client, seq)

    def stop_early(signum: int, _frame) -> None:
        # Ctrl-C or kill: send nothing more, let the requests in flight finish, then check
        # what was sent (a long soak cut short still proves what it did).
        print(f"signal {signum}: stopping after the requests in flight", flush=True)
        stopping.set()

    signal.signal(signal.SIGINT, stop_early)
    signal.signal(signal.SIGTERM, stop_early)

    with tempfile.TemporaryDirectory(prefix="fieldcheck-soak-") as tmp:
        server = Gunicorn(url, Path(tmp), workers=args.workers, threads=args.threads).start()
        sampler = MemorySampler(
            server, args.sample_seconds, args.progress_seconds, lambda: issued
        ).start()
        try:
            result = run_closed_loop(
                server.url,
                args.clients,
                next_job,  # ends each client once ``--count`` requests are out
                requests_per_client=-(-args.count // args.clients),
                timeout=60,
                keep_body=lambda status: status != 201,
            )
        finally:
            sampler.stop()
            server.stop()
        log_tail = server.output()

    if stopping.is_set():
        print(f"stopped early: {issued:,} of {args.count:,} submissions sent")
    statuses = result.statuses()
    acked = {s.key[2] for s in result.ok()}
    failed = sorted((str(k), v) for k, v in statuses.items() if not isinstance(k, int) or k >= 500)
    print(
        f"sent {len(result.samples):,} in {result.elapsed:.0f}s:"
        f" {result.rate():.1f} acknowledged/s;"
        f" p50 {_ms(result.percentile(50))}, p95 {_ms(result.percentile(95))},"
        f" p99 {_ms(result.percentile(99))}; statuses {dict(sorted(statuses.items(), key=str))}"
    )
    others = [s for s in result.samples if s.status not in (200, 201)]
    if others:
        print(f"first answer other than 200/201: {others[0].status} {others[0].body[:300]!r}")

    from sqlalchemy import func, select

    from fieldcheck.audit.models import AuditEntry
    from fieldcheck.extensions import db
    from fieldcheck.inspections.models import Inspection

    with app.app_context():
        stored_ids = {str(s) for (s,) in db.session.execute(select(Inspection.submission_id)).all()}
        rows = db.session.execute(select(func.count()).select_from(Inspection)).scalar_one()
        audited = db.session.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "inspection.submit")
        ).scalar_one()
        db.engine.dispose()
    exact = stored_ids == acked and rows == len(acked)
    print(
        f"acknowledged {len(acked):,} distinct submissions; stored {rows:,} inspections "
        f"({len(stored_ids & acked):,} of them acknowledged); {audited:,} inspection.submit "
        f"audit entries: {'exact' if exact and audited == rows else 'MISMATCH'}"
    )

    memory_ok = True
    if len(sampler.samples) >= 3:
        warm_t, warm = sampler.at(WARM_FRACTION)
        mid_t, mid = sampler.at(0.5)
        end_t, end = sampler.samples[-1]
        print("worker RSS (MB)   " + "  ".join(f"pid {p:>7}" for p in sorted(warm)))
        for label, t, sizes in (("start", warm_t, warm), ("mid", mid_t, mid), ("end", end_t, end)):
            cells = "  ".join(f"{sizes.get(p, float('nan')):>11.1f}" for p in sorted(warm))
            print(f"  {label:<5} {t:>7.0f}s   {cells}")
        growth = {p: end.get(p, float("inf")) - warm[p] for p in warm}
        memory_ok = all(g <= args.max_growth_mb for g in growth.values())
        print(
            "memory: "
            + ", ".join(f"pid {p} {g:+.1f} MB" for p, g in sorted(growth.items()))
            + f" (limit +{args.max_growth_mb:.0f} MB): {'flat' if memory_ok else 'GROWING'}"
        )
        if set(end) != set(warm):
            print("a worker was replaced during the run (pids changed)")
            memory_ok = False
    else:
        print("memory: too few samples (a short run): not judged")

    passed = not failed and exact and audited == rows and memory_ok
    if failed:
        print(f"5xx or transport errors: {failed}")
        print(log_tail[-2000:])
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
