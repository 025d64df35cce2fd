"""A unit's result in a zoning run: score, breakdown per dimension and indicator, findings and
the inspections used; one service for ``GET /api/v1/units/<code>/result``, the unit page and the
unit and agency reports (moved out of ``zoning.routes``, issue 13).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from fieldcheck.auth.services import current_user
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core.banding import mean
from fieldcheck.core.model import Finding, Methodology, ScoreResult
from fieldcheck.core.rollup import unit_score
from fieldcheck.core.scoring import VALUE_PLACES
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, _, render
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.scoring import evaluate_stored
from fieldcheck.units.models import Unit
from fieldcheck.zoning import subjects
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.overrides import active_overrides_by_code
from fieldcheck.zoning.reading import resolve_run, run_header
from fieldcheck.zoning.results import unit_row
from fieldcheck.zoning.services import apply_weights


def unit_result(unit: Unit, args: dict[str, Any]) -> dict[str, Any]:
    """The unit's result in the run ``args`` choose (``resolve_run``), or a 404 naming the run.

    The breakdown is re-derived now from the inspections the run used, with the run's
    methodology (and draft weights), by the same core call as intake and zoning
    (``fieldcheck.core.evaluate``); each dimension and indicator shows the mean over those
    inspections. ``override`` is the ``UnitOverride`` in force for the run's period (or None)
    and ``final_zone`` the zone it sets, else the computed one.
    """
    run = resolve_run(
        current_user(),
        run=args.get("run"),
        methodology=args.get("methodology"),
        period=args.get("period"),
        region=unit.region_code,
    )
    found = result_in_run(unit, run)
    if found is None:
        if run is not None and (run.counts or {}).get("subjects", {}).get("level") == "agency":
            # Issue 16: the methodology zones agencies from their dimensions, never a unit.
            raise ApiError(
                "not_found",
                _(
                    "This methodology zones agencies, not units: read the result of agency "
                    "%(agency)s.",
                    agency=unit.agency.code,
                ),
                {"run_id": run.id, "zoned_level": "agency", "agency": unit.agency.code},
            )
        raise _no_result(run)
    return found


def result_in_run(unit: Unit, run: ZoningRun | None) -> dict[str, Any] | None:
    """``unit_result`` for a run already resolved; None when the unit has no row in it."""
    row = None if run is None else unit_row(db.session, run, unit.code)
    if row is None:
        return None
    methodology = _run_methodology(run)
    inspections = _inspections_used(row)
    evaluations = evaluate_stored(
        [i.id for i in inspections], methodology, get_registry().catalogue
    )
    results = [evaluations[i.id].result for i in inspections]
    override = active_overrides_by_code([unit.code], run.period).get(unit.code)
    breakdown = _breakdown_means(results, methodology)
    reproducible = _is_reproducible(row, results, methodology)
    if subjects.subject_level(run) == "unit":
        # Issue 16: a unit scored by dimensions from questionnaires (SKM's shape): its
        # dimensions and sources are what the run stored; its total is theirs, not a mean of
        # inspection scores.
        subject = subjects.subjects_of(run, [unit.code]).get(unit.code)
        if subject is not None:
            breakdown["dimensions"] = subjects.dimensions_json(subject, methodology)
        reproducible = subject is not None and subject.score == row.score
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
        "is_reproducible": reproducible,
        **breakdown,
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
        "override": override,
        "final_zone": row.zone if override is None else override.zone,
    }


def _no_result(run: ZoningRun | None) -> ApiError:
    """The 404 for a unit without a row in ``run``, naming the run."""
    return ApiError(
        "not_found",
        N_("This unit has no result in the run (no approved, scored inspection in the period)."),
        {"run_id": None if run is None else run.id},
    )


def _run_methodology(run: ZoningRun) -> Methodology:
    """The methodology the run scored with, its what-if weights applied."""
    methodology = get_registry().methodology(run.methodology_id, run.methodology_version)
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
