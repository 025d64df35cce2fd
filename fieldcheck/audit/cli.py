"""``flask --app app audit verify``."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from fieldcheck.audit.services import verify

audit_cli = AppGroup("audit", help="Check the audit log.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain: exit 0 with the row count, or 1 naming the first bad row."""
    count, problem = verify()
    if problem is not None:
        click.echo(f"audit log broken at row {problem.row_id}: {problem.reason}", err=True)
        sys.exit(1)
    click.echo(f"ok, {count} rows")
