"""An insider with the database's owner role against the sealed, keyed, anchored chain.

Each test seals the log (as the scheduler does), lets the insider do one thing the issue names
(truncate, delete the tail, delete the head, edit a row and recompute the chain without the key),
and expects ``audit verify`` to report it (exit 1) naming what it found.
"""

from __future__ import annotations

import json
import os
import stat

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from fieldcheck.audit.checkpoints import checkpoint_file
from fieldcheck.audit.keys import key_file
from fieldcheck.audit.models import AuditEntry, AuditSeal
from fieldcheck.audit.sealing import seal
from fieldcheck.audit.services import record
from fieldcheck.audit.verification import verify
from fieldcheck.extensions import db
from tests.audit.insider import recompute_from, tamper


def _write(app, n: int, start: int = 0) -> None:
    with app.app_context():
        for i in range(start, start + n):
            record("test.write", "thing", i, after={"i": i, "note": "catatan ü"})
        db.session.commit()


def _sealed_log(app, n: int = 6) -> None:
    """``n`` entries, sealed, with a checkpoint naming the head."""
    _write(app, n)
    with app.app_context():
        done = seal()
    assert done.count == n and done.checkpoint is not None and done.checkpoint["seq"] == n


def _verify(runner) -> tuple[int, str]:
    result = runner.invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def test_sealed_log_verifies_and_says_what_it_vouches_for(app, runner):
    _sealed_log(app)
    _write(app, 2, start=100)  # written after the seal: counted, not yet vouched for
    code, output = _verify(runner)
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == "ok: 6 entries sealed, 2 not yet sealed"
    assert lines[1].startswith("links 1-6: keyed (HMAC, key ")
    assert "vouched for up to link 6 by the checkpoint of" in lines[2]
    with app.app_context():
        seal()
        report = verify()
    assert (report.ok, report.links, report.unsealed, report.legacy) == (True, 8, 0, 0)


def test_the_key_file_is_made_once_and_private(app):
    _sealed_log(app, 1)
    with app.app_context():
        path = key_file()
        first = path.read_text()
        seal()
        assert path.read_text() == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize("with_trigger", [True, False])
def test_truncate_is_refused_and_detected_through_the_checkpoint(app, runner, with_trigger):
    _sealed_log(app)
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
    if with_trigger:
        statement = "TRUNCATE audit_log, audit_seals" if postgres else "DELETE FROM audit_seals"
        with app.app_context():
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert _verify(runner)[0] == 0
        return
    # The insider owns the tables: lifts the triggers and empties both.
    if postgres:
        tamper(app, "TRUNCATE audit_log, audit_seals")
    else:
        tamper(app, "DELETE FROM audit_seals", "DELETE FROM audit_log")
    code, output = _verify(runner)
    assert code == 1
    assert "names link 6, but the chain ends at link 0" in output
    assert "counted 6 entries; the log now holds 0" in output


def test_deleting_the_tail_is_detected(app, runner):
    _sealed_log(app)
    tamper(app, "DELETE FROM audit_seals WHERE seq > 4", "DELETE FROM audit_log WHERE id > 4")
    code, output = _verify(runner)
    assert code == 1
    assert "names link 6, but the chain ends at link 4: its tail was deleted" in output


def test_deleting_the_head_is_detected(app, runner):
    _sealed_log(app)
    tamper(app, "DELETE FROM audit_seals WHERE seq <= 2", "DELETE FROM audit_log WHERE id <= 2")
    code, output = _verify(runner)
    assert code == 1
    assert "The chain starts at link 3: links 1 to 2 were deleted." in output


def test_deleting_an_entry_but_keeping_its_seal_is_detected(app, runner):
    _sealed_log(app)
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
    if postgres:  # the foreign key stands in the way: the owner drops it
        tamper(
            app,
            "ALTER TABLE audit_seals DROP CONSTRAINT fk_audit_seals_entry_id_audit_log",
            "DELETE FROM audit_log WHERE id = 3",
        )
    else:  # a plain sqlite3 session: foreign keys are off unless asked for
        import sqlite3

        path = app.config["DATABASE_URL"].removeprefix("sqlite:///")
        raw = sqlite3.connect(path)
        try:
            (trigger,) = raw.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'audit_log_no_delete'"
            ).fetchone()
            raw.execute("DROP TRIGGER audit_log_no_delete")
            raw.execute("DELETE FROM audit_log WHERE id = 3")
            raw.execute(trigger)
            raw.commit()
        finally:
            raw.close()
    try:
        code, output = _verify(runner)
        assert code == 1 and "Entry 3, sealed as link 3, was deleted." in output
    finally:
        if postgres:  # the schema outlives the test (tables are emptied, not recreated)
            tamper(
                app,
                "ALTER TABLE audit_seals ADD CONSTRAINT fk_audit_seals_entry_id_audit_log "
                "FOREIGN KEY (entry_id) REFERENCES audit_log (id) NOT VALID",
            )


@pytest.mark.parametrize("key", [b"a key the insider made up", None], ids=["hmac", "sha256"])
def test_an_edited_row_with_the_chain_recomputed_without_the_key_is_detected(app, runner, key):
    _sealed_log(app)
    tamper(app, "UPDATE audit_log SET actor_name = 'nobody' WHERE id = 2")
    recompute_from(app, 2, key=key)
    code, output = _verify(runner)
    assert code == 1
    if key is not None:
        assert "Entry 2 does not match its link 2" in output
    else:
        assert "Link 2 (entry 2) claims to be unkeyed, but the unkeyed chain ended" in output
    # Either way, the checkpoint's link is no longer held.
    assert "The chain no longer holds checkpoint line 1" in output


def test_the_whole_chain_recomputed_as_the_unkeyed_kind_is_caught_by_the_checkpoint(app, runner):
    """Links 1..n rewritten with sha256 look like a legacy prefix: only the anchor can tell."""
    _sealed_log(app)
    tamper(app, "UPDATE audit_log SET action = 'test.other' WHERE id = 5")
    recompute_from(app, 1, key=None)
    code, output = _verify(runner)
    assert code == 1
    assert "The chain no longer holds checkpoint line 1 of " in output and "link 6" in output


def test_an_edited_or_forged_checkpoint_line_is_reported(app, runner):
    _sealed_log(app)
    with app.app_context():
        path = checkpoint_file()
    line = json.loads(path.read_text().splitlines()[0])
    line["seq"] = 2  # claim a shorter chain, keep the old mac
    with path.open("a") as fh:
        fh.write(json.dumps(line) + "\n" + "not json\n")
    code, output = _verify(runner)
    assert code == 1
    assert "Checkpoint line 2 was edited or forged" in output
    assert "Checkpoint line 3 is unreadable." in output


def test_entries_left_unsealed_beyond_the_grace_time_are_reported(app, runner):
    from datetime import UTC, datetime, timedelta

    written = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    app.config["CLOCK"] = lambda: written
    _write(app, 3)
    app.config["CLOCK"] = lambda: written + timedelta(minutes=14)
    assert _verify(runner)[0] == 0  # the default grace is 15 minutes
    app.config["CLOCK"] = lambda: written + timedelta(minutes=16)
    code, output = _verify(runner)
    assert code == 1
    assert "3 entries have waited longer than 15 minutes for their seal (the first is entry 1)" in (
        output
    )
    with app.app_context():
        assert seal().count == 3
    assert _verify(runner)[0] == 0


def test_a_lower_id_committed_later_is_sealed_later(app):
    """Chain order is seal order; on PostgreSQL two open transactions show it for real."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has one writer at a time")
        record("test.slow", "thing", "early id")
        db.session.flush()  # id taken, transaction left open
        with app.app_context():  # another session, as another request would have
            record("test.fast", "thing", "later id")
            db.session.commit()
            assert seal().count == 1
        db.session.commit()
        assert seal().count == 1
        order = (
            db.session.execute(
                select(AuditEntry.action)
                .join(AuditSeal, AuditSeal.entry_id == AuditEntry.id)
                .order_by(AuditSeal.seq)
            )
            .scalars()
            .all()
        )
        assert order == ["test.fast", "test.slow"]
        assert verify().ok


def test_recording_takes_no_lock_that_orders_submissions(app):
    """One session holds an open transaction after record(); another records and commits without
    waiting (the old chain's advisory lock made it wait until the first one committed)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has one writer at a time")
        record("test.open", "thing", 1)
        db.session.flush()
        with app.app_context():
            # Fail fast instead of hanging if anything waits for the first session.
            db.session.execute(text("SET LOCAL lock_timeout = '3s'"))
            record("test.other", "thing", 2)
            db.session.commit()
            assert (
                db.session.execute(
                    select(func.count())
                    .select_from(AuditEntry)
                    .where(AuditEntry.action == "test.other")
                ).scalar_one()
                == 1
            )
        db.session.commit()


def test_the_scheduler_job_seals_and_anchors(app):
    """The job ``flask --app app scheduler`` runs every audit.seal_seconds (``make run`` starts
    that process, so demo entries get sealed)."""
    from fieldcheck.audit import sealing

    _write(app, 3)
    sealing.seal_job(app)
    with app.app_context():
        report = verify()
        assert (report.ok, report.links, report.unsealed, report.vouched.seq) == (True, 3, 0, 3)
    _write(app, 2, start=10)
    sealing.seal_job(app)  # a routine run: the recent window only
    with app.app_context():
        report = verify()
        # Sealed, but the checkpoint is at most once a minute: vouched for up to link 3 only.
        assert (report.links, report.unsealed, report.vouched.seq) == (5, 0, 3)
