"""End to end: checklists through real gunicorn, then ``flask --app app audit seal`` and
``audit verify`` as the operator runs them (real processes), before and after an insider
truncates the log as the tables' owner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests

from fieldcheck.extensions import db
from tests.audit.insider import tamper
from tests.helpers import auth

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"


def _flask(database_url: str, instance: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "FIELDCHECK_DATABASE_URL": database_url,
        "FIELDCHECK_SECRET_KEY": "test-secret-key-for-the-cli",
        "FIELDCHECK_AUDIT_KEY_FILE": str(instance / "audit_key"),
        "FIELDCHECK_AUDIT_CHECKPOINT_FILE": str(instance / "audit-checkpoints.jsonl"),
    }
    return subprocess.run(  # noqa: S603 - our own CLI
        [str(FLASK), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_served_entries_are_sealed_and_a_truncation_is_caught_by_the_cli(
    app, factory, gunicorn, database_url, tmp_path
):
    factory.units()
    _, token = factory.user("surveyor", "35")
    server = gunicorn()
    for _ in range(5):
        response = requests.post(
            f"{server.url}/api/v1/inspections",
            json=factory.submission(),
            headers=auth(token),
            timeout=30,
        )
        assert response.status_code == 201, response.text
    instance = tmp_path / "operator"

    sealed = _flask(database_url, instance, "audit", "seal")
    assert sealed.returncode == 0, sealed.stderr
    assert sealed.stdout.startswith("sealed 7 entries")  # unit import, user, 5 submissions
    assert (instance / "audit_key").exists() and (instance / "audit-checkpoints.jsonl").exists()
    ok = _flask(database_url, instance, "audit", "verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("ok: 7 entries sealed, 0 not yet sealed")

    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        tamper(app, "TRUNCATE audit_log, audit_seals")
    else:
        tamper(app, "DELETE FROM audit_seals", "DELETE FROM audit_log")
    broken = _flask(database_url, instance, "audit", "verify")
    assert broken.returncode == 1
    assert broken.stdout.startswith("BROKEN: 0 entries sealed")
    assert "names link 7, but the chain ends at link 0" in broken.stderr
