"""A real `kill -9` of a zoning run midway: official results untouched, the next start recovers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, select

from fieldcheck.extensions import db

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"


def _without_id(row) -> dict:
    return {k: v for k, v in row._mapping.items() if k != "id"}


def _clone_inspections(app, source_ids: list[int], copies: int) -> None:
    """Copy approved inspections (with answers and posted standards) in bulk, fast."""
    from fieldcheck.inspections.models import Answer, Inspection, PostedStandardRow

    with app.app_context():
        sources = db.session.execute(
            select(Inspection.__table__).where(Inspection.id.in_(source_ids))
        ).all()
        answers = db.session.execute(
            select(Answer.__table__).where(Answer.inspection_id.in_(source_ids))
        ).all()
        standards = db.session.execute(
            select(PostedStandardRow.__table__).where(
                PostedStandardRow.inspection_id.in_(source_ids)
            )
        ).all()
        next_id = max(source_ids) + 1000
        for n in range(copies):
            src = sources[n % len(sources)]
            new_id = next_id + n
            row = dict(src._mapping, id=new_id, submission_id=uuid.uuid4())
            db.session.execute(insert(Inspection.__table__), [row])
            db.session.execute(
                insert(Answer.__table__),
                [
                    {**_without_id(a), "inspection_id": new_id}
                    for a in answers
                    if a.inspection_id == src.id
                ],
            )
            db.session.execute(
                insert(PostedStandardRow.__table__),
                [
                    {**_without_id(p), "inspection_id": new_id}
                    for p in standards
                    if p.inspection_id == src.id
                ],
            )
        db.session.commit()


def test_killed_run_leaves_official_results_and_is_failed_at_next_start(
    zoning, app, database_url
) -> None:
    from fieldcheck.zoning.models import Lease, ZoningRun

    ids = [zoning.inspect("35.15-DUKCAPIL", 2), zoning.inspect("13.71-KANIM", 5)]
    assert zoning.rescore("--publish").exit_code == 0
    official = zoning.last_run_id()
    before = zoning.rows(official)
    # Enough inspections that re-scoring every one from its answers takes a few seconds.
    _clone_inspections(app, ids, 1500)

    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDCHECK_")}
    env["FIELDCHECK_DATABASE_URL"] = database_url
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        [
            str(FLASK),
            "--app",
            "app",
            "rescore",
            "--period",
            "2026",
            "--full",
            "--from-answers",
            "--no-progress",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    killed_run = None
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            with app.app_context():
                running = db.session.execute(
                    select(ZoningRun.id).where(ZoningRun.state == "running")
                ).scalar_one_or_none()
            if running is not None:
                killed_run = running
                time.sleep(0.3)  # let it get properly under way
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        output = proc.communicate(timeout=10)[0].decode()
    assert killed_run is not None, f"the run never showed as running: {output[-2000:]}"

    with app.app_context():
        dead = db.session.get(ZoningRun, killed_run)
        assert dead.state == "running", output  # nobody was left to say otherwise
        assert db.session.get(Lease, "zoning").holder is not None
    assert zoning.rows(official) == before
    assert zoning.run(official).is_official

    # The next start, on the same machine, sees the holder's process is gone at once.
    result = zoning.rescore()
    assert result.exit_code == 0, result.output
    assert "skipped" not in result.output
    with app.app_context():
        dead = db.session.get(ZoningRun, killed_run)
        assert dead.state == "failed"
        assert dead.error
        newest = db.session.execute(
            select(ZoningRun).order_by(ZoningRun.id.desc()).limit(1)
        ).scalar_one()
        assert newest.id > killed_run and newest.state == "succeeded"
    assert zoning.rows(official) == before
