"""Region and agency pages: a province's or regency's results, and an agency's.

Shells over the dashboard's places (who may open what: dashboard.places) and zoning's reading
services (which run, its rows in the reader's scope), as the API's ``/results`` reads them.
"""

from __future__ import annotations

from typing import Any

from flask import g, render_template, request

from fieldcheck.auth.models import User
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.dashboard import places, services
from fieldcheck.extensions import db
from fieldcheck.http import paginate
from fieldcheck.units.visibility import visible_agency
from fieldcheck.web.access import STAFF, page_role
from fieldcheck.web.args import page_number
from fieldcheck.web.blueprint import bp
from fieldcheck.web.charts import Bar, bar_chart
from fieldcheck.web.overview import choice_args, map_of, region_link, result_choice
from fieldcheck.zoning import reading, subjects

#: Units listed per page on a region page (a province may hold thousands).
UNITS_PER_PAGE = 50
#: Agencies listed on a region page (the rest are on the results API and the exports).
AGENCIES_SHOWN = 100


@bp.get("/regions/<code>")
@page_role(*STAFF)
def region(code: str):
    """A province or regency: its score and zone, zone counts, its regencies (a province's),
    agencies and units ranked."""
    user: User = g.user
    place = places.visible_region(user, code)
    choice = result_choice(request.args)
    run = reading.resolve_run(user, region=place.code, **choice)
    context: dict[str, Any] = {"place": place, "run": run, "keep": choice_args(choice)}
    if place.parent_code:
        context["parent"] = places.visible_region_or_none(user, place.parent_code)
    if run is not None:
        context["row"] = reading.row_of(user, run, place.level, place.code)
        context["zones"] = services.zone_summary(run, place.code)["zones"]
        if place.level == "province":
            regencies = db.session.execute(
                reading.results_query(user, run, "regency", region=place.code)
            ).all()
            context["regencies"] = regencies
            context["chart"] = bar_chart(
                [Bar(r.name, r.score, r.zone) for r in sorted(regencies, key=_ascending)],
                label=place.name,
            )
            context["map"] = map_of(user, run, place.code, region_link(choice))
        # Issue 16: agencies a run scored by dimensions could not zone, with the reasons.
        context["incomplete"] = subjects.incomplete(user, run, region=place.code)
        agencies = reading.results_query(user, run, "agency", region=place.code)
        context["agencies_total"] = places.count(agencies)
        context["agencies"] = db.session.execute(agencies.limit(AGENCIES_SHOWN)).all()
        page = page_number()
        units, total = paginate(
            reading.results_query(user, run, "unit", region=place.code),
            page,
            UNITS_PER_PAGE,
            scalars=False,
        )
        context.update(units=units, units_total=total, page=page, per_page=UNITS_PER_PAGE)
    return render_template("web/places/region.html", **context)


@bp.get("/agencies/<code>")
@page_role(*STAFF)
def agency(code: str):
    """An agency: its score and zone, its units ranked, how many are in each zone, its report."""
    user: User = g.user
    found = visible_agency(user, code)
    choice = result_choice(request.args)
    run = reading.resolve_run(user, region=found.region_code, **choice)
    context: dict[str, Any] = {"agency": found, "run": run, "keep": choice_args(choice)}
    if found.region_code:
        context["place"] = places.visible_region_or_none(user, found.region_code)
    if run is not None:
        context["row"] = reading.row_of(user, run, "agency", found.code)
        if subjects.subject_level(run) == "agency":
            # Issue 16: zoned from its dimensions (or incomplete, with the reasons).
            context["subject"] = subjects.agency_subject(user, run, found.code)
        elif subjects.scored_by_dimensions(run):
            context["incomplete"] = subjects.incomplete(user, run, agency=found.code)
        units = db.session.execute(
            reading.results_query(user, run, "unit", agency=found.code)
        ).all()
        # A box per zone of the run's methodology, worst first, empty ones too.
        counts: dict[str, int] = dict.fromkeys(get_registry().zones_of(run.methodology_id), 0)
        for unit in units:
            counts[unit.zone] = counts.get(unit.zone, 0) + 1
        context.update(units=units, zones={"unit": counts})
    return render_template("web/places/agency.html", **context)


def _ascending(row: Any) -> tuple[Any, str]:
    return (row.score, row.code)
