"""The overview: what a supervisor sees first (a zone map, counts, a ranking chart, the review
queue, and what changed since the last publication).

A shell over the dashboard's and zoning's reading services, with the reader's region scope:
the same run the API's ``/dashboard`` reads (zoning.reading.resolve_run), the same zone counts
(dashboard.services.zone_summary), the same changes (zoning.reading.changes_query).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import current_app, g, render_template, request

from fieldcheck.auth.models import User
from fieldcheck.auth.services import in_scope
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core.rollup import LEVELS
from fieldcheck.dashboard import places, services
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, _
from fieldcheck.regions import outlines
from fieldcheck.regions.models import Region
from fieldcheck.web.access import STAFF, page_role
from fieldcheck.web.blueprint import bp
from fieldcheck.web.charts import GAP, Bar, bar_chart
from fieldcheck.zoning import reading
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.services import current_period

REGION_CODE = re.compile(r"^\d{2}(\.\d{2})?$")
#: How many of the lowest and of the highest rows a long ranking shows (the middle is left out:
#: the ends are what a supervisor acts on; the region pages list everything).
ENDS = 15
#: How many zone moves since the publication are listed.
MOVES_SHOWN = 50


def result_choice(args: Any) -> dict[str, Any]:
    """Which results a page reads, from its query string: ``run`` (an id or ``latest``),
    ``methodology`` and ``period`` (empty means the default). Bad values are a 422 page."""
    problems: dict[str, list[str]] = {}
    choice: dict[str, Any] = {"run": None, "methodology": None, "period": None}
    run = args.get("run", "").strip()
    if run == "latest":
        choice["run"] = run
    elif run:
        if run.isdigit() and len(run) < 10:
            choice["run"] = int(run)
        else:
            problems["run"] = [N_("Choose a run from the list.")]
    methodology = args.get("methodology", "").strip()
    if methodology:
        if get_registry().methodology(methodology) is None:
            problems["methodology"] = [N_("Unknown methodology.")]
        else:
            choice["methodology"] = methodology
    period = args.get("period", "").strip()
    if period:
        if period.isdigit() and 2000 <= int(period) <= 2100:
            choice["period"] = int(period)
        else:
            problems["period"] = [N_("Choose a year between 2000 and 2100.")]
    if problems:
        raise ApiError("validation_failed", N_("Some filters are not valid."), {"fields": problems})
    return choice


def region_choice(user: User, code: str) -> Region | None:
    """The region of a ``region`` filter (None for an empty one): 422 for a malformed code,
    404 for an unknown one or one outside the reader's scope."""
    code = code.strip()
    if not code:
        return None
    if not REGION_CODE.match(code):
        raise ApiError(
            "validation_failed",
            N_("Some filters are not valid."),
            {"fields": {"region": [N_("Must be a region code like 35 or 35.15.")]}},
        )
    return places.visible_region(user, code)


def choice_args(choice: dict[str, Any]) -> dict[str, Any]:
    """The non-empty filters, for links that keep them."""
    return {key: value for key, value in choice.items() if value is not None}


def map_of(user: User, run: ZoningRun | None, region: str | None, link: str) -> dict[str, Any]:
    """The map to draw: the provinces (national) or the regencies of the region's province,
    each outline with its row in ``run`` when the reader may see it.

    ``link`` is a URL pattern with ``{code}``: a province drills down to the overview of it, a
    regency opens its page.
    """
    if region is None:
        drawing = outlines.province_drawing()
        rows = {} if run is None else services.province_rows(run)
    else:
        province = region.split(".")[0]
        drawing = outlines.regency_drawing(province)
        rows = (
            {}
            if run is None
            else {
                row.code: row
                for row in db.session.execute(
                    reading.results_query(user, run, "regency", region=province)
                )
            }
        )
    shapes = []
    for outline in drawing.outlines if drawing is not None else ():
        visible = in_scope(user, outline.code)
        row = rows.get(outline.code) if visible else None
        shapes.append(
            {
                "code": outline.code,
                "name": outline.name,
                "d": outline.d,
                "row": row,
                "href": link.format(code=outline.code) if visible else None,
                "current": outline.code == region,
            }
        )
    return {"drawing": drawing, "shapes": shapes}


def ranking(user: User, run: ZoningRun, level: str, region: str | None) -> dict[str, Any]:
    """The rows of ``level`` in the region for the chart and its table: ascending, the ends of
    a long list only."""
    rows, cut = places.ranked_ends(reading.results_query(user, run, level, region=region), ENDS)
    bars: list[Bar | None] = [Bar(row.name, row.score, row.zone) for row in rows]
    if cut:
        bars.insert(ENDS, GAP)
    return {"rows": rows, "cut": cut, "bars": bars}


def changes_since_publication(
    user: User, run: ZoningRun, region: str | None
) -> dict[str, Any] | None:
    """Units whose zone moved between the published run and the newest succeeded one (the
    stored changes of the newer run, zoning.reading.changes_query), or None when no newer run
    was compared with a publication."""
    newer = run if not run.is_official else reading.unpublished_successor(user, run)
    if newer is None or newer.compared_run_id is None:
        return None
    query = reading.changes_query(user, newer, level="unit", zone_moves_only=True, region=region)
    return {
        "run": newer,
        "compared_run_id": newer.compared_run_id,
        "total": places.count(query),
        "moves": list(db.session.execute(query.limit(MOVES_SHOWN)).scalars()),
    }


@bp.get("/")
@page_role(*STAFF)
def overview():
    """The overview of the reader's region (or the nation), for the chosen results."""
    user: User = g.user
    choice = result_choice(request.args)
    level = request.args.get("level", "").strip() or "regency"
    if level not in LEVELS:
        raise ApiError(
            "validation_failed",
            N_("Some filters are not valid."),
            {"fields": {"level": [N_("Choose a level from the list.")]}},
        )
    chosen = region_choice(user, request.args.get("region", ""))
    region = chosen.code if chosen is not None else user.region_code
    region_row = chosen or (None if region is None else db.session.get(Region, region))
    run = reading.resolve_run(user, region=region, **choice)
    context: dict[str, Any] = {
        "choice": choice,
        "level": level,
        "region": region_row,
        "run": run,
        "queue": services.review_queue(region),
        "has_queue_page": "web.review_queue" in current_app.view_functions,
        "has_runs_page": "web.runs" in current_app.view_functions,
        "regions": places.regions_in_scope(user, None if region is None else region[:2]),
        "methodologies": sorted(get_registry().methodologies.values(), key=lambda m: m.id),
        "runs": reading.readable_runs(
            user, region, methodology=choice["methodology"], period=choice["period"]
        ),
        "periods": _periods(user, region, choice["period"]),
        "keep": choice_args(choice),
    }
    link = region_link(choice) if region is not None else _drill_link(choice, level)
    context["map"] = map_of(user, run, region, link)
    if run is not None:
        context["summary"] = services.zone_summary(run, region)
        # Issue 16: a run scored by dimensions also counts its incomplete subjects (None else).
        context["subjects"] = services.subject_summary(run, region)
        context["ranking"] = ranking(user, run, level, region)
        context["chart"] = bar_chart(
            context["ranking"]["bars"], label=_chart_label(level, region_row)
        )
        context["changes"] = changes_since_publication(user, run, region)
    return render_template("web/overview/index.html", **context)


def region_link(choice: dict[str, Any]) -> str:
    """A region page's URL pattern (``{code}`` left to fill) that keeps the chosen results."""
    query = urlencode(choice_args(choice))
    return "/regions/{code}" + (f"?{query}" if query else "")


def _drill_link(choice: dict[str, Any], level: str) -> str:
    """The overview of a province, keeping the other filters (``{code}`` left to fill)."""
    # The code goes in last and unescaped: region codes are digits and dots.
    return "/?" + urlencode({**choice_args(choice), "level": level}) + "&region={code}"


def _chart_label(level: str, region: Region | None) -> str:
    where = region.name if region is not None else _("Indonesia")
    return _("Scores by %(level)s in %(region)s", level=_(level), region=where)


def _periods(user: User, region: str | None, chosen: int | None) -> list[int]:
    """Years to choose from: those of the runs the reader may read, this year, the chosen one."""
    years = {run.period for run in reading.readable_runs(user, region, limit=200)}
    years.add(current_period())
    if chosen is not None:
        years.add(chosen)
    return sorted(years, reverse=True)
