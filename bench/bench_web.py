"""Web benchmark: page latency and export memory on a national dataset.

Dataset (full size): 20,000 units in 500 agencies, 100,000 inspections (bench_zoning's
generator, with only the 11 scored answers per inspection: the pages do not read the rest), one
published national run, and every 40th inspection put back in the review queue (2,500 received).

Prints, next to a baseline measured in the same run (``GET /healthz``: the app's stack with one
trivial query; and ``GET /account``, the smallest logged-in page: session, user, layout):
p50/p95 over N requests of the overview ``/``, a unit page ``/units/<code>`` and
the review queue ``/review``, logged in (session cookie) as a province supervisor and as the
national admin; a page that answers 404 (not built yet) is skipped with a note. Then the peak
memory growth (RSS high-water mark, each export in a fresh forked process) and the time of an
XLSX export of 100,000 inspections against one of about 10,000: flat memory means a ratio
near 1.

SQLite by default; PostgreSQL when FIELDCHECK_BENCH_DATABASE_URL is set (its public schema is
DROPPED and recreated: point it at a scratch database).
"""

from __future__ import annotations

import random
import re
import statistics
import time
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text

from bench import bench_zoning
from bench.bench_zoning import PERIOD, _url, generate, settle, zoning_run

PASSWORD = "bench-password-2026"  # noqa: S105 - a throwaway login on a scratch database
#: Requests per page and user (the first few warm caches and are not counted).
REQUESTS, WARMUP = 40, 3
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _users(app: Any) -> dict[str, str]:
    """A supervisor of province 35 and a national admin with web logins; returns username ->
    the code of a unit they may open."""
    from fieldcheck.auth.passwords import set_password, set_username
    from fieldcheck.auth.services import create_user
    from fieldcheck.extensions import db

    with app.app_context():
        units = {}
        for username, role, region in (
            ("bench-supervisor", "supervisor", "35"),
            ("bench-admin", "admin", None),
        ):
            user, _token = create_user(username, role, region)
            set_username(user, username, actor=None)
            set_password(user, PASSWORD, actor=None, must_change=False)
            like = f"{region}.%" if region else "%"
            units[username] = db.session.execute(
                text("SELECT code FROM units WHERE region_code LIKE :like ORDER BY id LIMIT 1"),
                {"like": like},
            ).scalar_one()
        db.session.commit()
        return units


def _queue(app: Any) -> int:
    """Every 40th inspection back to ``received``: the review queue of a busy week."""
    from fieldcheck.extensions import db

    with app.app_context():
        count = db.session.execute(
            text("UPDATE inspections SET status = 'received' WHERE id % 40 = 0")
        ).rowcount
        db.session.commit()
        return count


def _client(app: Any, username: str) -> Any:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"  # the session cookie is Secure
    page = client.get("/login").get_data(as_text=True)
    token = _CSRF.search(page).group(1)
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.status_code
    return client


def _timings(client: Any, url: str) -> tuple[int, list[float]]:
    """(status of the first answer, seconds of each counted request)."""
    status = client.get(url).status_code
    if status != 200:
        return status, []
    for _ in range(WARMUP - 1):
        client.get(url)
    seconds = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(url)
        response.get_data()
        seconds.append(time.perf_counter() - started)
    return status, seconds


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def pages(app: Any, units: dict[str, str]) -> None:
    """Print p50/p95 of each page per user, and the ratio to the baseline."""
    for username, unit in units.items():
        client = _client(app, username)
        _status, base = _timings(client, "/healthz")
        base50, base95 = _p(base, 50), _p(base, 95)
        _status, account = _timings(client, "/account")
        print(
            f"{username}: baseline GET /healthz p50 {base50 * 1000:.1f} ms, "
            f"p95 {base95 * 1000:.1f} ms; the smallest page GET /account p50 "
            f"{_p(account, 50) * 1000:.1f} ms, p95 {_p(account, 95) * 1000:.1f} ms"
        )
        for name, url in (
            ("overview", "/"),
            ("unit page", f"/units/{unit}"),
            ("review queue", "/review"),
        ):
            status, seconds = _timings(client, url)
            if status != 200:
                print(f"  {name} {url}: skipped, answered {status} (page not built in this tree)")
                continue
            p50, p95 = _p(seconds, 50), _p(seconds, 95)
            verdict = "ok" if p95 < 0.3 else "OVER the 300 ms target"
            print(
                f"  {name} {url}: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
                f"({p95 / base95:.1f}x the baseline p95; {verdict})"
            )


def _status_kib(field: str) -> int:
    """A field of /proc/self/status in KiB (VmRSS: now; VmHWM: the peak since the reset)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _export_child(app: Any, visited_to: date | None, answer: Any) -> None:
    """In a forked child: one inspections XLSX export through the same service and writer as
    the download (chunks are counted, not kept); sends (rows, peak RSS growth in bytes,
    seconds, file bytes)."""
    from flask import g

    from fieldcheck.auth.models import User
    from fieldcheck.exports.services import InspectionFilters, inspections_export
    from fieldcheck.exports.writers import xlsx_chunks
    from fieldcheck.extensions import db

    with app.test_request_context():
        db.engine.dispose(close=False)  # the parent's connections stay the parent's
        g.user = db.session.query(User).filter_by(username="bench-admin").one()
        export = inspections_export(g.user, InspectionFilters(visited_to=visited_to))
        db.session.commit()  # as the request boundary does before the file streams
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")  # reset the peak (VmHWM) to the current RSS
        before = _status_kib("VmRSS")
        started = time.perf_counter()
        size = sum(
            len(chunk)
            for chunk in xlsx_chunks(export.sheet, export.columns, export.titles, export.rows())
        )
        seconds = time.perf_counter() - started
        growth = (_status_kib("VmHWM") - before) * 1024
    answer.put((export.total, growth, seconds, size))


def _export_peak(app: Any, visited_to: date | None) -> tuple[int, int, float, int]:
    """(rows, peak RSS growth, seconds, file bytes) of one export, each in a fresh process so
    neither size inherits the other's allocator state. RSS, not tracemalloc: tracemalloc slows
    XlsxWriter's many small allocations some twentyfold (a 100,000-row export: 30 s -> 10 min)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    answer = context.Queue()
    child = context.Process(target=_export_child, args=(app, visited_to, answer))
    child.start()
    result = answer.get()
    child.join()
    return result


def exports(app: Any) -> None:
    """Print the peak memory growth of a full XLSX export against one of about a tenth of the
    rows, and how long each took."""
    small = _export_peak(app, date(PERIOD, 1, 1) + timedelta(days=29))
    large = _export_peak(app, None)
    for rows, growth, seconds, size in (small, large):
        print(
            f"XLSX export of {rows:,} inspections: peak memory growth {growth / 2**20:.1f} MiB "
            f"(RSS), {seconds:.1f}s, {rows / seconds:,.0f} rows/s, {size / 2**20:.1f} MiB file"
        )
    print(
        f"memory: {large[0] / max(small[0], 1):.1f}x the rows, "
        f"{large[1] / max(small[1], 1):.2f}x the peak growth (flat = near 1)"
    )


def main(quick: bool = False) -> None:
    """Build the dataset, then measure and print (see the module docstring)."""
    from fieldcheck import create_app
    from fieldcheck.extensions import db
    from fieldcheck.zoning.models import ZoningRun
    from fieldcheck.zoning.services import publish_run

    units, agencies, per_unit = (2_000, 50, 5) if quick else (20_000, 500, 5)
    url, _folder = _url()
    app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING", "EXPORT_MAX_ROWS": 1_000_000})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    started = time.perf_counter()
    # The pages never read the unscored checklist items: leave them out of this dataset.
    bench_zoning.EXTRA_ANSWERS = 0
    generate(app, units, agencies, per_unit, random.Random(2026))
    settle(app)
    _elapsed, run, _peak = zoning_run(app, full=True)
    with app.app_context():
        publish_run(db.session.get(ZoningRun, run.id))
        db.session.commit()
    received = _queue(app)
    settle(app)
    logins = _users(app)
    print(
        f"{backend}: {units:,} units, {units * per_unit:,} inspections ({received:,} in the "
        f"review queue), run #{run.id} published, built in {time.perf_counter() - started:.1f}s"
    )
    pages(app, logins)
    exports(app)
