"""Intake benchmark: POST /api/v1/inspections through the whole app vs the bare durable minimum.

Baseline (same run, same database): one transaction per checklist that only inserts the raw JSON
into a scratch table and commits, i.e. what any durable intake must at least do. The ratio tells
how much validation, legal checks, scoring and the normalised rows cost on top. Also prints the
pure core's cost per checklist (``fieldcheck.core.evaluate``) without any I/O.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "docs" / "examples" / "inspection-dukcapil-sidoarjo.json"


def _bodies(n: int) -> list[str]:
    template = json.loads(SAMPLE.read_text(encoding="utf-8"))
    bodies = []
    for i in range(n):
        body = dict(template, submission_id=str(uuid.uuid4()))
        body["posted_standards"] = [dict(p) for p in template["posted_standards"]]
        body["posted_standards"][0]["fee_idr"] = (i % 3) * 10000
        bodies.append(json.dumps(body))
    return bodies


def main(quick: bool = False) -> None:
    """Run the intake benchmark and print throughput and ratios."""
    from fieldcheck import create_app
    from fieldcheck.auth.services import create_user
    from fieldcheck.catalogue.registry import get_registry
    from fieldcheck.core import evaluate
    from fieldcheck.demo.seed import DEMO_UNITS
    from fieldcheck.extensions import db
    from fieldcheck.units.services import import_units

    n = 200 if quick else 2000
    url = os.environ.get("FIELDCHECK_BENCH_DATABASE_URL")
    tmp = tempfile.TemporaryDirectory()
    if not url:
        url = f"sqlite:///{tmp.name}/bench.db"
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        from flask_migrate import downgrade, upgrade

        if url.startswith("postgresql"):
            downgrade(revision="base")
        upgrade()
        with DEMO_UNITS.open(encoding="utf-8") as fh:
            import_units(fh, set(get_registry().catalogue.services))
        _, token = create_user("bench surveyor", "surveyor", "35")
        db.session.commit()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS bench_raw"))
            conn.execute(text("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, body TEXT)"))
    print(f"database: {url.split('://')[0]}, checklists: {n}")

    bodies = _bodies(n)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    started = time.perf_counter()
    for body in bodies:
        response = client.post("/api/v1/inspections", data=body, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)  # noqa: S101
    full = time.perf_counter() - started

    with app.app_context():
        started = time.perf_counter()
        for i, body in enumerate(bodies):
            with db.engine.begin() as conn:
                conn.execute(
                    text("INSERT INTO bench_raw (id, body) VALUES (:i, :b)"), {"i": i, "b": body}
                )
        baseline = time.perf_counter() - started

        registry = get_registry()
        methodology = registry.methodology("ombudsman-2019")
        loaded = [json.loads(b) for b in bodies]
        from datetime import date

        started = time.perf_counter()
        for body in loaded:
            answers = {k: v["value"] for k, v in body["answers"].items()}
            evaluate(
                answers,
                body["posted_standards"],
                methodology,
                registry.catalogue,
                date(2026, 11, 20),
            )
        core = time.perf_counter() - started
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE bench_raw"))
        db.engine.dispose()

    print(f"full intake (HTTP stack, validate, check, score, store): {n / full:8.1f} checklists/s")
    print(
        f"baseline (insert raw JSON, commit each):               {n / baseline:8.1f} checklists/s"
    )
    print(f"ratio full / baseline: {full / baseline:.2f}x")
    print(
        f"pure core (facts + check + score): {core / n * 1e6:.0f} us per checklist "
        f"({core / full:.1%} of full intake time)"
    )
    tmp.cleanup()
