"""``flask --app app audit seal`` and ``flask --app app audit verify``."""

from __future__ import annotations

import sys
from datetime import datetime

import click
from flask.cli import AppGroup

from fieldcheck.audit.sealing import seal
from fieldcheck.audit.verification import ChainReport, verify

audit_cli = AppGroup("audit", help="Seal and check the audit log.")


@audit_cli.command("seal")
def audit_seal() -> None:
    """Seal every committed entry not sealed yet (the scheduler does this every few seconds)."""
    done = seal(full=True)
    line = f"sealed {done.count} entries; the chain's head is link {done.head_seq}"
    if done.checkpoint is not None:
        line += f"; checkpoint written at {done.checkpoint['at']}"
    click.echo(line)


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the chain, its checkpoints and the unsealed entries: exit 0 when all hold, 1 when
    something was deleted, altered or forged (each problem on its own line)."""
    report = verify()
    for line in describe(report):
        click.echo(line)
    if not report.ok:
        click.echo(f"audit log broken: {len(report.problems)} problem(s)", err=True)
        for problem in report.problems:
            click.echo(f"- {problem.english()}", err=True)
        sys.exit(1)


def describe(report: ChainReport) -> list[str]:
    """The report in a few lines of English for the command line."""
    state = "ok" if report.ok else "BROKEN"
    lines = [f"{state}: {report.links} entries sealed, {report.unsealed} not yet sealed"]
    if report.legacy:
        lines.append(
            f"links 1-{report.legacy}: the unkeyed sha256 chain from before migration 0011"
        )
    if report.keyed_from is not None:
        keys = ", ".join(report.key_ids)
        lines.append(f"links {report.keyed_from}-{report.links}: keyed (HMAC, key {keys})")
    if report.vouched is not None and report.first_checkpoint is not None:
        first, last = report.first_checkpoint, report.vouched
        lines.append(
            f"anchored outside the database since {_at(first.at)} (link {first.seq}); "
            f"vouched for up to link {last.seq} by the checkpoint of {_at(last.at)} "
            f"({report.checkpoints} checkpoint lines checked)"
        )
        if report.links > last.seq:
            lines.append(f"links {last.seq + 1}-{report.links} are newer than the last checkpoint")
    lines.extend(f"note: {note.english()}" for note in report.notes)
    return lines


def _at(at: datetime) -> str:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")
