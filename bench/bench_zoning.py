"""Zoning benchmark: full and incremental runs on a realistic national dataset.

Dataset (full size): 20,000 units in 500 agencies across the real regencies, 100,000 approved
inspections of 60 answers and 5 posted services each. The shipped methodology has 11 unit-scope
indicators; the other 49 answer rows per inspection are extra checklist items it does not score,
there to give the tables their real volume. Inspection scores are the core's own scores for the
answer pattern each inspection got, so "stored score" and "re-scored from answers" agree.

Prints: generation time; the baseline (one hand-written SQL aggregate computing the unit scores
from the same tables); full-run time, inspections/s and the ratio to the baseline; peak Python
memory of a full run (tracemalloc) at N and 2N inspections on the same units; incremental-run
time with 1% of units dirty and its ratio to the full run; and the re-scoring-from-answers rate.

SQLite by default (a temporary file); PostgreSQL when FIELDCHECK_BENCH_DATABASE_URL is set (its
public schema is DROPPED and recreated: point it at a scratch database).

National scale: ``python -m bench zoning --scale 1000000`` builds 1,000,000 approved inspections
(100,000 units, 10 visits each, stored in arrival order) once, with COPY, into a PostgreSQL
database that is kept (``bench_zoning_1m`` on 127.0.0.1, or
FIELDCHECK_BENCH_SCALE_DATABASE_URL); the next ``--scale`` run resets its runs and reuses it.
The same figures are printed; the second memory point sets half the inspections aside instead
of doubling them (see ``main_at_scale``).
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.common import reset_pg_schema

PERIOD = 2026
EXTRA_ANSWERS = 49
SERVICES_PER_INSPECTION = 5
PATTERNS = 256


def _url() -> tuple[str, Path | None]:
    url = os.environ.get("FIELDCHECK_BENCH_DATABASE_URL")
    if url:
        return reset_pg_schema(url), None
    folder = Path(tempfile.mkdtemp(prefix="fieldcheck-bench-"))
    return f"sqlite:///{folder / 'bench.db'}", folder


class Loader:
    """Fast bulk inserts: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.is_pg = db.engine.dialect.name == "postgresql"

    def rows(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        """Insert ``rows`` (tuples in ``columns`` order) into ``table``."""
        raw = self.db.engine.raw_connection()
        try:
            cur = raw.cursor()
            if self.is_pg:
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                cur.execute("BEGIN")
                cur.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                    rows,
                )
            raw.commit()
        finally:
            raw.close()

    def ts(self, value: datetime) -> Any:
        """A UTC timestamp as the column type stores it."""
        return value if self.is_pg else value.strftime("%Y-%m-%d %H:%M:%S.%f")

    def js(self, value: Any) -> str:
        """JSON text (jsonb on PostgreSQL parses it)."""
        return json.dumps(value)

    def uid(self, value: uuid.UUID) -> Any:
        """A UUID as the Uuid column stores it (hex text on SQLite)."""
        return value if self.is_pg else value.hex


def _patterns(rng: random.Random, methodology: Any, catalogue: Any, services: list[str]) -> list:
    from fieldcheck.core import evaluate

    unit_codes = [i.code for i in methodology.indicators if i.scope == "unit"]
    components = ["persyaratan", "prosedur", "waktu", "biaya", "produk", "pengaduan"]
    out = []
    for _ in range(PATTERNS):
        q = rng.random()
        answers = {
            c: rng.choices(["yes", "partial", "no", "na"], [q, (1 - q) / 2, (1 - q) / 2, 0.05])[0]
            for c in unit_codes
        }
        posted = [
            {
                "service": s,
                "components": [c for c in components if rng.random() < q + 0.2],
                "fee_idr": None,
                "max_days": None,
                "requirements": [],
            }
            for s in rng.sample(services, SERVICES_PER_INSPECTION)
        ]
        result = evaluate(answers, posted, methodology, catalogue, date(PERIOD, 6, 1)).result
        out.append((answers, posted, result))
    return out


def generate(
    app: Any,
    units: int,
    agencies: int,
    per_unit: int,
    rng: random.Random,
    extra_answers: int = EXTRA_ANSWERS,
    arrival_order: bool = False,
) -> None:
    """Agencies, units and approved inspections with answers and posted standards (and
    ``extra_answers`` unscored answer rows per inspection). With ``arrival_order`` the
    inspections are stored interleaved as visits arrive, not unit by unit."""
    from fieldcheck.auth.services import create_user
    from fieldcheck.catalogue.registry import get_registry
    from fieldcheck.extensions import db

    with app.app_context():
        loader = Loader(db)
        user, _ = create_user("bench surveyor", "surveyor", None)
        db.session.flush()
        user_id = user.id
        db.session.commit()
        regencies = [
            r[0]
            for r in db.session.execute(text("SELECT code FROM regions WHERE level = 'regency'"))
        ]
        db.session.rollback()  # SQLite: the session must not hold the write lock during loads
        now = datetime.now(UTC)
        agency_rows, agency_regions = [], []
        for a in range(1, agencies + 1):
            region = rng.choice(regencies) if a % 25 else None  # 1 in 25 spans provinces
            agency_regions.append(region)
            kind = "pemkab" if region else "kementerian"
            agency_rows.append(
                (a, f"AG-{a:04d}", f"Instansi {a}", kind, region, loader.ts(now), loader.ts(now))
            )
        loader.rows(
            "agencies",
            ["id", "code", "name", "kind", "region_code", "created_at", "updated_at"],
            agency_rows,
        )
        unit_rows = []
        for u in range(1, units + 1):
            a = rng.randrange(agencies)
            region = agency_regions[a] or rng.choice(regencies)
            unit_rows.append(
                (
                    u,
                    f"U-{u:05d}",
                    f"Unit layanan {u}",
                    a + 1,
                    region,
                    "bench",
                    loader.ts(now),
                    loader.ts(now),
                )
            )
        loader.rows(
            "units",
            [
                "id",
                "code",
                "name",
                "agency_id",
                "region_code",
                "unit_type",
                "created_at",
                "updated_at",
            ],
            unit_rows,
        )
        registry = get_registry()
        methodology = registry.methodology("ombudsman-2019")
        services = sorted(registry.catalogue.services)
        patterns = _patterns(rng, methodology, registry.catalogue, services)
        visits: Any = range(1, units + 1)
        if arrival_order:
            # Stored as they arrive over the year: a unit's visits are far apart in the table,
            # as in service, and no plan gets their adjacency for free.
            visits = [u for u in visits for _ in range(per_unit)]
            rng.shuffle(visits)
            per_unit = 1
        add_inspections(app, loader, user_id, visits, per_unit, patterns, rng, 1, extra_answers)


def add_inspections(
    app: Any,
    loader: Loader,
    surveyor_id: int,
    unit_ids: Any,
    per_unit: int,
    patterns: list,
    rng: random.Random,
    first_id: int,
    extra_answers: int = EXTRA_ANSWERS,
) -> int:
    """Insert ``per_unit`` approved inspections for each unit; returns the next free id."""
    from fieldcheck.catalogue.registry import get_registry

    registry = get_registry()
    methodology = registry.methodology("ombudsman-2019")
    next_id, answer_id, posted_id = first_id, first_id * 100, first_id * 10
    batch_i, batch_a, batch_p = [], [], []
    extra = [f"X-{n:02d}" for n in range(extra_answers)]

    def flush() -> None:
        loader.rows("inspections", INSPECTION_COLUMNS, batch_i)
        loader.rows(
            "answers", ["id", "inspection_id", "indicator_code", "value", "photos"], batch_a
        )
        loader.rows("posted_standards", POSTED_COLUMNS, batch_p)
        batch_i.clear()
        batch_a.clear()
        batch_p.clear()

    for unit_id in unit_ids:
        for _ in range(per_unit):
            answers, posted, result = patterns[rng.randrange(len(patterns))]
            day = date(PERIOD, 1, 1) + timedelta(days=rng.randrange(300))
            started = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)
            batch_i.append(
                (
                    next_id,
                    loader.uid(uuid.uuid4()),
                    "0" * 64,
                    "{}",
                    unit_id,
                    surveyor_id,
                    methodology.id,
                    methodology.version,
                    methodology.content_hash,
                    registry.catalogue.content_hash,
                    loader.ts(started),
                    loader.ts(started + timedelta(minutes=30)),
                    day if loader.is_pg else day.isoformat(),
                    loader.ts(started),
                    "approved",
                    None if result.score is None else str(result.score),
                    result.zone,
                    result.grade,
                    result.label,
                    "{}",
                    "[]",
                )
            )
            for code, value in answers.items():
                batch_a.append((answer_id, next_id, code, value, "[]"))
                answer_id += 1
            for code in extra:
                batch_a.append((answer_id, next_id, code, "yes", "[]"))
                answer_id += 1
            for position, p in enumerate(posted):
                batch_p.append(
                    (
                        posted_id,
                        next_id,
                        position,
                        p["service"],
                        loader.js(p["components"]),
                        None,
                        None,
                        "[]",
                    )
                )
                posted_id += 1
            next_id += 1
            if len(batch_i) >= 5000:
                flush()
    if batch_i:
        flush()
    return next_id


INSPECTION_COLUMNS = [
    "id",
    "submission_id",
    "payload_hash",
    "payload",
    "unit_id",
    "surveyor_id",
    "methodology_id",
    "methodology_version",
    "methodology_hash",
    "catalogue_hash",
    "started_at",
    "finished_at",
    "visit_date",
    "received_at",
    "status",
    "score",
    "zone",
    "grade",
    "label",
    "breakdown",
    "flags",
]
POSTED_COLUMNS = [
    "id",
    "inspection_id",
    "position",
    "service_code",
    "components",
    "fee_idr",
    "max_days",
    "requirements",
]


def baseline(app: Any) -> float:
    """Seconds for one hand-written SQL aggregate of the same unit scores, fetched to Python."""
    from fieldcheck.extensions import db

    with app.app_context():
        started = time.perf_counter()
        rows = db.session.execute(
            text(
                "SELECT unit_id, ROUND(AVG(score), 2), COUNT(*) FROM inspections "
                "WHERE status = 'approved' AND score IS NOT NULL "
                "AND visit_date BETWEEN :a AND :b GROUP BY unit_id"
            ),
            {"a": date(PERIOD, 1, 1), "b": date(PERIOD, 12, 31)},
        ).all()
        elapsed = time.perf_counter() - started
        db.session.rollback()
        assert rows
        return elapsed


def settle(app: Any) -> None:
    """Let the bulk load settle before measuring, as a database in service has: on PostgreSQL
    VACUUM ANALYZE and a checkpoint (otherwise autovacuum and the checkpointer work on the 6M
    fresh answer rows during the measurements); on SQLite a WAL checkpoint."""
    from fieldcheck.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql("VACUUM ANALYZE")
                conn.exec_driver_sql("CHECKPOINT")
            return
        raw = db.engine.raw_connection()  # outside any transaction (autocommit driver mode)
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()


def zoning_run(app: Any, memory: bool = False, **kwargs: Any) -> tuple[float, Any, int]:
    """Create and execute a run; returns (seconds, run, tracemalloc peak bytes or 0)."""
    from fieldcheck.extensions import db
    from fieldcheck.zoning.lifecycle import execute
    from fieldcheck.zoning.models import ZoningRun
    from fieldcheck.zoning.services import create_run

    from_answers = kwargs.pop("from_answers", False)
    with app.app_context():
        run = create_run(period=PERIOD, **kwargs)
        db.session.commit()
        run_id = run.id
        if memory:
            tracemalloc.start()
        started = time.perf_counter()
        outcome = execute(run_id, from_answers=from_answers)
        elapsed = time.perf_counter() - started
        peak = 0
        if memory:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        assert outcome.state == "succeeded", outcome
        run = db.session.get(ZoningRun, run_id)
        db.session.expunge(run)
        db.session.remove()
        return elapsed, run, peak


def main(quick: bool = False, scale: int | None = None) -> None:
    """Generate the dataset, then measure and print (see the module docstring); with
    ``scale`` (inspections), build it once into a kept PostgreSQL database and reuse it."""
    if scale:
        main_at_scale(scale)
        return
    from fieldcheck import create_app

    units, agencies, per_unit = (2_000, 50, 5) if quick else (20_000, 500, 5)
    url, folder = _url()
    app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    rng = random.Random(2026)
    started = time.perf_counter()
    generate(app, units, agencies, per_unit, rng)
    inspections = units * per_unit
    print(
        f"{backend}: generated {units} units, {agencies} agencies, {inspections} inspections "
        f"({inspections * (11 + EXTRA_ANSWERS)} answers) in {time.perf_counter() - started:.1f}s"
    )
    settle(app)
    measure(app, units, per_unit, rng, double_inspections)
    if folder is not None:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


def double_inspections(
    app: Any, units: int, per_unit: int, next_id: int, patterns: list, rng: random.Random
) -> tuple[str, int]:
    """The second memory point: as many inspections again on the same units."""
    from fieldcheck.extensions import db

    with app.app_context():
        add_inspections(app, Loader(db), 1, range(1, units + 1), per_unit, patterns, rng, next_id)
        db.session.execute(text("UPDATE zoning_runs SET is_official = false"))
        db.session.commit()
    _, _, peak = zoning_run(app, memory=True, full=True)
    return f"{2 * units * per_unit} on the same units", peak


def measure(app: Any, units: int, per_unit: int, rng: random.Random, second_point: Any) -> None:
    """Baseline, full, incremental, memory and re-scoring figures on the loaded dataset;
    ``second_point`` gives the second memory figure (see ``double_inspections``)."""
    from fieldcheck.catalogue.registry import get_registry
    from fieldcheck.extensions import db
    from fieldcheck.zoning.services import publish_run

    inspections = units * per_unit
    base = min(baseline(app) for _ in range(3))
    # Three full runs: the first stores every row (it becomes the anchor), the next two share
    # the anchor's unchanged rows (what a nightly --full does). The best is the figure; all
    # three are printed so a slow outlier is not hidden.
    fulls = [zoning_run(app, full=True)[0] for _ in range(3)]
    full = min(fulls)
    print(f"baseline (one SQL aggregate of unit scores): {base:.3f}s")
    print(
        f"full run: {full:.2f}s, {inspections / full:,.0f} inspections/s, "
        f"{full / base:.2f}x the baseline; each run: "
        f"{fulls[0]:.2f}s storing every row, then {fulls[1]:.2f}s and {fulls[2]:.2f}s sharing them",
        flush=True,
    )
    _, run, peak_n = zoning_run(app, memory=True, full=True)
    with app.app_context():
        from fieldcheck.zoning.models import ZoningRun

        publish_run(db.session.get(ZoningRun, run.id))
        db.session.commit()

    # 1% of units dirty: one new approved inspection each, marked like review will mark them.
    # Twice, on different units: the first incremental run of a process also pays for
    # SQLAlchemy compiling its statements; the second is the nightly run of a scheduler process
    # that has run before.
    with app.app_context():
        registry = get_registry()
        registry_patterns = _patterns(
            rng,
            registry.methodology("ombudsman-2019"),
            registry.catalogue,
            sorted(registry.catalogue.services),
        )
    next_id = inspections + 1
    incremental = []
    for _ in range(2):
        with app.app_context():
            loader = Loader(db)
            dirty = rng.sample(range(1, units + 1), units // 100)
            next_id = add_inspections(app, loader, 1, dirty, 1, registry_patterns, rng, next_id)
            now = datetime.now(UTC)
            loader.rows(
                "zoning_dirty_units",
                ["unit_id", "changed_at", "reason"],
                [(u, loader.ts(now), "bench") for u in dirty],
            )
        seconds, inc_run, _ = zoning_run(app)
        assert inc_run.mode == "incremental", inc_run.mode
        incremental.append(seconds)
    full_after, _, _ = zoning_run(app, full=True)
    first, second = incremental
    print(
        f"incremental run, {len(dirty)} dirty units (1%): {second:.3f}s = "
        f"{100 * second / full_after:.1f}% of a full run ({full_after:.2f}s) (target < 5%); "
        f"first in the process: {first:.3f}s = {100 * first / full_after:.1f}%",
        flush=True,
    )

    # Peak memory flat in inspections. As at N, with no published run to compare with: the
    # list of changes (every unit moves here) is O(units), kept for the outbox payload, and is
    # not what this figure is about.
    label, peak_2 = second_point(app, units, per_unit, next_id, registry_patterns, rng)
    print(
        f"peak Python memory of a full run: {peak_n / 2**20:.1f} MiB at {inspections} "
        f"inspections, {peak_2 / 2**20:.1f} MiB at {label} ({peak_2 / peak_n:.2f}x)",
        flush=True,
    )

    # Re-scoring from answers (a methodology change): the pure core over every answer row of a
    # slice of the country (the dirty-unit-sized national run would be all of it).
    with app.app_context():
        province = db.session.execute(
            text(
                "SELECT substr(region_code, 1, 2) p, COUNT(*) FROM units "
                "GROUP BY p ORDER BY COUNT(*) LIMIT 1"
            )
        ).first()[0]
        db.session.remove()
    seconds, scoped, _ = zoning_run(app, full=True, region=province, from_answers=True)
    rescored = scoped.counts["inspections_rescored"]
    print(
        f"re-scoring from answers (province {province}): {rescored} inspections in "
        f"{seconds:.2f}s = {rescored / seconds:,.0f} inspections/s"
    )


# --- National scale (``python -m bench zoning --scale 1000000``) -------------------------------

#: Inspections per unit at national scale: about ten visits a year per service unit, so a year
#: of 1,000,000 inspections is 100,000 units (in agencies of about 40 units).
SCALE_PER_UNIT = 10
SCALE_UNITS_PER_AGENCY = 40
SCALE_SEED = 2026


def _scale_url(scale: int) -> str:
    url = os.environ.get("FIELDCHECK_BENCH_SCALE_DATABASE_URL")
    if not url:
        name = "bench_zoning_1m" if scale == 1_000_000 else f"bench_zoning_{scale}"
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    if not url.startswith("postgresql+psycopg://"):
        raise SystemExit("--scale builds its data on PostgreSQL only")
    return url


def _ensure_database(url: str) -> None:
    """Create the scale database when it does not exist yet (it is kept between runs)."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        ).first()
        if not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    engine.dispose()


def _stored_dataset(app: Any) -> dict[str, int] | None:
    """What a previous ``--scale`` run built here (table ``bench_dataset``), if it finished."""
    from fieldcheck.extensions import db

    with app.app_context():
        found = db.session.execute(text("SELECT to_regclass('public.bench_dataset')")).scalar()
        if found is None:
            db.session.rollback()
            return None
        row = db.session.execute(
            text("SELECT units, agencies, per_unit, seed FROM bench_dataset")
        ).first()
        db.session.rollback()
        return None if row is None else dict(row._mapping)


def _reset(app: Any, inspections: int) -> None:
    """Bring a reused dataset back to what the build left: no runs, no dirty markers, only the
    built inspections, all approved (the incremental and memory steps add and flip some)."""
    from fieldcheck.extensions import db

    with app.app_context():
        db.session.execute(
            text(
                "TRUNCATE zoning_changes, zoning_results, zoning_runs, outbox_events, "
                "webhook_attempts, webhook_deliveries, zoning_dirty_units"
            )
        )
        db.session.execute(text("DELETE FROM leases WHERE name = 'zoning'"))
        db.session.execute(text("DELETE FROM inspections WHERE id > :n"), {"n": inspections})
        db.session.execute(
            text("UPDATE inspections SET status = 'approved' WHERE status <> 'approved'")
        )
        db.session.commit()
    settle(app)


def halve_inspections(
    app: Any, units: int, per_unit: int, next_id: int, patterns: list, rng: random.Random
) -> tuple[str, int]:
    """The second memory point at scale: half the inspections counted (every other one set
    aside as returned, then restored), so the kept database is not doubled to 2M."""
    from fieldcheck.extensions import db

    def flip(old: str, new: str) -> None:
        with app.app_context():
            db.session.execute(
                text(
                    "UPDATE inspections SET status = :new "
                    "WHERE status = :old AND id % 2 = 0 AND id <= :n"
                ),
                {"old": old, "new": new, "n": units * per_unit},
            )
            db.session.execute(text("UPDATE zoning_runs SET is_official = false"))
            db.session.commit()

    flip("approved", "returned")
    try:
        _, _, peak = zoning_run(app, memory=True, full=True)
    finally:
        flip("returned", "approved")
        # Two updates of half the table leave it twice its size, which every later scan would
        # pay for: compacted, as the build left it.
        with app.app_context(), db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("VACUUM FULL ANALYZE inspections")
    return f"{units * per_unit // 2} on the same units (half set aside)", peak


def main_at_scale(scale: int) -> None:
    """Build ``scale`` inspections once into a kept PostgreSQL database (or reuse them) and
    measure as ``main`` does.

    Volume: every table a run reads at full size (inspections, units, agencies) and, for
    re-scoring from answers, the 11 scored answers and 5 posted standards of every inspection.
    The 49 unscored answer rows per inspection of the default dataset (49M rows here, about 80%
    of the answers table) are left out: no zoning statement reads the answers table except
    re-scoring, which reads an inspection's rows by its id through an index, so they would
    cost the build many minutes and gigabytes and the runs nothing. Inspections are stored in
    arrival order (a unit's visits interleaved with everyone else's), as a year of intake
    leaves them.
    """
    from fieldcheck import create_app
    from fieldcheck.extensions import db

    per_unit = SCALE_PER_UNIT
    units = max(100, scale // per_unit)
    agencies = max(4, units // SCALE_UNITS_PER_AGENCY)
    wanted = {"units": units, "agencies": agencies, "per_unit": per_unit, "seed": SCALE_SEED}
    url = _scale_url(scale)
    _ensure_database(url)
    app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    shown = url.split("@")[-1]
    rng = random.Random(SCALE_SEED)
    if _stored_dataset(app) == wanted:
        started = time.perf_counter()
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()  # a kept database gets the migrations added since it was built
        _reset(app, units * per_unit)
        print(
            f"PostgreSQL {shown}: reusing {units} units, {agencies} agencies, "
            f"{units * per_unit} inspections (reset in {time.perf_counter() - started:.1f}s)"
        )
        # The generator's draws are not replayed: the measurements draw from a fresh stream.
        rng = random.Random(SCALE_SEED + 1)
    else:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
        started = time.perf_counter()
        generate(app, units, agencies, per_unit, rng, extra_answers=0, arrival_order=True)
        settle(app)
        with app.app_context():
            db.session.execute(
                text(
                    "CREATE TABLE bench_dataset (units INTEGER, agencies INTEGER, "
                    "per_unit INTEGER, seed INTEGER)"
                )
            )
            db.session.execute(
                text("INSERT INTO bench_dataset VALUES (:units, :agencies, :per_unit, :seed)"),
                wanted,
            )
            db.session.commit()
        print(
            f"PostgreSQL {shown}: built {units} units, {agencies} agencies, "
            f"{units * per_unit} inspections ({units * per_unit * 11} answers) in "
            f"{time.perf_counter() - started:.1f}s; kept for the next --scale run",
            flush=True,
        )
    measure(app, units, per_unit, rng, halve_inspections)
