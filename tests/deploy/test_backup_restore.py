"""scripts/backup.py and scripts/restore_drill.py on the real PostgreSQL: a backup of a database
with submissions, photos and audit entries restores into a scratch database whose counts, schema,
audit chain and photo files all check out; a damaged backup fails the drill, naming the damage."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.deploy.conftest import needs_postgresql
from tests.helpers import auth, post_json

ROOT = Path(__file__).resolve().parents[2]
PG_TOOLS = shutil.which("pg_dump") and shutil.which("pg_restore")
pytestmark = pytest.mark.skipif(
    not PG_TOOLS,
    reason="pg_dump/pg_restore missing: apt-get install postgresql-client-15 (make test does)",
)


def _script(name: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own scripts
        [sys.executable, str(ROOT / "scripts" / name), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def operator_env(app, database_url):
    """The environment an operator's backup job has: the app's settings, the photo folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDCHECK_")}
    env["FIELDCHECK_DATABASE_URL"] = database_url
    env["FIELDCHECK_PHOTO_DIR"] = str(Path(app.instance_path) / "photos")
    env["FIELDCHECK_SECRET_KEY"] = "test-secret-key"
    if "AUDIT_KEY_FILE" in app.config:  # the audit chain's key and checkpoints (issue 14)
        env["FIELDCHECK_AUDIT_KEY_FILE"] = str(Path(app.instance_path) / "audit_key")
        env["FIELDCHECK_AUDIT_CHECKPOINT_FILE"] = str(
            Path(app.instance_path) / "audit-checkpoints.jsonl"
        )
    return env


@pytest.fixture
def stored(app, client, factory, database_url, operator_env):
    """Two submissions with photo evidence (so photos, links and audit entries exist)."""
    needs_postgresql(database_url)
    factory.units()
    _, token = factory.user("surveyor", "35")
    for _ in range(2):
        body = factory.with_evidence(factory.submission(), token)
        answer = post_json(client, "/api/v1/inspections", body, token)
        assert answer.status_code == 201, answer.get_json()
    assert client.get("/api/v1/inspections", headers=auth(token)).status_code == 200
    # Seal and checkpoint the chain when this version has a sealer (issue 14's audit chain).
    from fieldcheck.audit.cli import audit_cli

    if "seal" in audit_cli.commands:
        sealed = subprocess.run(  # noqa: S603
            [str(Path(sys.executable).parent / "flask"), "--app", "app", "audit", "seal"],
            cwd=ROOT, env=operator_env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert sealed.returncode == 0, sealed.stderr
    return token


def _backup(tmp_path: Path, env: dict[str, str]) -> tuple[Path, Path, dict]:
    result = _script(
        "backup.py",
        "--dest", str(tmp_path / "backups"), "--keys-dest", str(tmp_path / "keys"),
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (backup,) = [p for p in (tmp_path / "backups").iterdir() if p.name[0].isdigit()]
    manifest = json.loads((backup / "manifest.json").read_text())
    return backup, tmp_path / "keys" / backup.name, manifest


def _databases(database_url: str) -> set[str]:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT datname FROM pg_database")).scalars())
    finally:
        engine.dispose()


def test_a_backup_restores_whole(stored, tmp_path, operator_env, database_url):
    backup, keys, manifest = _backup(tmp_path, operator_env)
    counts = manifest["database"]["counts"]
    assert counts["inspections"] == 2 and counts["photos"] == 2 and counts["audit_log"] >= 2
    assert manifest["photos"]["copied"] >= 2
    # The audit key and checkpoints are not beside the dump.
    assert not list(backup.glob("audit*"))
    before = _databases(database_url)

    drill = _script("restore_drill.py", str(backup), "--keys", str(keys), env=operator_env)
    assert drill.returncode == 0, drill.stdout + drill.stderr
    for check in (
        "dump matches its manifest",
        "row counts equal the dump's snapshot",
        "migrates to this code's head",
        "audit verify",
        "photo files match their sha256",
    ):
        assert f"ok   {check}" in drill.stdout, drill.stdout
    assert "restore drill PASSED" in drill.stdout
    assert _databases(database_url) == before  # the scratch database is gone again

    # A second backup copies no photo again: they are content-addressed.
    again = _script(
        "backup.py", "--dest", str(tmp_path / "backups"), "--no-keys", "--keep", "1",
        env=operator_env,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "0 copied" in again.stdout and "pruned" in again.stdout


def test_a_damaged_backup_fails_the_drill(stored, tmp_path, operator_env):
    backup, keys, manifest = _backup(tmp_path, operator_env)
    # A photo file rotted on the backup disk, and the manifest disagrees with the dump.
    rotten = next(p for p in (tmp_path / "backups" / "photos").rglob("*") if p.is_file()
                  and "previews" not in p.parts)  # fmt: skip
    rotten.write_bytes(rotten.read_bytes()[:-10] + b"0123456789")
    manifest["database"]["counts"]["inspections"] = 3
    (backup / "manifest.json").write_text(json.dumps(manifest))

    drill = _script("restore_drill.py", str(backup), "--keys", str(keys), env=operator_env)
    assert drill.returncode == 1, drill.stdout + drill.stderr
    assert "FAIL row counts equal the dump's snapshot: inspections: 3 in the backup, 2 restored" \
        in drill.stdout  # fmt: skip
    assert f"sha256 differs: {rotten.name}" in drill.stdout
    assert "restore drill FAILED (2)" in drill.stdout


def test_a_rewritten_audit_log_fails_the_drill(stored, tmp_path, operator_env, database_url):
    # An insider with the owner's rights edits an audit entry (triggers off) before the backup.
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(
                text(
                    "UPDATE audit_log SET object_id = 'forged' "
                    "WHERE id = (SELECT min(id) FROM audit_log)"
                )
            )
    finally:
        engine.dispose()
    backup, keys, _ = _backup(tmp_path, operator_env)
    drill = _script("restore_drill.py", str(backup), "--keys", str(keys), env=operator_env)
    assert drill.returncode == 1, drill.stdout + drill.stderr
    assert "FAIL audit verify" in drill.stdout


def test_the_app_role_may_take_the_backup(stored, tmp_path, operator_env, database_url, login_role):
    from tests.deploy.conftest import flask_cli, url_as

    flask_cli(
        "db", "grant-app-role", login_role,
        env={**operator_env, "FIELDCHECK_MIGRATION_DATABASE_URL": database_url},
    )  # fmt: skip
    result = _script(
        "backup.py", "--dest", str(tmp_path / "backups"), "--no-keys",
        "--database-url", url_as(database_url, login_role),
        env=operator_env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "inspections 2" in result.stdout
