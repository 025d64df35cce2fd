"""HTTP endpoints: results, findings and inspections as streamed CSV or XLSX files."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from fieldcheck.auth.services import current_user, require_role
from fieldcheck.exports.download import MEDIA_TYPES, download
from fieldcheck.exports.services import (
    InspectionFilters,
    findings_export,
    incomplete_export,
    inspections_export,
    results_export,
)
from fieldcheck.http import load_args
from fieldcheck.openapi.doc import Binary, api_doc
from schemas.exports import (
    FindingExportArgsSchema,
    IncompleteExportArgsSchema,
    InspectionExportArgsSchema,
    ResultExportArgsSchema,
)

bp = Blueprint("exports", __name__)

READERS = ("supervisor", "admin")
FILE = {200: Binary(tuple(MEDIA_TYPES.values()))}
FILTERS = (
    "unit",
    "status",
    "since",
    "surveyor",
    "flag",
    "region",
    "visited_from",
    "visited_to",
)


def _filters(args: dict[str, Any]) -> InspectionFilters:
    return InspectionFilters(**{key: args[key] for key in FILTERS if key in args})


@bp.get("/exports/results")
@api_doc(args=ResultExportArgsSchema, responses=FILE, errors=("not_found", "conflict"))
@require_role(*READERS)
def export_results():
    """A run's results at one level (``format`` csv or xlsx), chosen and filtered as
    ``GET /results``, limited to the caller's region, streamed; headers in the request's
    language. More rows than ``EXPORT_MAX_ROWS`` is a 422."""
    args = load_args(ResultExportArgsSchema())
    export = results_export(
        current_user(),
        run=args.get("run"),
        methodology=args.get("methodology"),
        period=args.get("period"),
        level=args["level"],
        region=args.get("region"),
        zone=args.get("zone"),
    )
    return download(export, args["format"])


@bp.get("/exports/incomplete")
@api_doc(args=IncompleteExportArgsSchema, responses=FILE, errors=("not_found", "conflict"))
@require_role(*READERS)
def export_incomplete():
    """The incomplete subjects (never zoned) of a run scored by dimensions (issue 16), the run
    chosen as ``GET /results`` chooses it, limited to the caller's region: code, name, each
    dimension's score and what is missing in the request's language. Never an interview
    record or a respondent's attribute. Any other run: an empty file."""
    args = load_args(IncompleteExportArgsSchema())
    export = incomplete_export(
        current_user(),
        run=args.get("run"),
        methodology=args.get("methodology"),
        period=args.get("period"),
        region=args.get("region"),
    )
    return download(export, args["format"])


@bp.get("/exports/inspections")
@api_doc(args=InspectionExportArgsSchema, responses=FILE)
@require_role(*READERS)
def export_inspections():
    """Inspections the caller may see (filters of ``GET /inspections``, a region, visit
    dates), oldest first: visit time in the unit's zone and in UTC, status, score, zone, flag
    count; streamed as csv or xlsx."""
    args = load_args(InspectionExportArgsSchema())
    return download(inspections_export(current_user(), _filters(args)), args["format"])


@bp.get("/exports/findings")
@api_doc(args=FindingExportArgsSchema, responses=FILE)
@require_role(*READERS)
def export_findings():
    """Findings of the inspections the caller may see (the inspection filters), with their
    citation and message in the request's language (Indonesian unless asked otherwise);
    streamed as csv or xlsx."""
    args = load_args(FindingExportArgsSchema())
    export = findings_export(current_user(), _filters(args), withdrawn=args.get("withdrawn"))
    return download(export, args["format"])
