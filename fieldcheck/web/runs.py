"""Zoning runs pages: the list and the start form, one run's progress and changes, publishing.

A thin shell over the services behind ``/api/v1/zoning-runs``: the same visibility rule
(``zoning.visibility``), the same request rules (``zoning.services.create_run``), the same
publication rule (``publication.services``). A run started here is queued like one posted to the
API and executed by the scheduler's queue poll, never inside the request.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from fieldcheck.auth.services import user_names
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core.model import Methodology
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.http import paginate
from fieldcheck.i18n import N_, _, localize, localize_details, render_reason
from fieldcheck.publication.services import may_publish, publish
from fieldcheck.regions.models import Region
from fieldcheck.web.access import STAFF, page_role
from fieldcheck.web.args import page_number
from fieldcheck.web.blueprint import bp
from fieldcheck.zoning import subjects
from fieldcheck.zoning.diff import rerun_check
from fieldcheck.zoning.models import RUN_STATES, ZoningRun
from fieldcheck.zoning.reading import changes_query
from fieldcheck.zoning.services import create_run, current_period, default_methodology_id
from fieldcheck.zoning.visibility import get_visible_run, visible_runs_query

PER_PAGE = 25
#: Agencies listed with their dimensions on a run page (the rest: /results and the exports).
DIMENSION_ROWS = 100
#: The changes a run page lists: unit and agency rows (the levels a run compares).
CHANGE_LEVELS = (N_("unit"), N_("agency"))
#: Words for the kinds of run a list shows, and the modes a run works in.
KINDS = (N_("national"), N_("regional"), N_("what-if"))
MODES = (N_("full"), N_("incremental"))
#: Who asked for a run that names no person.
TRIGGERS = {
    "api": N_("the API"),
    "web": N_("a web page"),
    "cli": N_("the command line"),
    "schedule": N_("the nightly schedule"),
}


def _region_names(codes: set[str]) -> dict[str, str]:
    """Region names by code, one query for the page."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    rows = db.session.execute(select(Region.code, Region.name).where(Region.code.in_(wanted)))
    return dict(rows.tuples().all())


def kind(run: ZoningRun) -> str:
    """The run's kind as a msgid: what-if (dry run), national or regional."""
    if run.is_dry_run:
        return "what-if"
    return "regional" if run.scope else "national"


def _methodologies() -> list[Methodology]:
    """Loaded methodologies, published first (only a what-if may use a draft one)."""
    return sorted(
        get_registry().methodologies.values(), key=lambda m: (m.status != "published", m.id)
    )


def _form_defaults() -> dict[str, Any]:
    """The start form as first shown: the default methodology, this year, the user's region."""
    try:
        methodology = default_methodology_id()
    except ApiError:
        methodology = ""
    return {
        "methodology": methodology,
        "period": str(current_period()),
        "region": g.user.region_code or "",
        "what_if": False,
        "full": False,
        "weights": {},
    }


def _list_page(form: dict[str, Any], errors: dict[str, list[str]], status: int = 200):
    """The runs list with the start form (``form`` and ``errors`` after a refused POST)."""
    page = page_number()
    state = request.args.get("state", "")
    query = visible_runs_query(g.user, state if state in RUN_STATES else None)
    runs, total = paginate(query, page, PER_PAGE)
    names = user_names({r.requested_by for r in runs} | {r.published_by for r in runs})
    regions = _region_names({r.scope for r in runs})
    methodologies = _methodologies()
    chosen_id = form["methodology"] or _form_defaults()["methodology"]
    chosen = next((m for m in methodologies if m.id == chosen_id), None)
    indicators = [] if chosen is None else chosen.indicators
    shown = {"methodology", "period", "region", "weights"} | {
        f"weight-{i.code}" for i in indicators
    }
    # Problems of fields the form does not show (an unknown indicator's weight) go on top.
    general = list(errors.get("", []))
    for key, messages in errors.items():
        if key and key not in shown:
            general += [f"{key.removeprefix('weight-')}: {m}" for m in messages]
    return render_template(
        "web/runs/list.html",
        runs=runs,
        total=total,
        page=page,
        per_page=PER_PAGE,
        state=state if state in RUN_STATES else "",
        states=RUN_STATES,
        names=names,
        regions=regions,
        kind=kind,
        methodologies=methodologies,
        indicators=indicators,
        form=dict(form, methodology=chosen_id),
        errors=errors,
        general_errors=general,
        weight_errors=any(key.startswith("weight-") for key in errors),
        triggers=TRIGGERS,
    ), status


@bp.get("/runs")
@page_role(*STAFF)
def runs():
    """Zoning runs the person may see, newest first, and the form to start one."""
    return _list_page(_form_defaults(), {})


def _read_start_form() -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The start form as typed, and the problems only the page can see (a year that is not a
    number); every other rule is ``create_run``'s."""
    form = request.form
    errors: dict[str, list[str]] = {}
    typed = {
        "methodology": form.get("methodology", "").strip()[:64],
        "period": form.get("period", "").strip()[:16],
        "region": form.get("region", "").strip()[:16],
        "what_if": form.get("what_if") == "1",
        "full": form.get("full") == "1",
        "weights": {},
    }
    if typed["period"] and not typed["period"].isdigit():
        errors["period"] = [_("Enter a year, such as %(year)s.", year=current_period())]
    for key, value in form.items():
        if key.startswith("weight-") and value.strip():
            typed["weights"][key.removeprefix("weight-")[:32]] = value.strip()[:32]
    return typed, errors


def _weight(text: str) -> float | str:
    """A typed weight as a number ("2,5" as Indonesians write it); text the service refuses
    (with its own message) when it is no number."""
    try:
        return float(Decimal(text.replace(",", ".")))
    except InvalidOperation:
        return text


@bp.post("/runs")
@page_role(*STAFF)
def start_run():
    """Queue a zoning run as ``POST /api/v1/zoning-runs`` does; the scheduler executes it."""
    typed, errors = _read_start_form()
    if errors:
        return _list_page(typed, errors, 422)
    weights = {code: _weight(v) for code, v in typed["weights"].items()} or None
    try:
        run = create_run(
            methodology_id=typed["methodology"] or None,
            period=int(typed["period"]) if typed["period"] else None,
            region=typed["region"] or None,
            dry_run=typed["what_if"],
            weights=weights,
            full=typed["full"],
            trigger="web",
            user=g.user,
        )
    except ApiError as exc:
        # Refused before anything was written; a status >= 400 commits nothing anyway.
        fields = localize_details(exc.details).get("fields") or {}
        if not fields:
            fields = {"": [localize(exc.message)]}
        return _list_page(typed, _by_field(fields), exc.status)
    flash(_("Run #%(run_id)s is queued; it starts within a few seconds.", run_id=run.id), "success")
    return redirect(url_for("web.run", run_id=run.id), 303)


def _by_field(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """Service errors keyed for the form: ``weights.X`` messages go under ``weight-X``."""
    out: dict[str, list[str]] = {}
    for path, messages in fields.items():
        key = "weight-" + path.removeprefix("weights.") if path.startswith("weights.") else path
        out.setdefault(key, []).extend(messages)
    return out


def _progress_context(run: ZoningRun) -> dict[str, Any]:
    """What the progress block shows: state, percent, the reason a run failed or was skipped."""
    percent = 100 if run.state == "succeeded" else 0
    if run.state != "succeeded" and run.progress_total:
        percent = round(100 * run.progress_done / run.progress_total)
    return {
        "run": run,
        "percent": percent,
        "reason": render_reason(run.error, run.error_params),
        "polling": run.state in ("queued", "running"),
        # Whole-run counts only for those whose region covers the run: a scoped supervisor
        # reading a national run sees their own region's changes, not the country's tallies.
        "show_counts": may_publish(g.user, run),
    }


def _run_page(run: ZoningRun, refusal: str | None = None, status: int = 200):
    """One run: facts, progress, the changes against the published run, the publish form."""
    level = request.args.get("level", "")
    level = level if level in CHANGE_LEVELS else None
    moves_only = request.args.get("moves", "1") != "0"
    page = page_number()
    changes, total = paginate(
        changes_query(g.user, run, level=level, zone_moves_only=moves_only), page, PER_PAGE
    )
    names = user_names({run.requested_by, run.published_by})
    regions = _region_names({run.scope})
    scored = {}
    if run.state == "succeeded" and subjects.scored_by_dimensions(run):
        # Issue 16: each agency's dimension scores, total, category and zone; the incomplete.
        scored = {
            "dimension_heads": subjects.dimension_heads(run),
            "dimension_rows": subjects.dimension_rows(g.user, run, limit=DIMENSION_ROWS),
            "incomplete": subjects.incomplete(g.user, run),
            "subject_level": subjects.subject_level(run),
        }
    return render_template(
        "web/runs/run.html",
        **scored,
        rerun=rerun_check(run),
        kind=kind(run),
        names=names,
        regions=regions,
        changes=changes,
        changes_total=total,
        page=page,
        per_page=PER_PAGE,
        level=level or "",
        levels=CHANGE_LEVELS,
        moves_only=moves_only,
        may_publish=may_publish(g.user, run),
        refusal=refusal,
        triggers=TRIGGERS,
        **_progress_context(run),
    ), status


@bp.get("/runs/<int:run_id>")
@page_role(*STAFF)
def run(run_id: int):
    """A run's state and progress (polled while it works), counts, changes, publish button."""
    return _run_page(get_visible_run(run_id))


@bp.get("/runs/<int:run_id>/progress")
@page_role(*STAFF)
def run_progress(run_id: int):
    """The progress block alone, for htmx to poll; a finished run reloads the whole page
    (``HX-Refresh``) so its changes and the publish button appear."""
    run = get_visible_run(run_id)
    context = _progress_context(run)
    response = current_app.make_response(render_template("web/runs/_progress.html", **context))
    if request.headers.get("HX-Request") and not context["polling"]:
        response.headers["HX-Refresh"] = "true"
    return response


@bp.post("/runs/<int:run_id>/publish")
@page_role(*STAFF)
def publish_run(run_id: int):
    """Make the run the official result, as ``POST /api/v1/zoning-runs/<id>/publish``."""
    run = get_visible_run(run_id)
    try:
        changed = publish(run, g.user)
    except ApiError as exc:
        # Refused before anything changed (not succeeded, a what-if, out of scope).
        return _run_page(run, localize(exc.message), exc.status)
    if changed:
        flash(_("Run #%(run_id)s is now the official result.", run_id=run.id), "success")
    else:
        flash(_("Run #%(run_id)s already was the official result.", run_id=run.id), "info")
    return redirect(url_for("web.run", run_id=run.id), 303)
