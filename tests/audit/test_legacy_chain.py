"""Migration 0011 on a database whose audit log was chained by the old, unkeyed code."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from sqlalchemy import text

from fieldcheck import create_app
from fieldcheck.audit.sealing import seal
from fieldcheck.audit.services import record
from fieldcheck.audit.verification import verify
from fieldcheck.extensions import db
from tests.audit.insider import recompute_from, tamper


def _old_hash(prev: str, row: dict) -> str:
    """The chain of migration 0003's code, written out again so the test does not trust ours."""
    content = dict(row)
    content["created_at"] = row["created_at"].isoformat(timespec="microseconds")
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev + canonical).encode("utf-8")).hexdigest()


def _old_rows(conn, n: int) -> None:
    prev = "0" * 64
    for i in range(1, n + 1):
        row = {
            "id": i,
            "created_at": datetime(2026, 11, 30, 8, 0, i, 123456, tzinfo=UTC),
            "actor_id": None,
            "actor_name": "system",
            "action": "user.create",
            "object_type": "user",
            "object_id": str(i),
            "region_code": "35" if i % 2 else None,
            "before": None,
            "after": {"name": f"Pengguna {i}", "role": "surveyor"},
        }
        digest = _old_hash(prev, row)
        conn.execute(
            text(
                "INSERT INTO audit_log (id, created_at, actor_id, actor_name, action, object_type, "
                "object_id, region_code, before, after, prev_hash, hash) VALUES (:id, :at, NULL, "
                ":actor_name, :action, :object_type, :object_id, :region_code, NULL, :after, "
                ":prev, :hash)"
            ),
            {
                **row,
                "at": f"2026-11-30 08:00:{i:02d}.123456",
                "after": json.dumps(row["after"]),
                "prev": prev,
                "hash": digest,
            },
        )
        prev = digest


def _migrated(tmp_path):
    """An app on a SQLite file whose 4 audit rows were chained by the old code, then migrated."""
    from flask_migrate import upgrade

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}", "TESTING": True})
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        upgrade(revision="0010")
        with db.engine.begin() as conn:
            _old_rows(conn, 4)
        upgrade()
        db.engine.dispose()
    return app


def test_the_old_chain_becomes_the_legacy_prefix_and_the_keyed_chain_continues(tmp_path):
    app = _migrated(tmp_path)
    with app.app_context():
        report = verify()
        assert (report.ok, report.links, report.legacy, report.keyed_from) == (True, 4, 4, None)
        record("test.after", "thing", "x", after={"n": 1})
        db.session.commit()
        done = seal()
        assert (done.count, done.head_seq, done.checkpoint["legacy"]) == (1, 5, 4)
        new_id = db.session.execute(text("SELECT entry_id FROM audit_seals WHERE seq = 5")).scalar()
        assert new_id == 5  # the rowid continues after the old ids
        report = verify()
        assert (report.ok, report.legacy, report.keyed_from, report.vouched.seq) == (True, 4, 5, 5)
        db.session.remove()
        db.engine.dispose()

    # An old row edited and every link after it recomputed the unkeyed way, as the insider can:
    # the prefix is longer than the checkpoint signed, and the checkpoint's link is gone.
    tamper(app, "UPDATE audit_log SET object_id = '99' WHERE id = 2")
    recompute_from(app, 2, key=None)
    with app.app_context():
        problems = [(p.code, p.seq) for p in verify().problems]
        assert problems == [("legacy_forged", 5), ("rewritten", 5)]
        db.engine.dispose()


def test_a_downgrade_and_upgrade_keep_the_rows_and_show_as_a_rewrite(tmp_path):
    """The downgrade recomputes one unkeyed chain over every row (the old schema has no other
    kind), so the keyed links the checkpoints signed are gone: verify says so."""
    from flask_migrate import downgrade, upgrade

    app = _migrated(tmp_path)
    with app.app_context():
        record("test.after", "thing", "x")
        db.session.commit()
        seal()
        db.session.remove()
        downgrade(revision="0010")
        upgrade()
        report = verify()
        assert (report.links, report.legacy, report.unsealed) == (5, 4, 0)
        assert [(p.code, p.seq) for p in report.problems] == [
            ("legacy_forged", 5),
            ("rewritten", 5),
        ]
        db.engine.dispose()
