"""HTTP endpoints for zoning runs and results."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from flask import Blueprint, url_for
from sqlalchemy import select

from fieldcheck.auth.services import current_user, require_role, scope_filter
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core.banding import mean
from fieldcheck.core.model import Finding, Methodology, ScoreResult
from fieldcheck.core.rollup import unit_score
from fieldcheck.core.scoring import VALUE_PLACES
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.http import json_body, load, load_args, page_body, paginate
from fieldcheck.i18n import N_, render
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.scoring import evaluate_stored
from fieldcheck.openapi.doc import LOCATION, PageOf, Response, api_doc
from fieldcheck.units.visibility import get_visible_unit
from fieldcheck.zoning import reading
from fieldcheck.zoning.models import ZoningChange, ZoningRun
from fieldcheck.zoning.overrides import active_overrides_by_code, final_zone
from fieldcheck.zoning.results import unit_row
from fieldcheck.zoning.services import apply_weights, covering_scopes, create_run
from schemas.publication import OverrideBriefSchema
from schemas.zoning import (
    ChangeArgsSchema,
    ChangeSchema,
    ChangesHeaderSchema,
    ResultArgsSchema,
    ResultRowSchema,
    ResultSchema,
    RunHeaderSchema,
    RunListArgsSchema,
    UnitResultArgsSchema,
    UnitResultSchema,
    ZoningRunCreateSchema,
    ZoningRunSchema,
)

bp = Blueprint("zoning", __name__)

#: Surveyors do not see rankings: results are for supervisors and admins.
READERS = ("supervisor", "admin")


def get_visible_run(run_id: int) -> ZoningRun:
    """The run if the current user may see it, else 404."""
    return reading.visible_run(current_user(), run_id)


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


run_header = reading.run_header


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
    )
    headers = {"Location": url_for(".get_zoning_run", run_id=run.id)}
    return ZoningRunSchema().dump(run), 202, headers


@bp.get("/zoning-runs")
@api_doc(args=RunListArgsSchema, responses={200: PageOf(ZoningRunSchema)})
@require_role(*READERS)
def list_zoning_runs():
    """Runs the caller may see, newest first."""
    args = load_args(RunListArgsSchema())
    user = current_user()
    query = select(ZoningRun).order_by(ZoningRun.id.desc())
    condition = scope_filter(user, ZoningRun.scope)
    if condition is not None:
        # National runs, runs inside the user's region, and runs of regions enclosing it.
        enclosing = covering_scopes(user.region_code)
        query = query.where(condition | ZoningRun.scope.in_(enclosing))
    if "state" in args:
        query = query.where(ZoningRun.state == args["state"])
    items, total = paginate(query, args["page"], args["per_page"])
    return page_body(ZoningRunSchema(many=True).dump(items), args["page"], args["per_page"], total)


@bp.get("/zoning-runs/<int:run_id>")
@api_doc(responses={200: ZoningRunSchema})
@require_role(*READERS)
def get_zoning_run(run_id: int):
    """One run: state, progress, counts, duration."""
    return ZoningRunSchema().dump(get_visible_run(run_id))


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
    query = select(ZoningChange).where(ZoningChange.run_id == run.id)
    condition = scope_filter(current_user(), ZoningChange.region_code)
    if condition is not None:
        query = query.where(condition)
    if "level" in args:
        query = query.where(ZoningChange.level == args["level"])
    if args["zone_moves_only"]:
        query = query.where(ZoningChange.is_zone_move.is_(True))
    query = query.order_by(ZoningChange.level.desc(), ZoningChange.code)
    items, total = paginate(query, args["page"], args["per_page"])
    body = page_body(ChangeSchema(many=True).dump(items), args["page"], args["per_page"], total)
    body["compared_run_id"] = run.compared_run_id
    body.update({k: v for k, v in run_header(run).items() if k != "run_id"})
    body["run_id"] = run.id
    return body


@bp.get("/results")
@api_doc(
    args=ResultArgsSchema,
    responses={200: PageOf(ResultRowSchema, extra=RunHeaderSchema)},
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
        return body
    query = reading.results_query(
        current_user(), run, args["level"], region=args.get("region"), zone=args.get("zone")
    )
    items, total = paginate(query, args["page"], args["per_page"], scalars=False)
    dumped = ResultSchema(many=True).dump(items)
    if args["level"] == "unit":
        # Issue 4: a supervisor's override is shown beside the computed zone (one query per page).
        dumped = _with_overrides(dumped, run.period)
    body = page_body(dumped, args["page"], args["per_page"], total)
    body.update(run_header(run))
    return body


@bp.get("/units/<code>/result")
@api_doc(args=UnitResultArgsSchema, responses={200: UnitResultSchema}, errors=("conflict",))
@require_role(*READERS)
def get_unit_result(code: str):
    """A unit's result: score, breakdown per dimension and indicator, findings, inspections used.

    The breakdown is re-derived now from the inspections the run used, with the run's
    methodology (and draft weights), by the same core call as intake and zoning
    (``fieldcheck.core.evaluate``); each dimension and indicator shows the mean over those
    inspections.
    """
    args = load_args(UnitResultArgsSchema())
    unit = get_visible_unit(code)
    run = resolve_run(args, unit.region_code)
    row = _unit_row_or_404(run, unit.code)
    methodology = _run_methodology(run)
    inspections = _inspections_used(row)
    evaluations = evaluate_stored(
        [i.id for i in inspections], methodology, get_registry().catalogue
    )
    results = [evaluations[i.id].result for i in inspections]
    return {
        "unit": {
            "code": unit.code,
            "name": unit.name,
            "agency": {"code": unit.agency.code, "name": unit.agency.name},
            "region_code": unit.region_code,
        },
        **run_header(run),
        "methodology_hash": run.methodology_hash,
        "level": "unit",
        "code": row.code,
        "name": row.name,
        "score": float(row.score),
        "zone": row.zone,
        "grade": row.grade,
        "label": row.label,
        "rank": row.rank,
        "roll_up_rule": methodology.roll_up.get("unit"),
        # False only if data the run read has since been changed in place (it never should be).
        "is_reproducible": _is_reproducible(row, results, methodology),
        **_breakdown_means(results, methodology),
        "findings": [
            _finding_json(inspection.id, f)
            for inspection in inspections
            for f in evaluations[inspection.id].findings
        ],
        "inspections": [
            _inspection_used_json(inspection, result)
            for inspection, result in zip(inspections, results, strict=True)
        ],
        # Issue 4: the override in force for the run's period beside the computed zone.
        **_override_fields(unit.code, row.zone, run.period),
    }


def _unit_row_or_404(run: ZoningRun | None, unit_code: str) -> Any:
    """The unit's stored row in ``run``, or a 404 naming the run."""
    row = None if run is None else unit_row(db.session, run, unit_code)
    if row is None:
        raise ApiError(
            "not_found",
            N_(
                "This unit has no result in the run (no approved, scored inspection in the period)."
            ),
            {"run_id": None if run is None else run.id},
        )
    return row


def _run_methodology(run: ZoningRun) -> Methodology:
    """The methodology the run scored with, its what-if weights applied."""
    methodology = get_registry().methodology(run.methodology_id)
    if methodology is None:
        raise ApiError("not_found", N_("The run's methodology is no longer loaded."))
    return apply_weights(methodology, run.weights)


def _inspections_used(row: Any) -> list[Inspection]:
    """The inspections the run averaged for the unit, in visit order."""
    return list(
        db.session.execute(
            select(Inspection)
            .where(Inspection.id.in_(row.inspection_ids or []))
            .order_by(Inspection.visit_date, Inspection.id)
        )
        .unique()
        .scalars()
    )


def _is_reproducible(row: Any, results: list[ScoreResult], methodology: Methodology) -> bool:
    """Whether re-deriving the inspections gives the stored unit score (the one unit mean)."""
    return unit_score((r.score for r in results), methodology.rounding_places) == row.score


def _breakdown_means(results: list[ScoreResult], methodology: Methodology) -> dict[str, Any]:
    """Each dimension's and indicator's mean over the re-derived inspections."""
    places = methodology.rounding_places
    dimension_scores: dict[str, list[Any]] = defaultdict(list)
    indicator_values: dict[str, list[Any]] = defaultdict(list)
    for result in results:
        for dim in result.dimensions:
            dimension_scores[dim.code].append(dim.score)
        for item in result.indicators:
            indicator_values[item.code].append(item.value)
    return {
        "dimensions": [
            {
                "code": d.code,
                "name": d.name,
                "weight": None if d.weight is None else float(d.weight),
                "score": _shown(mean(dimension_scores[d.code], places)),
            }
            for d in methodology.dimensions
        ],
        "indicators": [
            {
                "code": i.code,
                "dimension": i.dimension,
                "weight": float(i.weight),
                "value": _shown(mean(indicator_values[i.code], VALUE_PLACES)),
                "legal_basis": list(i.legal_basis),
            }
            for i in methodology.indicators
        ],
    }


def _shown(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _finding_json(inspection_id: int, f: Finding) -> dict[str, Any]:
    """A standing finding of a re-derived inspection, as the unit result lists it."""
    return {
        "inspection_id": inspection_id,
        "rule": f.rule,
        "severity": f.severity,
        "category": f.category,
        "citation": f.citation,
        "message": render(f.message, f.params),
        "expected": f.expected,
        "observed": f.observed,
        "service": f.service,
        "component": f.component,
        "sanction": f.sanction,
    }


def _inspection_used_json(inspection: Inspection, result: ScoreResult) -> dict[str, Any]:
    """One inspection the run used: its re-derived score beside the one stored at intake."""
    return {
        "id": inspection.id,
        "visit_date": inspection.visit_date.isoformat(),
        "status": inspection.status,
        "score": _shown(result.score),
        "zone": result.zone,
        "intake_score": _shown(inspection.score),
        "methodology": inspection.methodology_id,
        "methodology_version": inspection.methodology_version,
    }


def _override_fields(code: str, zone: str, period: int) -> dict[str, Any]:
    shown = _with_overrides([{"code": code, "zone": zone}], period)[0]
    return {"override": shown["override"], "final_zone": shown["final_zone"]}


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
