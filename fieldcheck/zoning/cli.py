"""``flask --app app rescore`` and ``flask --app app scheduler``.

``rescore --publish`` makes the run official through the publication package, which sits above
zoning: it builds the command with its publisher (fieldcheck.publication.cli), so nothing here
imports it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from fieldcheck.catalogue.registry import get_registry
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import localize, render_reason
from fieldcheck.zoning.diff import result_differences
from fieldcheck.zoning.lifecycle import execute
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.services import create_run, rerun

#: Makes a succeeded run the official result, as an admin at the command line (audited).
Publisher = Callable[[ZoningRun], None]


def make_rescore_command(publish_run: Publisher) -> click.Command:
    """The ``rescore`` command; ``--publish`` hands the succeeded run to ``publish_run``."""

    @click.command("rescore")
    @with_appcontext
    @click.option("--methodology", default=None, help="Methodology id (default: newest published).")
    @click.option("--region", default=None, help="Limit the run to a region code (e.g. 35).")
    @click.option("--period", type=int, default=None, help="Assessment year (default: this year).")
    @click.option("--full", is_flag=True, help="Recompute every unit, not only the changed ones.")
    @click.option(
        "--dry-run", is_flag=True, help="What-if: store nothing official, print the diff."
    )
    @click.option(
        "--weights",
        "weights_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="With --dry-run: JSON file {indicator_code: weight} of draft weights.",
    )
    @click.option("--publish", is_flag=True, help="Admin: make the run the official result.")
    @click.option(
        "--from-answers",
        is_flag=True,
        help="Re-score every inspection from its answers even when its stored score is current.",
    )
    @click.option(
        "--methodology-version",
        type=int,
        default=None,
        help="Exactly this version (a draft only with --dry-run); default: the one in force today.",
    )
    @click.option("--no-progress", is_flag=True, help="No progress bar (logs, cron).")
    def rescore_command(publish: bool, **options: Any) -> None:
        """Run zoning now; exits 0 and says so when another run holds the lease."""
        rescore(publish_run=publish_run if publish else None, **options)

    return rescore_command


def rescore(
    methodology: str | None,
    region: str | None,
    period: int | None,
    full: bool,
    dry_run: bool,
    weights_file: Path | None,
    publish_run: Publisher | None,
    from_answers: bool,
    no_progress: bool,
    methodology_version: int | None = None,
) -> None:
    """Create a run, execute it with a progress bar, publish it when asked, print a summary."""
    # Loaded when the command runs, not when the app starts: web workers never draw a bar.
    from tqdm import tqdm

    publish = publish_run is not None
    if publish and dry_run:
        raise click.UsageError("a dry run can never be published")
    if region is not None and not region.strip():
        # An empty --region would silently mean the whole country.
        raise click.BadParameter("must be a region code (leave it out for a national run)")
    if weights_file is not None and not dry_run:
        raise click.UsageError("--weights needs --dry-run")
    weights = None
    if weights_file is not None:
        try:
            weights = json.loads(weights_file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--weights") from None
    try:
        run = create_run(
            methodology_id=methodology,
            period=period,
            region=region,
            dry_run=dry_run,
            weights=weights,
            full=full,
            trigger="cli",
            version=methodology_version,
        )
    except ApiError as exc:
        db.session.rollback()
        fields = exc.details.get("fields", {}) if exc.details else {}
        for path, messages in fields.items():
            click.echo(f"{path}: {'; '.join(messages)}", err=True)
        click.echo(f"nothing run: {exc.message}", err=True)
        sys.exit(2)
    db.session.commit()
    run_id = run.id

    bar: Any = None

    def progress(done: int, total: int, inspections: int) -> None:
        nonlocal bar
        if no_progress:
            return
        if bar is None:
            bar = tqdm(total=total, unit="unit", desc=f"run #{run_id}", file=sys.stderr)
        bar.total = total
        bar.n = done
        bar.set_postfix(inspections=inspections, refresh=False)
        bar.refresh()

    outcome = execute(run_id, progress=progress, from_answers=from_answers)
    if bar is not None:
        bar.close()
    if outcome.state == "skipped":
        click.echo(f"run #{run_id} {outcome.message}")
        return
    run = db.session.get(ZoningRun, run_id)
    if outcome.state != "succeeded":
        reason = render_reason(run.error, run.error_params, "en")
        click.echo(f"run #{run_id} failed: {reason}", err=True)
        sys.exit(1)
    if publish:
        # Before anything is printed: a closed stdout (``rescore --publish | head``) must not
        # leave a succeeded run unpublished.
        publish_run(run)  # audited like a publish through the API
        db.session.commit()
    _summary(run)
    if publish:
        click.echo(f"run #{run_id} published as the official result")


def _summary(run: Any) -> None:
    counts = run.counts
    zones = counts.get("zones", {})
    click.echo(
        f"run #{run.id} succeeded: {run.methodology_id} v{run.methodology_version}, period "
        f"{run.period}, scope {run.scope or 'national'}, {run.mode}"
        f"{' (dry run)' if run.is_dry_run else ''} in {run.duration_seconds:.2f}s"
    )
    click.echo(
        f"  {counts['inspections']} inspections ({counts['inspections_rescored']} re-scored from "
        f"answers), {counts['units_recomputed']} units recomputed"
    )
    for level in ("unit", "agency", "regency", "province"):
        z = zones.get(level, {})
        # Every zone of the run's methodology, worst first (stored JSON may not keep the order).
        order = [*get_registry().zones_of(run.methodology_id), *sorted(z)]
        parts = ", ".join(f"{code} {z.get(code, 0)}" for code in dict.fromkeys(order))
        click.echo(f"  {level:<8} {sum(z.values()):>6}: {parts}")
    if "subjects" in counts:
        # Issue 16: scored by dimensions; an incomplete subject is never zoned.
        click.echo(
            f"  {counts['incomplete']} {counts['subjects']['level']}(s) incomplete, not zoned "
            "(GET /api/v1/results lists them under incomplete)"
        )
    if run.compared_run_id is not None:
        click.echo(
            f"  against official run #{run.compared_run_id}: {counts['changes']} unit and "
            f"agency row(s) changed, {counts['zone_moves']} zone move(s) "
            f"(GET /api/v1/zoning-runs/{run.id}/changes lists them)"
        )
    else:
        click.echo("  no official run to compare with yet")


@click.command("rerun")
@with_appcontext
@click.argument("run_id", type=int)
def rerun_command(run_id: int) -> None:
    """Repeat run RUN_ID with its own methodology version and hash, period and scope (a dry
    run), and say whether every stored number came out the same."""
    original = db.session.get(ZoningRun, run_id)
    if original is None:
        raise click.BadParameter(f"no run #{run_id}", param_hint="RUN_ID")
    try:
        run = rerun(original, trigger="cli")
    except ApiError as exc:
        db.session.rollback()
        click.echo(f"nothing run: {localize(exc.message)}", err=True)
        sys.exit(2)
    db.session.commit()
    new_id = run.id
    outcome = execute(new_id)
    if outcome.state != "succeeded":
        click.echo(f"run #{new_id} {outcome.state}: {outcome.message or ''}", err=True)
        sys.exit(1)
    run = db.session.get(ZoningRun, new_id)
    original = db.session.get(ZoningRun, run_id)
    _summary(run)
    differing = result_differences(original, run)
    if differing:
        click.echo(f"  differs from run #{run_id} in {len(differing)} row(s): {differing[:10]}")
        sys.exit(1)
    click.echo(f"  every result row equals run #{run_id}'s")


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the nightly zoning job and the API run queue in the foreground (Ctrl-C stops)."""
    # APScheduler is loaded by the scheduler process only, not by every app that registers
    # this command.
    from fieldcheck.zoning.scheduler import JOB_NIGHTLY, build_scheduler

    app = current_app._get_current_object()  # the jobs need the app, not the proxy
    logging.getLogger("apscheduler").setLevel(app.config["LOG_LEVEL"])
    scheduler = build_scheduler(app)

    def stop(_signum: int, _frame: Any) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    for job in scheduler.get_jobs():
        click.echo(f"job {job.id}: {job.trigger}", err=True)
    click.echo(
        f"scheduler started; nightly run {app.config['SCHEDULER_CRON']} "
        f"({app.config['SCHEDULER_TIMEZONE']}), job id {JOB_NIGHTLY}",
        err=True,
    )
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
    click.echo("scheduler stopped", err=True)
