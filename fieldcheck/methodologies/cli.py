"""``flask --app app methodologies upload|list|publish`` (audited as the system)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import localize, localize_details
from fieldcheck.methodologies import services

methodologies_cli = AppGroup(
    "methodologies", help="Methodology versions: upload drafts, publish, list (audited)."
)


def _fail(exc: ApiError) -> None:
    fields = localize_details(exc.details or {}).get("fields") or {}
    problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
    raise click.ClickException(problems or localize(exc.message))


@methodologies_cli.command("upload")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def methodologies_upload(file: Path) -> None:
    """Validate FILE (.toml or .json) and store it as a draft version."""
    fmt = services.format_of(file.name, None)
    if fmt is None:
        raise click.BadParameter("the file name must end in .toml or .json", param_hint="FILE")
    try:
        row = services.upload(file.read_bytes(), fmt).row
    except ApiError as exc:
        db.session.rollback()
        _fail(exc)
    db.session.commit()
    click.echo(f"{row.methodology_id} v{row.version}: draft, sha256 {row.content_hash}")


@methodologies_cli.command("list")
@click.argument("methodology_id", required=False)
def methodologies_list(methodology_id: str | None) -> None:
    """Every version: id, version, status, effective dates, source, short hash."""
    for view in services.versions(methodology_id):
        m = view.methodology
        until = m.effective_to.isoformat() if m.effective_to else "-"
        click.echo(
            f"{m.id}\tv{m.version}\t{m.status}\t{m.effective_from.isoformat()}..{until}\t"
            f"{view.source}\t{m.content_hash[:12]}"
        )


@methodologies_cli.command("publish")
@click.argument("methodology_id")
@click.argument("version", type=int)
@click.option(
    "--effective-from",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First visit date (YYYY-MM-DD) scored with this version.",
)
def methodologies_publish(methodology_id: str, version: int, effective_from) -> None:
    """Publish draft VERSION of METHODOLOGY_ID; it can never change afterwards."""
    day: date = effective_from.date()
    try:
        row = services.publish(methodology_id, version, day)
    except ApiError as exc:
        db.session.rollback()
        _fail(exc)
    db.session.commit()
    click.echo(f"{row.methodology_id} v{row.version}: published, in force from {day}")
