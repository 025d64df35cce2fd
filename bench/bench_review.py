"""Bulk review of 5,000 inspections in one request vs one raw UPDATE of the same rows.

Run with ``python -m bench review`` (``--quick``: 500). SQLite always; PostgreSQL too when
``FIELDCHECK_BENCH_DATABASE_URL`` is set (its public schema is dropped and recreated).
The baseline is the floor: the same status change as one bare UPDATE with no scope check, no
per-item results, no review history and no audit chain. Single-item reviews over HTTP are timed
as well, for the requests/s a supervisor clicking through one by one would get.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, select, update

from bench.common import reset_pg_schema

N_FULL = 5000
N_QUICK = 500
N_SINGLE = 50


def _setup(url: str, n: int):
    """A migrated database with the demo units, an admin, and ``n`` received inspections."""
    from flask_migrate import upgrade

    from fieldcheck import create_app
    from fieldcheck.auth.services import create_user
    from fieldcheck.extensions import db
    from fieldcheck.inspections.models import Inspection
    from tests.conftest import Factory

    app = create_app({"DATABASE_URL": url, "TESTING": True, "BULK_REVIEW_MAX": 100_000})
    with app.app_context():
        upgrade()
    factory = Factory(app)
    factory.units()
    with app.app_context():
        admin, token = create_user("Bench admin", "admin", None)
        db.session.commit()
        admin_id = admin.id
    client = app.test_client()
    # With its photo evidence uploaded, as a phone would: a missing photo blocks approval.
    body = factory.with_evidence(Factory.all_yes_submission("35.15-DUKCAPIL"), token)
    response = client.post(
        "/api/v1/inspections",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        template = db.session.get(Inspection, response.get_json()["id"])
        columns = [
            c.key
            for c in Inspection.__table__.columns
            if c.key not in {"id", "submission_id", "supersedes_id"}
        ]
        row = {c: getattr(template, c) for c in columns}
        rows = [{**row, "submission_id": uuid.uuid4()} for _ in range(n + N_SINGLE - 1)]
        for start in range(0, len(rows), 1000):
            db.session.execute(insert(Inspection), rows[start : start + 1000])
        db.session.commit()
        ids = list(db.session.execute(select(Inspection.id).order_by(Inspection.id)).scalars())
    return app, client, token, admin_id, ids


def _run(label: str, url: str, n: int) -> None:
    from fieldcheck.clock import utcnow
    from fieldcheck.extensions import db
    from fieldcheck.inspections.models import Inspection

    app, client, token, admin_id, ids = _setup(url, n)
    headers = {"Authorization": f"Bearer {token}"}
    bulk_ids, single_ids = ids[:n], ids[n : n + N_SINGLE]

    started = time.perf_counter()
    response = client.post(
        "/api/v1/inspections/bulk-review",
        data=json.dumps({"ids": bulk_ids, "decision": "approve"}),
        content_type="application/json",
        headers=headers,
    )
    bulk = time.perf_counter() - started
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["applied"] == n, response.get_json()["failed"]

    started = time.perf_counter()
    for inspection_id in single_ids:
        single = client.post(
            f"/api/v1/inspections/{inspection_id}/review",
            data=json.dumps({"decision": "approve"}),
            content_type="application/json",
            headers=headers,
        )
        assert single.status_code == 200
    per_single = (time.perf_counter() - started) / len(single_ids)

    with app.app_context():
        # Put the same rows back to "received", then time the bare UPDATE (the floor).
        db.session.execute(
            update(Inspection).where(Inspection.id.in_(bulk_ids)).values(status="received")
        )
        db.session.commit()
        started = time.perf_counter()
        db.session.execute(
            update(Inspection)
            .where(Inspection.id.in_(bulk_ids), Inspection.status == "received")
            .values(
                status="approved", reviewed_by_id=admin_id, reviewed_at=utcnow(), review_reason=None
            )
        )
        db.session.commit()
        baseline = time.perf_counter() - started
        db.engine.dispose()

    print(
        f"{label}: bulk review of {n} inspections in one request: {bulk:.3f}s "
        f"({n / bulk:,.0f} inspections/s); baseline one raw UPDATE: {baseline:.3f}s; "
        f"ratio bulk/baseline {bulk / baseline:.1f}x"
    )
    print(
        f"{label}: single reviews: {1 / per_single:,.1f} requests/s "
        f"({n * per_single:.1f}s for {n} one by one; bulk is {n * per_single / bulk:.0f}x faster)"
    )


def main(quick: bool = False) -> None:
    """Time bulk review on SQLite and, when configured, PostgreSQL."""
    n = N_QUICK if quick else N_FULL
    with tempfile.TemporaryDirectory() as tmp:
        _run("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", n)
    pg = os.environ.get("FIELDCHECK_BENCH_DATABASE_URL")
    if pg:
        _run("postgresql", reset_pg_schema(pg), n)
    else:
        print("postgresql: skipped (set FIELDCHECK_BENCH_DATABASE_URL)")
