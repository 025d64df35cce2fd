"""Interview coverage page ("Cakupan wawancara"): per agency, records against the quotas, with
the units drill-down. A thin shell over ``zoning.interview_coverage``, the service behind
``GET /api/v1/interviews/coverage`` (same scope, same counting)."""

from __future__ import annotations

from typing import Any

from flask import g, render_template, request

from fieldcheck.errors import ApiError
from fieldcheck.i18n import N_, localize, localize_details
from fieldcheck.web.access import STAFF, page_role
from fieldcheck.web.blueprint import bp
from fieldcheck.zoning.interview_coverage import coverage, coverage_body, interview_methodologies
from fieldcheck.zoning.services import current_period


@bp.get("/interviews/coverage")
@page_role(*STAFF)
def interview_coverage():
    """The coverage table for a methodology, a year and a region (defaults: the newest
    methodology with interviews, this year, the person's region)."""
    typed = {
        "methodology": request.args.get("methodology", "").strip()[:64],
        "period": request.args.get("period", "").strip()[:8],
        "region": request.args.get("region", "").strip()[:16],
    }
    errors: dict[str, list[str]] = {}
    period = current_period()
    if typed["period"]:
        if typed["period"].isdigit() and 2000 <= int(typed["period"]) <= 2100:
            period = int(typed["period"])
        else:
            errors["period"] = [localize(N_("Must be a year between 2000 and 2100."))]
    body: dict[str, Any] | None = None
    status = 200
    if not errors:
        try:
            body = coverage_body(
                coverage(
                    g.user,
                    methodology_id=typed["methodology"] or None,
                    period=period,
                    region=typed["region"] or None,
                )
            )
        except ApiError as exc:
            status = exc.status
            fields = localize_details(exc.details or {}).get("fields") or {}
            errors.update(fields or {"general": [localize(exc.message)]})
    else:
        status = 422
    return (
        render_template(
            "web/interviews/coverage.html",
            form=typed,
            period=period,
            methodologies=interview_methodologies(),
            coverage=body,
            errors=errors,
        ),
        status,
    )
