"""Restore drill: prove that a backup from scripts/backup.py restores, whole.

    .venv/bin/python scripts/restore_drill.py /var/backups/fieldcheck/20261205T013000Z \
        --keys /mnt/offsite/fieldcheck-keys/20261205T013000Z

Connects as a role that may CREATE DATABASE (``--admin-url``; default the owner's
MIGRATION_DATABASE_URL, else DATABASE_URL), and then:

1. checks the dump against the sha256 in its manifest;
2. restores it into a new scratch database (``pg_restore --no-owner --no-privileges``: the
   connecting role owns what it restores);
3. compares every table's row count with the counts taken in the dump's own snapshot;
4. migrates the scratch database to this code's head (``flask db upgrade``): an old backup must
   restore into new code;
5. runs ``flask --app app audit verify`` against it with the backed-up audit key and
   checkpoints (sealing first what the scheduler had not sealed yet, as a restored scheduler
   would);
6. checks every photo row against the photo backup: the file is there and its sha256 matches;
7. drops the scratch database (``--keep`` leaves it: that is a real restore, docs/deploy.md).

Prints one line per check and exits 1 when any fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from backup import DUMP, MANIFEST, ORIGINAL_KEY, _tool, libpq, sha256_file  # noqa: E402

FLASK = Path(sys.executable).parent / "flask"


class Drill:
    """The checks, each printed as it is done; ``failed`` counts the failures."""

    def __init__(self) -> None:
        self.failed = 0

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        """Print ``ok``/``FAIL`` with what was checked."""
        if not ok:
            self.failed += 1
        print(f"{'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}", flush=True)
        return ok


def _admin(url: str):
    """An autocommit connection for CREATE/DROP DATABASE."""
    import psycopg

    conninfo, env = libpq(url)
    return psycopg.connect(
        conninfo, autocommit=True, **({"password": env["PGPASSWORD"]} if env else {})
    )


def _flask(args: list[str], url: str, extra: dict[str, str]) -> subprocess.CompletedProcess:
    """``flask --app app ...`` on the scratch database only.

    Both URLs are set: a MIGRATION_DATABASE_URL from the operator's environment or config file
    would otherwise send ``db upgrade`` to production.
    """
    env = {
        **os.environ,
        "FIELDCHECK_DATABASE_URL": url,
        "FIELDCHECK_MIGRATION_DATABASE_URL": url,
        **extra,
    }
    return subprocess.run(  # noqa: S603 - our own CLI
        [str(FLASK), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )


def _counts(url: str) -> dict[str, int]:
    import psycopg

    with _admin(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY 1"
            )
        ]
        return {
            t: conn.execute(
                psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(t))
            ).fetchone()[0]
            for t in tables
        }


def _audit_settings(keys: Path | None, config: dict[str, Any], work: Path) -> dict[str, str]:
    """FIELDCHECK_AUDIT_* pointing at COPIES of the key and checkpoints (when this app has those
    settings): sealing the scratch database appends a checkpoint, which must never land in the
    backup or, worse, in the live checkpoint file."""
    from fieldcheck.config import SETTINGS

    if "AUDIT_KEY_FILE" not in SETTINGS:
        return {}
    instance = ROOT / "instance"
    sources = {
        "audit_key": keys / "audit_key"
        if keys
        else Path(config["AUDIT_KEY_FILE"] or instance / "audit_key"),
        "audit-checkpoints.jsonl": keys / "audit-checkpoints.jsonl"
        if keys
        else Path(config["AUDIT_CHECKPOINT_FILE"] or instance / "audit-checkpoints.jsonl"),
    }
    for name, source in sources.items():
        if source.exists():
            shutil.copyfile(source, work / name)
            os.chmod(work / name, 0o600)
    return {
        "FIELDCHECK_AUDIT_KEY_FILE": str(work / "audit_key"),
        "FIELDCHECK_AUDIT_CHECKPOINT_FILE": str(work / "audit-checkpoints.jsonl"),
    }


def drill(args: argparse.Namespace) -> int:
    """Run every check; 0 when all pass."""
    from sqlalchemy import make_url

    from fieldcheck.config import load_config

    backup: Path = args.backup.resolve()
    manifest: dict[str, Any] = json.loads((backup / MANIFEST).read_text())
    photos: Path = (args.photos or backup.parent / "photos").resolve()
    config = load_config()
    admin_url = args.admin_url or config["MIGRATION_DATABASE_URL"] or config["DATABASE_URL"]
    source_db = make_url(admin_url).database or "fieldcheck"
    name = args.database or f"{source_db}_drill_{datetime.now(UTC):%Y%m%d%H%M%S}"
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SystemExit(f"not a plain database name: {name}")
    if name == source_db:
        raise SystemExit("the scratch database must not be the source database")
    scratch = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    result = Drill()
    print(f"restore drill: {backup} -> database {name}")

    dump = backup / DUMP
    result.check(
        sha256_file(dump) == manifest["dump"]["sha256"],
        "dump matches its manifest",
        f"{manifest['dump']['bytes']} bytes, sha256 {manifest['dump']['sha256'][:12]}...",
    )
    with _admin(admin_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        conninfo, env = libpq(scratch)
        restored = subprocess.run(  # noqa: S603 - pg_restore with our arguments
            [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
             "-d", conninfo, str(dump)],
            env={**os.environ, **env}, capture_output=True, text=True,
        )  # fmt: skip
        if not result.check(restored.returncode == 0, "pg_restore", restored.stderr.strip()):
            return 1

        expected = manifest["database"]["counts"]
        found = _counts(scratch)
        differ = [
            f"{t}: {expected.get(t, '-')} in the backup, {found.get(t, '-')} restored"
            for t in sorted(set(expected) | set(found))
            if expected.get(t) != found.get(t)
        ]
        result.check(
            not differ,
            "row counts equal the dump's snapshot",
            "; ".join(differ) or f"{sum(found.values())} rows in {len(found)} tables",
        )

        upgraded = _flask(["db", "upgrade"], scratch, {})
        current = _flask(["db", "current"], scratch, {})
        result.check(
            upgraded.returncode == 0 and "(head)" in current.stdout,
            "migrates to this code's head",
            f"from {manifest['database']['revision']} to "
            f"{current.stdout.strip() or upgraded.stderr.strip()[-500:]}",
        )

        with tempfile.TemporaryDirectory(prefix="fieldcheck-drill-") as work:
            audit_env = _audit_settings(args.keys, config, Path(work))
            if args.keys is None:
                print("     (no --keys: checking with copies of this machine's audit key files)")
            if "seal" in _flask(["audit", "--help"], scratch, audit_env).stdout:
                # What the restored scheduler would do first: seal what was not sealed yet.
                _flask(["audit", "seal"], scratch, audit_env)
            verified = _flask(["audit", "verify"], scratch, audit_env)
        result.check(
            verified.returncode == 0,
            "audit verify",
            (verified.stdout + verified.stderr).strip().replace("\n", " | ")[-800:],
        )

        result.check(*_photos_whole(scratch, photos))
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            with _admin(admin_url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"restore drill {'PASSED' if not result.failed else f'FAILED ({result.failed})'}")
    return 1 if result.failed else 0


def _photos_whole(url: str, photos: Path) -> tuple[bool, str, str]:
    """Every photo row has its file in the photo backup, with the sha256 it is cited by."""
    with _admin(url) as conn:
        rows = conn.execute("SELECT sha256, storage_key FROM photos ORDER BY sha256").fetchall()
    missing, wrong = [], []
    for sha, key in rows:
        path = photos / key
        if not ORIGINAL_KEY.match(key) or not path.is_file():
            missing.append(sha)
        elif sha256_file(path) != sha:
            wrong.append(sha)
    detail = f"{len(rows)} photos in {photos}"
    if missing:
        detail += f"; missing: {', '.join(missing[:5])}"
    if wrong:
        detail += f"; sha256 differs: {', '.join(wrong[:5])}"
    return not missing and not wrong, "photo files match their sha256", detail


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the drill."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backup", type=Path, help="a backup folder DEST/<stamp>")
    parser.add_argument("--photos", type=Path, default=None, help="default: DEST/photos")
    parser.add_argument("--keys", type=Path, default=None, help="KEYS_DEST/<stamp>")
    parser.add_argument("--admin-url", default=None, help="a role that may CREATE DATABASE")
    parser.add_argument("--database", default=None, help="scratch database name")
    parser.add_argument("--keep", action="store_true", help="keep the restored database")
    return drill(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
