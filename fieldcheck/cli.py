"""``flask --app app ...`` commands: seed-demo, import-units, users, regions."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from fieldcheck.audit.cli import audit_cli
from fieldcheck.audit.services import record
from fieldcheck.auth.collect import collect_settings, encode_settings, qr_code, unreachable_host
from fieldcheck.auth.models import ApiToken, User
from fieldcheck.auth.passwords import (
    password_problems,
    set_password,
    set_username,
    unlock,
    username_problems,
)
from fieldcheck.auth.services import create_user, deactivate_user, new_token, revoke_token
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.dbroles import RoleProblem, app_role_of, grant_app_role, migration_engine
from fieldcheck.demo.seed import seed_demo
from fieldcheck.evidence.retention import purge_rejected
from fieldcheck.extensions import db
from fieldcheck.methodologies.cli import methodologies_cli
from fieldcheck.publication.cli import rescore_command
from fieldcheck.regions.models import Region
from fieldcheck.regions.services import sync_regions
from fieldcheck.units.services import ImportError_, import_units
from fieldcheck.webhooks.cli import webhooks_cli, worker_command
from fieldcheck.zoning.cli import rerun_command, scheduler_command

users_cli = AppGroup("users", help="Create and list users, set passwords; tokens are printed once.")
photos_cli = AppGroup("photos", help="Photo evidence maintenance (retention).")


def register(app: Flask) -> None:
    """Attach every command to ``app``."""
    app.cli.add_command(users_cli)
    app.cli.add_command(photos_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(import_units_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(regions_sync_command)
    app.cli.add_command(audit_cli)
    app.cli.add_command(methodologies_cli)

    app.cli.add_command(rescore_command)
    app.cli.add_command(rerun_command)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(webhooks_cli)
    app.cli.add_command(worker_command)
    # Beside Flask-Migrate's own `flask db upgrade`: the owner runs both (docs/deploy.md).
    from flask_migrate.cli import db as db_cli

    db_cli.add_command(grant_app_role_command)


@users_cli.command("create")
@click.option("--name", required=True, help="Full name shown in the audit log.")
@click.option("--role", required=True, type=click.Choice(["surveyor", "supervisor", "admin"]))
@click.option("--region", default=None, help="Region code the user is limited to (e.g. 35).")
@click.option(
    "--username",
    default=None,
    help="Login name for the web app; asks for a temporary password (changed at first login).",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the temporary password from the first line of standard input (scripts).",
)
def users_create(
    name: str, role: str, region: str | None, username: str | None, password_stdin: bool
) -> None:
    """Create a user and print its token alone on the last line (it is not shown again)."""
    if region is not None and db.session.get(Region, region) is None:
        raise click.BadParameter(f"unknown region code {region}", param_hint="--region")
    if not name.strip():
        raise click.BadParameter(
            "must not be blank: it is who the audit log shows", param_hint="--name"
        )
    password = None
    if username is not None:
        username = username.strip()
        _check(username_problems(username), "--username")
        password = _read_password(password_stdin, username)
    elif password_stdin:
        raise click.UsageError("--password-stdin needs --username (a password is for logging in)")
    user, token = create_user(name, role, region, username=username)
    if password is not None:
        set_password(user, password, actor=None, must_change=True)
    db.session.commit()
    login = f", login {username} (must change the password)" if username else ""
    click.echo(
        f"created {role} #{user.id} {user.name} (region {region or 'national'}){login}", err=True
    )
    click.echo(token)


@users_cli.command("set-password")
@click.argument("user_id", type=int)
@click.option("--username", default=None, help="Give the user this login name first.")
@click.option(
    "--temporary/--permanent",
    default=True,
    show_default=True,
    help="Temporary: the user must choose their own at the next login.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_set_password(
    user_id: int, username: str | None, temporary: bool, password_stdin: bool
) -> None:
    """Set a user's web password (audited as the system); their browser sessions end."""
    user = _user_or_fail(user_id)
    if username is not None and username.strip() != (user.username or ""):
        username = username.strip()
        _check(username_problems(username), "--username")
        set_username(user, username, actor=None)
    if not user.username:
        raise click.UsageError(f"user #{user.id} has no username: pass --username NAME")
    password = _read_password(password_stdin, user.username)
    set_password(user, password, actor=None, must_change=temporary)
    db.session.commit()
    kind = "temporary (must change at next login)" if temporary else "permanent"
    click.echo(f"user #{user.id} {user.username}: password set, {kind}")


@users_cli.command("unlock")
@click.argument("user_id", type=int)
def users_unlock(user_id: int) -> None:
    """Lift a lockout after too many wrong passwords (audited as the system)."""
    user = _user_or_fail(user_id)
    changed = unlock(user, actor=None)
    db.session.commit()
    click.echo(f"user #{user.id} {user.name}: {'unlocked' if changed else 'was not locked'}")


def _user_or_fail(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise click.BadParameter(f"no user #{user_id}", param_hint="USER_ID")
    return user


def _check(problems: list[str], hint: str) -> None:
    """Refuse a value with the catalogue's messages (English on the command line)."""
    if problems:
        raise click.BadParameter(" ".join(problems), param_hint=hint)


def _read_password(from_stdin: bool, username: str) -> str:
    """A password from stdin's first line, or asked twice without echo; checked by the rule."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    _check(password_problems(password, username), "password")
    return password


@users_cli.command("list")
def users_list() -> None:
    """List users with role, region, login name and token count."""
    for user in db.session.execute(select(User).order_by(User.id)).unique().scalars():
        if not user.is_active:
            state = "deactivated"
        else:
            active = sum(1 for t in user.tokens if t.revoked_at is None)
            state = f"{active} active token(s)"
        login = user.username or "-"
        click.echo(
            f"#{user.id}\t{user.role}\t{user.region_code or '-'}\t{login}\t{user.name}\t{state}"
        )


@users_cli.command("deactivate")
@click.argument("user_id", type=int)
def users_deactivate(user_id: int) -> None:
    """Deactivate a user (audited as the system); their tokens stop working at once."""
    user = db.session.get(User, user_id)
    if user is None:
        raise click.BadParameter(f"no user #{user_id}", param_hint="USER_ID")
    changed = deactivate_user(user)
    db.session.commit()
    click.echo(f"user #{user.id} {user.name}: {'deactivated' if changed else 'already inactive'}")


@users_cli.command("collect-qr")
@click.argument("user_id", type=int)
@click.option(
    "--expires-in-days",
    type=click.IntRange(1, 3650),
    default=None,
    help="The token expires after this many days (default: until revoked).",
)
@click.option(
    "--base-url",
    default=None,
    help="The address phones reach this server at (default: public_base_url from the config).",
)
@click.option(
    "--png",
    "png",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also save the QR code as a PNG image (to print; it holds the token: keep it safe).",
)
def users_collect_qr(
    user_id: int, expires_in_days: int | None, base_url: str | None, png: Path | None
) -> None:
    """Issue a token for a surveyor's ODK Collect and print the settings QR code to scan in
    Collect ("Configure with QR code"); its text is alone on the last line."""
    user = _user_or_fail(user_id)
    if user.role != "surveyor":
        raise click.UsageError(f"user #{user.id} is a {user.role}: ODK Collect is for surveyors")
    if not user.is_active:
        raise click.UsageError(f"user #{user.id} is deactivated")
    base = (base_url or current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    if not base:
        raise click.UsageError(
            "phones need this server's address: set public_base_url or pass --base-url"
        )
    if host := unreachable_host(base):
        click.echo(
            f"warning: a phone cannot reach {host} (this computer's own address); pass"
            " --base-url with an address phones reach and serve on it (make run HOST=0.0.0.0)",
            err=True,
        )
    expires = timedelta(days=expires_in_days) if expires_in_days else None
    _row, token = new_token(user, expires, actor=None, client="odk-collect")
    db.session.commit()
    settings = collect_settings(base, token, user)
    payload = encode_settings(settings)
    qr = qr_code(payload)
    if png is not None:
        qr.save(png, scale=8, border=4)
    click.echo(
        f"ODK Collect token for surveyor #{user.id} {user.name}"
        f" (expires {'in ' + str(expires_in_days) + ' days' if expires_in_days else 'never'});"
        " scan with Collect: Configure with QR code",
        err=True,
    )
    qr.terminal(out=sys.stdout, compact=True)
    click.echo(json.dumps(settings, ensure_ascii=False, indent=2))
    click.echo(payload)


tokens_cli = AppGroup("tokens", help="Revoke API tokens.")


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by id (audited as the system)."""
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise click.BadParameter(f"no token #{token_id}", param_hint="TOKEN_ID")
    changed = revoke_token(row)
    db.session.commit()
    click.echo(f"token #{row.id} ({row.prefix}...): {'revoked' if changed else 'already revoked'}")


@click.command("import-units")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_units_command(file: Path) -> None:
    """Create or update units from a CSV; a bad row aborts the whole file with its line number."""
    try:
        with file.open(encoding="utf-8", newline="") as fh:
            report = import_units(fh, set(get_registry().catalogue.services))
    except ImportError_ as exc:
        db.session.rollback()
        for line, problem in exc.problems:
            click.echo(f"{file}:{line}: {problem}", err=True)
        click.echo(f"nothing imported: {len(exc.problems)} problem(s)", err=True)
        sys.exit(1)
    except UnicodeDecodeError:
        db.session.rollback()
        click.echo(f"{file}: not UTF-8 text; nothing imported", err=True)
        sys.exit(1)
    record(
        "units.import",
        "import",
        file.name,
        after={
            "file": str(file),
            "lines": report.lines,
            "units_added": report.units_added,
            "units_updated": report.units_updated,
            "units_unchanged": report.units_unchanged,
            "agencies_added": report.agencies_added,
            "agencies_updated": report.agencies_updated,
        },
    )
    db.session.commit()
    click.echo(
        f"{report.lines} rows: {report.units_added} units added, {report.units_updated} updated, "
        f"{report.units_unchanged} unchanged; {report.agencies_added} agencies added, "
        f"{report.agencies_updated} updated"
    )


@click.command("regions-sync")
@with_appcontext
def regions_sync_command() -> None:
    """Bring the regions table in step with the shipped Kemendagri list."""
    added, updated = sync_regions()
    db.session.commit()
    click.echo(f"regions: {added} added, {updated} updated")


@click.command("seed-demo")
@with_appcontext
@click.option(
    "--tokens-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the demo tokens (default: instance/demo-tokens.txt).",
)
def seed_demo_command(tokens_file: Path | None) -> None:
    """Load demo agencies, units and users; print fresh demo tokens (the previous seed's tokens,
    those in the tokens file, are revoked; tokens an admin issued to demo users are kept)."""
    # With the 2022 method's visits and run (issue 16): what ``make run`` shows.
    tokens = seed_demo(tokens_file, method_2022=True)
    db.session.commit()
    for user_name, role, region, token in tokens:
        click.echo(f"{role:<10} {region or 'national':<9} {user_name:<28} {token}")


@photos_cli.command("purge-rejected")
@click.option(
    "--older-than-days",
    type=click.IntRange(min=0),
    default=None,
    help="Default: PHOTO_RETENTION_DAYS_REJECTED.",
)
@click.option("--dry-run", is_flag=True, help="List what would be deleted; change nothing.")
def photos_purge_rejected(older_than_days: int | None, dry_run: bool) -> None:
    """Delete photos used only by inspections rejected longer ago than the retention period."""

    days = (
        current_app.config["PHOTO_RETENTION_DAYS_REJECTED"]
        if older_than_days is None
        else older_than_days
    )
    purged = purge_rejected(days, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    verb = "would delete" if dry_run else "deleted"
    for candidate in purged:
        ids = ", ".join(f"#{i}" for i in candidate.inspection_ids)
        click.echo(f"{verb} {candidate.sha256} ({candidate.size_bytes} bytes; inspections {ids})")
    total = sum(c.size_bytes for c in purged)
    click.echo(f"{verb} {len(purged)} photo(s), {total} bytes (rejected > {days} days ago)")


@click.command("grant-app-role")
@with_appcontext
@click.argument("role", required=False)
@click.option("--sql", "print_sql", is_flag=True, help="Print the statements; change nothing.")
def grant_app_role_command(role: str | None, print_sql: bool) -> None:
    """Give the app's PostgreSQL role exactly what the app needs (run as the owner after each
    upgrade). ROLE defaults to DATABASE_URL's user when MIGRATION_DATABASE_URL is set."""
    role = role or app_role_of(current_app)
    if not role:
        raise click.UsageError(
            "name the app role (or set MIGRATION_DATABASE_URL to the owner's URL, and "
            "DATABASE_URL to the app role's)"
        )
    try:
        report = grant_app_role(migration_engine(current_app), role, execute=not print_sql)
    except RoleProblem as exc:
        click.echo(f"grant-app-role: {exc}", err=True)
        sys.exit(1)
    if print_sql:
        click.echo(";\n".join(report.statements) + ";")
        return
    click.echo(
        f"{report.role}: read/write {len(report.read_write)} tables, append-only "
        f"{', '.join(report.append_only) or '-'}, read-only {', '.join(report.read_only) or '-'}; "
        f"sequences USAGE+SELECT; future tables of {report.owner}: SELECT, INSERT until the next "
        "grant-app-role"
    )
