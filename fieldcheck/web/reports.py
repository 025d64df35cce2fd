"""The PDF reports a regional office sends to the head of an agency: one unit's, or every unit of
an agency the reader may see, for a period (``?period=2026``), in the page language.

The data is the unit page's (``reports.dossier``); the HTML is rendered here and turned into a
PDF by ``reports.pdf`` (WeasyPrint, no network: photos are the previews the reader may see).
"""

from __future__ import annotations

from flask import Response, g, render_template, request

from fieldcheck.clock import utcnow
from fieldcheck.reports.dossier import UnitDossier, parse_period, photo_previews, unit_dossier
from fieldcheck.reports.pdf import render_pdf
from fieldcheck.units.visibility import get_visible_agency_units, get_visible_unit
from fieldcheck.web.access import STAFF, page_role
from fieldcheck.web.blueprint import bp


@bp.get("/units/<code>/report.pdf")
@page_role(*STAFF)
def unit_report(code: str):
    """One unit's report for a period, as a PDF download."""
    unit = get_visible_unit(code)
    dossier = unit_dossier(unit, parse_period(request.args.get("period")), g.user, full=False)
    html = render_template(
        "web/reports/unit.html",
        dossiers=[dossier],
        agency=None,
        period=dossier.period,
        made_at=utcnow(),
    )
    return _pdf(html, [dossier], f"fieldcheck-{unit.code}-{dossier.period}.pdf")


@bp.get("/agencies/<code>/report.pdf")
@page_role(*STAFF)
def agency_report(code: str):
    """An agency's report for a period: every unit of it inside the reader's region."""
    agency, units = get_visible_agency_units(code)
    period = parse_period(request.args.get("period"))
    dossiers = [unit_dossier(u, period, g.user, full=False) for u in units]
    html = render_template(
        "web/reports/unit.html",
        dossiers=dossiers,
        agency=agency,
        period=period,
        made_at=utcnow(),
    )
    return _pdf(html, dossiers, f"fieldcheck-{agency.code}-{period}.pdf")


def _pdf(html: str, dossiers: list[UnitDossier], filename: str) -> Response:
    """The PDF response: a download named ``filename``, private to the reader."""
    data = render_pdf(html, photo_previews(p for d in dossiers for p in d.photos))
    response = Response(data, mimetype="application/pdf")
    # Codes are letters, digits, dots and dashes: a plain ASCII file name.
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response
