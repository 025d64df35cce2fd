"""``fieldcheck-sync`` as a real process against real gunicorn: 500 checklists with photos,
interrupted (SIGINT, then SIGKILL) and rerun, ends with exactly 500 inspections and a report
that adds up; a conflicting and an invalid file are reported with the server's answer."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest
from sqlalchemy import select

from fieldcheck.client.sync import JOURNAL_NAME, REPORT_NAME
from tests.client.conftest import ROOT, run_sync, sync_command, write_folder
from tests.helpers import count_rows, post_json

pytestmark = pytest.mark.slow

COUNT = 500


def _journal_lines(folder) -> int:
    path = folder / JOURNAL_NAME
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def _interrupt_after(folder, served, lines: int, signum: int) -> subprocess.CompletedProcess:
    """Start a sync, and send ``signum`` once ``lines`` files are journaled."""
    argv, env = sync_command(folder, served)
    process = subprocess.Popen(  # noqa: S603 - our own module
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300
    while _journal_lines(folder) < lines and process.poll() is None:
        assert time.monotonic() < deadline, "the sync made no progress"
        time.sleep(0.05)
    assert process.poll() is None, process.communicate()
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def test_interrupted_twice_and_rerun_ends_with_exactly_the_folder(app, factory, served, tmp_path):
    from fieldcheck.inspections.models import Inspection

    folder = tmp_path / "kiriman"
    bodies = write_folder(folder, factory, COUNT)
    # A colleague already sent another version of checklist 0007: the server keeps that one.
    conflicting = "checklist-0007.json"
    theirs = {**bodies[conflicting], "notes": "Versi lain dari kunjungan yang sama."}
    assert (
        post_json(app.test_client(), "/api/v1/inspections", theirs, served.token).status_code == 201
    )
    # And a file the server must refuse: no unit.
    invalid = {k: v for k, v in factory.submission().items() if k != "unit_code"}
    (folder / "rusak.json").write_text(json.dumps(invalid), encoding="utf-8")

    first = _interrupt_after(folder, served, 150, signal.SIGINT)
    assert first.returncode == 130, first.stderr
    report = json.loads((folder / REPORT_NAME).read_text(encoding="utf-8"))
    assert report["summary"]["pending"] > 0  # the files it did not reach are listed as such
    assert len(report["files"]) == COUNT + 1

    second = _interrupt_after(folder, served, 300, signal.SIGKILL)
    assert second.returncode == -signal.SIGKILL

    third = run_sync(folder, served)
    assert third.returncode == 1, third.stderr  # the conflict and the invalid file
    report = json.loads((folder / REPORT_NAME).read_text(encoding="utf-8"))
    files = {row["file"]: row for row in report["files"]}
    assert set(files) == {*bodies, "rusak.json"}

    # Exactly the folder's checklists on the server: 499 sent + the colleague's version.
    assert count_rows(app, Inspection) == COUNT
    with app.app_context():
        from fieldcheck.extensions import db

        stored = {str(s) for s in db.session.scalars(select(Inspection.submission_id))}
    assert stored == {body["submission_id"] for body in bodies.values()}

    assert files[conflicting]["outcome"] == "conflict"
    assert files[conflicting]["status"] == 409
    assert files["rusak.json"]["outcome"] == "rejected"
    assert files["rusak.json"]["status"] == 422
    assert "unit_code" in files["rusak.json"]["fields"]

    sent = [row for name, row in files.items() if name not in (conflicting, "rusak.json")]
    assert all(row["outcome"] in ("created", "already_present") for row in sent)
    assert all(row["inspection_id"] and not row["photos_missing"] for row in sent)
    summary = report["summary"]
    assert summary["created"] + summary["already_present"] == COUNT - 1
    # Only a file in flight when a run was stopped can be "already present": at most one a stop.
    assert summary["already_present"] <= 2
    assert (summary["conflict"], summary["rejected"], summary["failed"]) == (1, 1, 0)
    assert "pending" not in summary
    # Earlier runs' files come from the journal, not sent again.
    assert sum(row["earlier_run"] for row in sent) >= 300
    # Every photo reached the server: no checklist still awaits one.
    photo_files = [f"checklist-{k:04d}.json" for k in range(0, COUNT, 25)]
    client = app.test_client()
    for name in photo_files:
        row = files[name]
        answer = client.get(
            f"/api/v1/inspections/{row['inspection_id']}",
            headers={"Authorization": f"Bearer {served.token}"},
        ).get_json()
        assert answer["photos"]["missing"] == [], name
        assert answer["photos"]["received"] == bodies[name]["answers"]["SP-01"]["photos"]

    # The stdout table: one line per file, and the summary.
    lines = third.stdout.splitlines()
    assert lines[0].split() == ["file", "outcome", "inspection", "detail"]
    assert len(lines) == 1 + COUNT + 1 + 1
    assert lines[-1].startswith(f"created: {summary['created']}, already present:")

    # A fourth run sends nothing new: every accepted file is in the journal.
    fourth = run_sync(folder, served, "--report", str(tmp_path / "again.csv"))
    assert fourth.returncode == 1
    assert count_rows(app, Inspection) == COUNT
    import csv

    with (tmp_path / "again.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert sum(row["earlier_run"] == "True" for row in rows) == COUNT - 1
