"""HTTP endpoints: the supervisors' dashboard and the province map."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, jsonify, request

from fieldcheck.auth.services import current_user, in_scope, require_role
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import shown, utcnow
from fieldcheck.core.rollup import within
from fieldcheck.dashboard import services
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.http import load_args
from fieldcheck.i18n import N_
from fieldcheck.openapi.doc import api_doc
from fieldcheck.regions.models import Region
from fieldcheck.zoning.reading import readable_scopes, resolve_run, run_header
from fieldcheck.zoning.services import current_period
from schemas.catalogue import ZoneSchema
from schemas.dashboard import DashboardArgsSchema, DashboardSchema, MapArgsSchema, ProvinceMapSchema
from schemas.zoning import ResultSchema, ZoningRunSchema

bp = Blueprint("dashboard", __name__)

READERS = ("supervisor", "admin")


#: What the dashboard and the map show of a result row (as ``GET /results`` shows it).
LOWEST = ResultSchema(only=("code", "name", "score", "zone", "rank"), many=True)
ON_MAP = ResultSchema(only=("score", "zone", "grade", "label", "rank"))
EMPTY = dict.fromkeys(ON_MAP.fields)


def _region(code: str | None) -> dict[str, Any] | None:
    """The dashboard's region, checked: unknown is 404, outside the caller's scope 403."""
    if code is None:
        return None
    region = db.session.get(Region, code)
    if region is None:
        raise ApiError("not_found", N_("No such region."))
    if not in_scope(current_user(), code):
        raise ApiError("out_of_scope", N_("This region is outside your scope."))
    return {"code": region.code, "name": region.name, "level": region.level}


@bp.get("/dashboard")
@api_doc(
    args=DashboardArgsSchema,
    responses={200: DashboardSchema},
    errors=("out_of_scope", "not_found", "conflict"),
)
@require_role(*READERS)
def dashboard():
    """One screen for a regional office: the review queue, inspections by status, zones at
    every level with the lowest regencies, coverage, and the state of the latest zoning run.

    ``region`` narrows to a province or regency inside the caller's; results come from the
    published run covering the region (or ``run``/``methodology``/``period``, as ``/results``).
    For a run scored by dimensions ``results.subjects`` counts its complete and incomplete
    subjects (agencies under the 2022 method) with the commonest reasons.
    """
    args = load_args(DashboardArgsSchema())
    user = current_user()
    code = args.get("region") or user.region_code
    region = _region(code)
    now = utcnow()
    run = resolve_run(
        user,
        run=args.get("run"),
        methodology=args.get("methodology"),
        period=args.get("period"),
        region=code,
    )
    period = run.period if run is not None else args.get("period") or current_period()
    results: dict[str, Any] = {**run_header(run), "period": period}
    with_result = 0
    counted = code
    if run is not None:
        summary = services.zone_summary(run, code)
        summary["lowest_regencies"] = LOWEST.dump(summary["lowest_regencies"])
        results.update(summary)
        with_result = sum(summary["zones"]["unit"].values())
        subjects = services.subject_summary(run, code)
        if subjects is not None:
            # A run scored by dimensions (issue 16): its subjects (agencies for the 2022
            # method), complete and incomplete with the commonest reasons. Absent otherwise.
            results["subjects"] = subjects
        if run.scope and within(run.scope, code or ""):
            counted = run.scope  # a narrower run (asked for by id) covers only its own units
    results["units"] = services.coverage(counted, period, with_result)
    last = services.latest_run(readable_scopes(user, code), period)
    queue = services.review_queue(code)
    queue["oldest_received_at"] = shown(queue["oldest_received_at"])
    return {
        "region": region,
        "generated_at": shown(now),
        "review_queue": queue,
        "inspections": services.inspection_counts(code, now),
        "results": results,
        "latest_run": None if last is None else ZoningRunSchema().dump(last),
    }


@bp.get("/map/provinces")
@api_doc(
    args=MapArgsSchema,
    responses={200: ProvinceMapSchema},
    errors=("not_found", "conflict"),
    cacheable=True,
)
@require_role(*READERS)
def province_map():
    """The province outlines as GeoJSON, each with its score and zone in the chosen results
    (default: the newest published national run, as ``/results?level=province``).

    A user limited to a region gets their province's outline only. The outlines are simplified
    for drawing (fieldcheck/regions/data/README.md). Conditional: ETag by run, publication and
    scope.
    """
    args = load_args(MapArgsSchema())
    user = current_user()
    province = None if user.region_code is None else user.region_code.split(".")[0]
    run = resolve_run(
        user, run=args.get("run"), methodology=args.get("methodology"), period=args.get("period")
    )
    rows = {} if run is None else services.province_rows(run)
    features = []
    for outline in services.province_outlines():
        code = outline["properties"]["code"]
        if province is not None and code != province:
            continue
        # A province's row is the caller's to see only when the province is in their scope.
        row = rows.get(code) if in_scope(user, code) else None
        properties = {
            "code": code,
            "name": outline["properties"]["name"],
            **(EMPTY if row is None else ON_MAP.dump(row)),
        }
        features.append(
            {"type": "Feature", "properties": properties, "geometry": outline["geometry"]}
        )
    registry = get_registry()
    codes = registry.zones_of(run.methodology_id) if run is not None else registry.zones_in_use()
    legend = ZoneSchema(many=True).dump([registry.zone(code) for code in codes])
    body = {
        "type": "FeatureCollection",
        "run": run_header(run),
        "zones": legend,
        "features": features,
    }
    response = jsonify(body)
    # A succeeded run's rows never change; whether it is the official one does, and the
    # outlines change with a release: all of it, with the caller's scope, names this answer.
    tag = ":".join(
        str(part)
        for part in (
            None if run is None else run.id,
            None if run is None else run.is_official,
            None if run is None else run.published_at,
            user.region_code,
            request.query_string.decode(),
            services.outlines_digest(),
        )
    )
    response.set_etag(hashlib.sha256(tag.encode()).hexdigest()[:32])
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)
