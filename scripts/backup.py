"""Back up fieldcheck: the database, the photos, and (elsewhere) the audit key and checkpoints.

    .venv/bin/python scripts/backup.py --dest /var/backups/fieldcheck \
        --keys-dest /mnt/offsite/fieldcheck-keys [--keep 14]

Reads the same configuration as the app (FIELDCHECK_CONFIG, FIELDCHECK_* environment). Writes
``DEST/<UTC stamp>/`` (``fieldcheck.dump`` from ``pg_dump -Fc`` and ``manifest.json``), adds new
photos to ``DEST/photos/`` (content-addressed files never change, so only new ones are copied,
each checked against its sha256), and copies the audit key file and the checkpoint file to
``KEYS_DEST/<stamp>/``. Order matters and is deliberate (docs/deploy.md, "Backups"):

1. the checkpoint file first, so every checkpoint in the backup is older than the dump and
   ``audit verify`` on a restored dump can vouch up to the last one;
2. the dump, inside a REPEATABLE READ transaction whose snapshot pg_dump shares
   (``--snapshot``), so the row counts in the manifest are the dump's own, even under load;
3. the photos last: a photo row in the dump was committed after its file was stored, so the
   file is there by now.

A backup directory appears under its final name only when complete. Exit 1 on any problem.
``scripts/restore_drill.py`` restores a backup into a scratch database and checks all of it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
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

#: An original photo's storage key: ``ab/cd/<sha256>`` (fieldcheck.evidence.upload.original_key).
ORIGINAL_KEY = re.compile(r"^([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$")
STAMP = re.compile(r"^\d{8}T\d{6}Z$")
DUMP = "fieldcheck.dump"
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy URL as a libpq URI without the password, and the environment carrying it
    (a password on a command line is visible to every user in ``ps``)."""
    from sqlalchemy import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise SystemExit(f"backups are for PostgreSQL; DATABASE_URL is {parsed.drivername}")
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def sha256_file(path: Path) -> str:
    """The file's sha256, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def audit_files(app: Any) -> dict[str, Path | None]:
    """Where the audit key and the checkpoint file are (None when the app has no such setting)."""
    instance = Path(app.instance_path)
    files: dict[str, Path | None] = {"audit_key": None, "audit-checkpoints.jsonl": None}
    if "AUDIT_KEY_FILE" in app.config:
        files["audit_key"] = Path(app.config["AUDIT_KEY_FILE"] or instance / "audit_key")
    if "AUDIT_CHECKPOINT_FILE" in app.config:
        files["audit-checkpoints.jsonl"] = Path(
            app.config["AUDIT_CHECKPOINT_FILE"] or instance / "audit-checkpoints.jsonl"
        )
    return files


def copy_keys(app: Any, keys_dest: Path, stamp: str) -> dict[str, Any]:
    """Copy the audit key and the checkpoints (whole lines only) to ``keys_dest/stamp``."""
    target = keys_dest / stamp
    target.mkdir(parents=True, exist_ok=False, mode=0o700)
    copied: dict[str, Any] = {"dest": str(target), "files": {}}
    for name, source in audit_files(app).items():
        if source is None or not source.exists():
            continue
        data = source.read_bytes()
        if name.endswith(".jsonl"):
            # A checkpoint being appended right now may be half written: keep whole lines.
            data = data[: data.rfind(b"\n") + 1]
        out = target / name
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        copied["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if app.config.get("AUDIT_KEY"):
        copied["note"] = "the audit key comes from FIELDCHECK_AUDIT_KEY: keep it with your secrets"
    return copied


def dump_database(url: str, out: Path) -> dict[str, Any]:
    """``pg_dump -Fc`` of a snapshot, with the snapshot's row counts and schema revision."""
    import psycopg

    conninfo, env = libpq(url)
    with psycopg.connect(conninfo, **({"password": env["PGPASSWORD"]} if env else {})) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY 1"
            )
        ]
        counts = {
            table: conn.execute(
                psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(table))
            ).fetchone()[0]
            for table in tables
        }
        revision = (
            conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            if "alembic_version" in counts
            else None
        )
        server = conn.execute("SHOW server_version").fetchone()[0]
        # pg_dump joins this transaction's snapshot while it is still open: same rows, same counts.
        result = subprocess.run(  # noqa: S603 - pg_dump with our arguments
            [_tool("pg_dump"), "-Fc", "--snapshot", snapshot, "-f", str(out), "-d", conninfo],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )
        conn.execute("COMMIT")
    if result.returncode != 0:
        raise SystemExit(f"pg_dump failed: {result.stderr.strip()}")
    return {"server_version": server, "revision": revision, "counts": counts}


def copy_photos(app: Any, photos_dest: Path) -> dict[str, Any]:
    """Copy stored objects missing from ``photos_dest``; an original must match its sha256."""
    from fieldcheck.evidence.storage import get_storage

    storage = get_storage(app)
    copied = present = 0
    bad: list[str] = []
    photos_dest.mkdir(parents=True, exist_ok=True)
    for key in storage.keys():  # noqa: SIM118 - Storage.keys() lists a bucket, not a dict
        target = photos_dest / key
        if target.exists():
            present += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out, contextlib.closing(storage.open(key)) as src:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            original = ORIGINAL_KEY.match(key)
            if original and original.group(3) != digest.hexdigest():
                bad.append(key)  # corrupt at the source: never let it replace a good copy
                os.unlink(tmp)
                continue
            os.replace(tmp, target)
            copied += 1
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return {
        "storage": app.config["PHOTO_STORAGE"],
        "dest": str(photos_dest),
        "copied": copied,
        "already_there": present,
        "corrupt_at_source": bad,
    }


def prune(dest: Path, keep: int) -> list[str]:
    """Remove all but the newest ``keep`` complete backups in ``dest`` (photos stay)."""
    stamps = sorted(p.name for p in dest.iterdir() if p.is_dir() and STAMP.match(p.name))
    doomed = stamps[:-keep] if keep > 0 else []
    for name in doomed:
        shutil.rmtree(dest / name)
    return doomed


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(
            f"{name} not found: apt-get install postgresql-client-15 (its major version must be "
            "at least the server's)"
        )
    return path


def main(argv: list[str] | None = None) -> int:
    """Take one backup; print what was written; 0 when everything is in place."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, required=True, help="backup folder")
    parser.add_argument(
        "--keys-dest",
        type=Path,
        default=None,
        help="audit key and checkpoints: another disk or host than --dest",
    )
    parser.add_argument(
        "--no-keys",
        action="store_true",
        help="do not copy the audit key and checkpoints (you back them up another way)",
    )
    parser.add_argument("--keep", type=int, default=0, help="keep this many dumps (0 = all)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: the app's DATABASE_URL (any role that may "
        "read every table: the app role will do)",
    )
    args = parser.parse_args(argv)
    dest = args.dest.resolve()
    if args.keys_dest is not None:
        keys_dest = args.keys_dest.resolve()
        if keys_dest == dest or dest in keys_dest.parents:
            parser.error("--keys-dest must not be inside --dest: keep the audit key apart")

    from fieldcheck import create_app

    app = create_app()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    dest.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=dest, prefix=f".{stamp}-"))
    manifest: dict[str, Any] = {"format": 1, "created_at": stamp}
    problems: list[str] = []
    with app.app_context():
        if args.keys_dest is not None:
            manifest["keys"] = copy_keys(app, args.keys_dest.resolve(), stamp)
        elif not args.no_keys:
            problems.append("audit key and checkpoints NOT copied: give --keys-dest (or --no-keys)")
        url = args.database_url or app.config["DATABASE_URL"]
        manifest["database"] = dump_database(url, partial / DUMP)
        manifest["dump"] = {
            "file": DUMP,
            "bytes": (partial / DUMP).stat().st_size,
            "sha256": sha256_file(partial / DUMP),
        }
        manifest["photos"] = copy_photos(app, dest / "photos")
    for key in manifest["photos"]["corrupt_at_source"]:
        problems.append(f"photo {key} does not match its sha256 in storage: not copied")
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    final = dest / stamp
    partial.rename(final)
    pruned = prune(dest, args.keep)
    if args.keys_dest is not None:
        prune(args.keys_dest.resolve(), args.keep)

    counts = manifest["database"]["counts"]
    print(f"backup {final}")
    print(
        f"  database: {manifest['dump']['bytes']} bytes, revision "
        f"{manifest['database']['revision']}, {sum(counts.values())} rows in {len(counts)} tables "
        f"(inspections {counts.get('inspections', 0)}, audit_log {counts.get('audit_log', 0)})"
    )
    photos = manifest["photos"]
    print(
        f"  photos ({photos['storage']}): {photos['copied']} copied, "
        f"{photos['already_there']} already in {photos['dest']}"
    )
    if "keys" in manifest:
        print(
            f"  audit key and checkpoints: {', '.join(manifest['keys']['files']) or 'none yet'}"
            f" -> {manifest['keys']['dest']}"
        )
    if pruned:
        print(f"  pruned: {', '.join(pruned)}")
    for problem in problems:
        print(f"  PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
