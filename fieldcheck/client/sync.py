"""``fieldcheck-sync``: upload a folder of checklists and photos to fieldcheck, safely rerunnable.

A checklist is a ``*.json`` file holding the JSON API's body (docs/examples/). Its answers name
photos by sha256; the photos are image files anywhere in the same folder tree. Each checklist is
posted first; the server answers which of its photos it still lacks (``photos.missing``), and
exactly those are uploaded from the folder. So a photo the server already has is never sent again,
and a photo sent late completes its checklist on the server.

Interrupting (Ctrl-C, SIGTERM, even SIGKILL or a power cut) loses nothing: every accepted file is
appended to a journal in the folder (``.fieldcheck-sync-journal.jsonl``, flushed to disk) and
skipped by the next run; a file that was in flight is sent again, and the server, idempotent on
``submission_id``, answers "already present". The run ends with a per-file report on stdout and
in a JSON or CSV file; the exit status is 0 only when every checklist was accepted with its photos.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from fieldcheck.client.api import ACCEPTED, AuthError, Client, Outcome, Result, RetryPolicy

JOURNAL_NAME = ".fieldcheck-sync-journal.jsonl"
REPORT_NAME = "fieldcheck-sync-report.json"
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp"})

#: Exit statuses.
EXIT_OK, EXIT_NOT_ACCEPTED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

PENDING = "pending"  #: the report's outcome for files an interrupted run did not reach


@dataclass
class FileReport:
    """One checklist file's line in the report."""

    file: str
    outcome: str
    status: int | None = None
    inspection_id: int | None = None
    submission_id: str | None = None
    photos_sent: int = 0
    photos_missing: list[str] = field(default_factory=list)  #: sha256 the server still lacks
    message: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)  #: the server's field errors (422)
    earlier_run: bool = False  #: taken from the journal: finished by an earlier run
    sha256: str = ""  #: of the file's bytes: a changed file is sent again

    @property
    def accepted(self) -> bool:
        """The server holds this checklist and every photo it names."""
        return self.outcome in ACCEPTED and not self.photos_missing


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def scan(folder: Path, skip: Iterable[Path] = ()) -> tuple[list[Path], dict[str, Path]]:
    """The checklists (``*.json``, sorted) and the photos by sha256 under ``folder``.

    Hidden files and ``skip`` (the report) are left out.
    """
    skipped = {p.resolve() for p in skip}
    checklists: list[Path] = []
    photos: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if path.resolve() in skipped:
            continue
        suffix = path.suffix.lower()
        if suffix == ".json":
            checklists.append(path)
        elif suffix in PHOTO_SUFFIXES:
            photos.setdefault(sha256_of(path), path)
    return checklists, photos


class Journal:
    """Finished files, one JSON line each, appended and flushed to disk as they finish."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, FileReport] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = FileReport(**json.loads(line))
                except (ValueError, TypeError):
                    continue  # a line cut short by a kill: that file is simply sent again
                self.done[entry.file] = entry
        self._fh: TextIO | None = None

    def finished(self, name: str, sha256: str) -> FileReport | None:
        """The earlier run's report of this file, if it finished and the file is unchanged."""
        entry = self.done.get(name)
        return entry if entry is not None and entry.sha256 == sha256 else None

    def record(self, report: FileReport) -> None:
        """Append ``report`` durably (the line is on disk before the next file starts)."""
        if self._fh is None:
            self._fh = self.path.open("a", encoding="utf-8")
        line = json.dumps({k: v for k, v in asdict(report).items() if k != "earlier_run"})
        self._fh.write(line + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.done[report.file] = report

    def close(self) -> None:
        """Close the journal file."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def sync_file(client: Client, path: Path, name: str, photos: dict[str, Path]) -> FileReport:
    """Post one checklist, then the photos the server says it lacks; the file's report."""
    raw = path.read_bytes()
    report = FileReport(file=name, outcome=Outcome.REJECTED, sha256=hashlib.sha256(raw).hexdigest())
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        report.message = f"not a JSON file: {exc}"
        return report
    if not isinstance(body, dict):
        report.message = "not a checklist: the file holds no JSON object"
        return report
    submission_id = body.get("submission_id")
    report.submission_id = submission_id if isinstance(submission_id, str) else None
    posted = client.submit_inspection(body)
    _fill(report, posted)
    if report.outcome not in ACCEPTED:
        return report
    expected = (posted.body or {}).get("photos") or {}
    for sha in expected.get("missing") or []:
        local = photos.get(sha)
        if local is None:
            report.photos_missing.append(sha)
            continue
        sent = client.upload_photo(local.read_bytes(), local.name)
        if sent.outcome in ACCEPTED:
            report.photos_sent += 1
        else:
            report.photos_missing.append(sha)
            report.message = f"photo {local.name}: {sent.outcome}: {sent.message}"
    if report.photos_missing and report.message is None:
        report.message = (
            f"{len(report.photos_missing)} photo(s) named by the answers are not in the folder"
        )
    return report


def _fill(report: FileReport, result: Result) -> None:
    report.outcome = result.outcome
    report.status = result.status
    report.message = None if result.outcome in ACCEPTED else result.message
    report.fields = result.fields
    body = result.body or {}
    if result.outcome in ACCEPTED and isinstance(body.get("id"), int):
        report.inspection_id = body["id"]
    if result.outcome is Outcome.FAILED and result.attempts > 1:
        report.message = f"{result.message} (gave up after {result.attempts} attempts)"


class _Stop(BaseException):  # a BaseException, as KeyboardInterrupt: no "except Exception" eats it
    """SIGTERM asks the run to stop as Ctrl-C does."""


def _on_sigterm(_signum: int, _frame: Any) -> None:
    raise _Stop


def run(
    client: Client,
    folder: Path,
    *,
    journal_path: Path,
    report_path: Path,
    progress: bool | None = None,
) -> tuple[list[FileReport], bool]:
    """Sync ``folder``; the reports of all its checklists, and whether the run was interrupted.

    Files a previous run finished (per the journal, unchanged since) are reported from it and
    not sent again. ``progress`` None shows the bar only on a terminal.
    """
    checklists, photos = scan(folder, skip=[report_path, journal_path])
    journal = Journal(journal_path)
    reports: list[FileReport] = []
    interrupted = False
    bar = tqdm(
        total=len(checklists), unit="file", disable=None if progress is None else not progress
    )
    try:
        for path in checklists:
            name = path.relative_to(folder).as_posix()
            earlier = journal.finished(name, sha256_of(path))
            if earlier is not None:
                earlier.earlier_run = True
                reports.append(earlier)
            else:
                report = sync_file(client, path, name, photos)
                # Only what the server holds completely is journaled: a conflict or a refusal
                # is asked again next time (one cheap request), as the server's data or the
                # catalogue may have changed since; a failure is retried anyway.
                if report.accepted:
                    journal.record(report)
                reports.append(report)
            bar.update(1)
            bar.set_postfix_str(reports[-1].outcome, refresh=False)
    except (KeyboardInterrupt, _Stop):
        interrupted = True
    finally:
        bar.close()
        journal.close()
    seen = {r.file for r in reports}
    for path in checklists:
        name = path.relative_to(folder).as_posix()
        if name not in seen:
            reports.append(FileReport(file=name, outcome=PENDING, message="not reached"))
    return reports, interrupted


def summary(reports: Sequence[FileReport]) -> dict[str, int]:
    """How many files ended in each outcome (all outcomes listed, zeros too)."""
    counts = Counter(r.outcome for r in reports)
    names = [o.value for o in Outcome] + ([PENDING] if counts[PENDING] else [])
    return {name: counts.get(name, 0) for name in names}


def _detail(report: FileReport) -> str:
    parts = [report.message] if report.message else []
    for path, messages in sorted(report.fields.items()):
        text = "; ".join(messages) if isinstance(messages, list) else str(messages)
        parts.append(f"{path}: {text}")
    if report.photos_sent:
        parts.append(f"{report.photos_sent} photo(s) sent")
    if report.earlier_run:
        parts.append("earlier run")
    return " | ".join(parts)


def print_table(reports: Sequence[FileReport], out: TextIO) -> None:
    """The per-file table and a summary line."""
    rows = [
        (
            r.file,
            str(r.outcome),
            "" if r.inspection_id is None else str(r.inspection_id),
            _detail(r),
        )
        for r in reports
    ]
    header = ("file", "outcome", "inspection", "detail")
    widths = [max([len(header[i])] + [len(row[i]) for row in rows]) for i in range(3)]
    for row in [header, *rows]:
        cells = [row[i].ljust(widths[i]) for i in range(3)]
        out.write("  ".join([*cells, row[3]]).rstrip() + "\n")
    counts = summary(reports)
    out.write(", ".join(f"{name.replace('_', ' ')}: {n}" for name, n in counts.items()) + "\n")


def write_report(
    path: Path, reports: Sequence[FileReport], *, server: str, folder: Path, started_at: datetime
) -> None:
    """The report file: JSON (``files`` and ``summary``), or CSV when ``path`` ends in .csv."""
    rows = [asdict(r) for r in reports]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        columns = list(rows[0]) if rows else list(FileReport.__dataclass_fields__)
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                row["photos_missing"] = " ".join(row["photos_missing"])
                row["fields"] = (
                    json.dumps(row["fields"], ensure_ascii=False) if row["fields"] else ""
                )
                writer.writerow(row)
        return
    document = {
        "server": server,
        "folder": str(folder),
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "summary": summary(reports),
        "files": rows,
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a report


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``fieldcheck-sync``."""
    parser = argparse.ArgumentParser(
        prog="fieldcheck-sync",
        description=(
            "Upload a folder of fieldcheck checklists (*.json, the JSON API's body) and the photos "
            "their answers name (image files in the folder, matched by sha256). Safe to interrupt "
            "and run again: finished files are kept in a journal in the folder and skipped."
        ),
        epilog=(
            "Exit status: 0 every checklist accepted with its photos; 1 some file was not "
            "(conflict, rejected, failed, photo missing); 2 usage or token error; 130 interrupted."
        ),
    )
    parser.add_argument("folder", type=Path, help="the folder holding checklists and photos")
    parser.add_argument(
        "--server",
        default=os.environ.get("FIELDCHECK_URL"),
        help="the server's base URL, e.g. https://fieldcheck.example.go.id (env FIELDCHECK_URL)",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        help="a file holding the API token (else env FIELDCHECK_TOKEN; never on the command "
        "line, where other users of the machine see it)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        help=f"the report file, .json or .csv (default: FOLDER/{REPORT_NAME})",
    )
    parser.add_argument(
        "--journal", type=Path, help=f"the journal file (default: FOLDER/{JOURNAL_NAME})"
    )
    parser.add_argument("--attempts", type=int, default=6, help="tries per request (default 6)")
    parser.add_argument(
        "--max-backoff", type=float, default=30.0, help="longest wait between tries, s (30)"
    )
    parser.add_argument(
        "--max-retry-after",
        type=float,
        default=300.0,
        help="longest Retry-After honoured, s (300); a longer one ends the file as failed",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="read timeout, s (120)")
    parser.add_argument("--quiet", action="store_true", help="no table on stdout, summary only")
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar (it goes to stderr)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``fieldcheck-sync``; returns the exit status (see ``--help``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    folder: Path = args.folder
    if not folder.is_dir():
        parser.error(f"{folder} is not a folder")
    if not args.server:
        parser.error("--server (or FIELDCHECK_URL) is required")
    if args.attempts < 1:
        parser.error("--attempts must be at least 1")
    if args.token_file is not None:
        token = args.token_file.read_text(encoding="utf-8").strip()
    else:
        token = os.environ.get("FIELDCHECK_TOKEN", "").strip()
    if not token:
        parser.error("no token: set FIELDCHECK_TOKEN or pass --token-file")
    report_path = args.report or folder / REPORT_NAME
    journal_path = args.journal or folder / JOURNAL_NAME
    client = Client(
        args.server,
        token,
        retry=RetryPolicy(
            attempts=args.attempts,
            cap_seconds=args.max_backoff,
            max_retry_after_seconds=args.max_retry_after,
        ),
        timeout=(10.0, args.timeout),
    )
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    # Ctrl-C stops the run even when it was started with SIGINT ignored (a shell's background
    # job, a supervisor): Python installs no KeyboardInterrupt handler then.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    started_at = datetime.now(UTC)
    try:
        reports, interrupted = run(
            client,
            folder,
            journal_path=journal_path,
            report_path=report_path,
            progress=False if args.no_progress else None,
        )
    except AuthError as exc:
        print(f"fieldcheck-sync: the server refused the token: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
    write_report(report_path, reports, server=args.server, folder=folder, started_at=started_at)
    if args.quiet:
        counts = summary(reports)
        print(", ".join(f"{name.replace('_', ' ')}: {n}" for name, n in counts.items()))
    else:
        print_table(reports, sys.stdout)
    print(f"report: {report_path}", file=sys.stderr)
    if interrupted:
        print("fieldcheck-sync: interrupted; run it again to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK if all(r.accepted for r in reports) else EXIT_NOT_ACCEPTED


if __name__ == "__main__":
    sys.exit(main())
