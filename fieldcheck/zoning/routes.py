"""HTTP endpoints for zoning runs and results."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, url_for

from fieldcheck.auth.services import current_user, require_role
from fieldcheck.errors import ApiError
from fieldcheck.http import json_body, load, load_args, page_body, paginate
from fieldcheck.i18n import N_
from fieldcheck.openapi.doc import LOCATION, PageOf, Response, api_doc
from fieldcheck.units.visibility import get_visible_unit, visible_agency
from fieldcheck.zoning import reading, subjects
from fieldcheck.zoning.diff import rerun_check, zone_diff
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.overrides import active_overrides_by_code, final_zone
from fieldcheck.zoning.reading import run_header
from fieldcheck.zoning.services import create_run, rerun
from fieldcheck.zoning.unit_result import unit_result
from fieldcheck.zoning.visibility import get_visible_run, visible_runs_query
from schemas.publication import OverrideBriefSchema
from schemas.zoning import (
    AgencyResultSchema,
    ChangeArgsSchema,
    ChangeSchema,
    ChangesHeaderSchema,
    DiffArgsSchema,
    DiffHeaderSchema,
    ResultArgsSchema,
    ResultRowSchema,
    ResultSchema,
    ResultsHeaderSchema,
    RunListArgsSchema,
    UnitResultArgsSchema,
    UnitResultSchema,
    ZoneMoveSchema,
    ZoningRunCreateSchema,
    ZoningRunSchema,
)

bp = Blueprint("zoning", __name__)

#: Surveyors do not see rankings: results are for supervisors and admins.
READERS = ("supervisor", "admin")


def resolve_run(args: dict[str, Any], region: str | None = None) -> ZoningRun | None:
    """The run a results query reads (``run``, ``methodology``, ``period`` of the query args)
    covering ``region``, else the query's ``region``, else the caller's (reading.resolve_run)."""
    return reading.resolve_run(
        current_user(),
        run=args.get("run"),
        methodology=args.get("methodology"),
        period=args.get("period"),
        region=region or args.get("region"),
    )


@bp.post("/zoning-runs")
@api_doc(
    body=ZoningRunCreateSchema,
    responses={202: Response(ZoningRunSchema, "Queued.", headers=LOCATION)},
    errors=("conflict", "out_of_scope"),
)
@require_role(*READERS)
def create_zoning_run():
    """Queue a zoning run (202); the scheduler process starts it within a poll interval."""
    data = load(ZoningRunCreateSchema(), json_body())
    run = create_run(
        methodology_id=data["methodology"],
        period=data["period"],
        region=data["region"],
        dry_run=data["dry_run"],
        weights=data["weights"],
        full=data["full"],
        trigger="api",
        user=current_user(),
        version=data["version"],
    )
    headers = {"Location": url_for(".get_zoning_run", run_id=run.id)}
    return ZoningRunSchema().dump(run), 202, headers


@bp.post("/zoning-runs/<int:run_id>/rerun")
@api_doc(
    responses={202: Response(ZoningRunSchema, "Queued.", headers=LOCATION)},
    errors=("conflict", "out_of_scope"),
)
@require_role(*READERS)
def rerun_zoning_run(run_id: int):
    """Queue a dry run repeating a run exactly: its methodology version and hash, period and
    scope (issue 16); its results must equal the original's."""
    run = rerun(get_visible_run(run_id), trigger="api", user=current_user())
    headers = {"Location": url_for(".get_zoning_run", run_id=run.id)}
    return ZoningRunSchema().dump(run), 202, headers


@bp.get("/zoning-runs/<int:run_id>/diff")
@api_doc(
    args=DiffArgsSchema,
    responses={200: PageOf(ZoneMoveSchema, extra=DiffHeaderSchema)},
    errors=("conflict",),
)
@require_role(*READERS)
def get_zone_diff(run_id: int):
    """Places whose zone differs between the run and a baseline: ``against`` a run, by default
    the official run of its period and scope (whatever methodology), else the newest real run."""
    run = get_visible_run(run_id)
    args = load_args(DiffArgsSchema())
    baseline, moves = zone_diff(current_user(), run, args.get("against"), args.get("level"))
    start = (args["page"] - 1) * args["per_page"]
    page = moves[start : start + args["per_page"]]
    body = page_body(
        ZoneMoveSchema(many=True).dump(page), args["page"], args["per_page"], len(moves)
    )
    body.update(diff_header(run, baseline))
    return body


def diff_header(run: ZoningRun, baseline: ZoningRun | None) -> dict[str, Any]:
    """The two runs a diff compares (also the web page's header)."""
    return {
        "run_id": run.id,
        "against_run_id": None if baseline is None else baseline.id,
        "methodology": run.methodology_id,
        "methodology_version": run.methodology_version,
        "against_methodology": None if baseline is None else baseline.methodology_id,
        "against_methodology_version": None if baseline is None else baseline.methodology_version,
    }


@bp.get("/zoning-runs")
@api_doc(args=RunListArgsSchema, responses={200: PageOf(ZoningRunSchema)})
@require_role(*READERS)
def list_zoning_runs():
    """Runs the caller may see, newest first."""
    args = load_args(RunListArgsSchema())
    query = visible_runs_query(current_user(), args.get("state"))
    items, total = paginate(query, args["page"], args["per_page"])
    return page_body(ZoningRunSchema(many=True).dump(items), args["page"], args["per_page"], total)


@bp.get("/zoning-runs/<int:run_id>")
@api_doc(responses={200: ZoningRunSchema})
@require_role(*READERS)
def get_zoning_run(run_id: int):
    """One run: state, progress, counts, duration; for a rerun, whether it reproduced the run
    it repeats (``rerun``)."""
    run = get_visible_run(run_id)
    body = ZoningRunSchema().dump(run)
    body["rerun"] = rerun_check(run)
    return body


@bp.get("/zoning-runs/<int:run_id>/changes")
@api_doc(
    args=ChangeArgsSchema,
    responses={200: PageOf(ChangeSchema, extra=ChangesHeaderSchema)},
)
@require_role(*READERS)
def list_run_changes(run_id: int):
    """Unit and agency zone moves and score deltas against the run it was compared with."""
    run = get_visible_run(run_id)
    args = load_args(ChangeArgsSchema())
    query = reading.changes_query(
        current_user(),
        run,
        level=args.get("level"),
        zone_moves_only=args["zone_moves_only"],
    )
    items, total = paginate(query, args["page"], args["per_page"])
    body = page_body(ChangeSchema(many=True).dump(items), args["page"], args["per_page"], total)
    body["compared_run_id"] = run.compared_run_id
    body.update({k: v for k, v in run_header(run).items() if k != "run_id"})
    body["run_id"] = run.id
    return body


@bp.get("/results")
@api_doc(
    args=ResultArgsSchema,
    responses={200: PageOf(ResultRowSchema, extra=ResultsHeaderSchema)},
    errors=("not_found", "conflict"),
)
@require_role(*READERS)
def list_results():
    """Ranked results at one level, filtered by region and zone, from the chosen run."""
    args = load_args(ResultArgsSchema())
    run = resolve_run(args)
    if run is None:
        body = page_body([], args["page"], args["per_page"], 0)
        body.update(run_header(None))
        body["incomplete"] = []
        return body
    query = reading.results_query(
        current_user(), run, args["level"], region=args.get("region"), zone=args.get("zone")
    )
    items, total = paginate(query, args["page"], args["per_page"], scalars=False)
    dumped = ResultSchema(many=True).dump(items)
    if args["level"] == "unit":
        # Issue 4: a supervisor's override is shown beside the computed zone (one query per page).
        dumped = _with_overrides(dumped, run.period)
    # Issue 16: a run scored by dimensions shows them, and the subjects it could not zone.
    subjects.with_dimensions(run, args["level"], dumped)
    body = page_body(dumped, args["page"], args["per_page"], total)
    body.update(run_header(run))
    body["incomplete"] = subjects.incomplete(current_user(), run, region=args.get("region"))
    return body


@bp.get("/agencies/<code>/result")
@api_doc(args=UnitResultArgsSchema, responses={200: AgencyResultSchema}, errors=("conflict",))
@require_role(*READERS)
def get_agency_result(code: str):
    """An agency's result in the chosen run: its row (score, zone, grade, label, rank) and, for
    a methodology scored by dimensions, its dimension scores with their sources, or why it is
    incomplete (then it has no row: it is never zoned)."""
    args = load_args(UnitResultArgsSchema())
    user = current_user()
    agency = visible_agency(user, code)
    run = resolve_run(args, agency.region_code)
    row = None if run is None else reading.row_of(user, run, "agency", agency.code)
    subject = None if run is None else subjects.agency_subject(user, run, agency.code)
    if row is None and subject is None:
        raise ApiError(
            "not_found",
            N_("This agency has no result in the run."),
            {"run_id": None if run is None else run.id},
        )
    return {
        **run_header(run),
        "agency": {"code": agency.code, "name": agency.name, "region_code": agency.region_code},
        "result": None if row is None else ResultSchema().dump(row),
        "subject": subject,
    }


@bp.get("/units/<code>/result")
@api_doc(args=UnitResultArgsSchema, responses={200: UnitResultSchema}, errors=("conflict",))
@require_role(*READERS)
def get_unit_result(code: str):
    """A unit's result: score, breakdown per dimension and indicator, findings, inspections used.

    The breakdown is re-derived now from the inspections the run used, with the run's
    methodology (and draft weights), by the same core call as intake and zoning
    (``fieldcheck.core.evaluate``); each dimension and indicator shows the mean over those
    inspections (``zoning.unit_result``, which the unit page and reports call too).
    """
    args = load_args(UnitResultArgsSchema())
    body = unit_result(get_visible_unit(code), args)
    # Issue 4: the override in force for the run's period beside the computed zone.
    override = body["override"]
    body["override"] = None if override is None else OverrideBriefSchema().dump(override)
    return body


def _with_overrides(items: list[dict[str, Any]], period: int) -> list[dict[str, Any]]:
    """Add ``override`` and ``final_zone`` to dumped unit result rows of a run of ``period``
    (one query for the page).

    The computed ``zone`` stays as it is; ``final_zone`` is the zone of the override in force
    for the run's period, else the computed zone.
    """
    overrides = active_overrides_by_code((item["code"] for item in items), period)
    brief = OverrideBriefSchema()
    for item in items:
        row = overrides.get(item["code"])
        item["override"] = None if row is None else brief.dump(row)
        item["final_zone"] = final_zone(item["zone"], row)
    return items
