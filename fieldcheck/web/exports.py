"""The exports page: a form per export (its filters, CSV or XLSX), and the downloads behind it.

The downloads call the same services as ``GET /api/v1/exports/*`` (fieldcheck.exports) with the
logged-in person's role and region; only reading the form is the page's own work. A filter that
does not parse re-renders the page with the message beside the form (422), before any byte of
the file is sent.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import abort, g, render_template, request

from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core.integrity import ALL_CODES
from fieldcheck.core.rollup import LEVELS
from fieldcheck.errors import ApiError
from fieldcheck.exports.download import download
from fieldcheck.exports.services import (
    FORMATS,
    InspectionFilters,
    findings_export,
    incomplete_export,
    inspections_export,
    results_export,
)
from fieldcheck.i18n import N_, _, localize, localize_details
from fieldcheck.inspections.models import STATUSES
from fieldcheck.web.access import STAFF, page_role
from fieldcheck.web.blueprint import bp

REGION = re.compile(r"^\d{2}(\.\d{2})?$")


class FormErrors(Exception):
    """The filters of one export did not parse: messages by field."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("invalid export filters")
        self.fields = fields


def _text(args: Any, name: str, errors: dict[str, list[str]], limit: int = 64) -> str | None:
    value = (args.get(name) or "").strip()
    if len(value) > limit:
        errors[name] = [_("At most %(n)s characters.", n=limit)]
        return None
    return value or None


def _choice(args: Any, name: str, allowed: Any, errors: dict[str, list[str]]) -> str | None:
    value = (args.get(name) or "").strip()
    if value and value not in allowed:
        errors[name] = [_("Choose one of the listed values.")]
        return None
    return value or None


def _region(args: Any, errors: dict[str, list[str]]) -> str | None:
    value = (args.get("region") or "").strip()
    if value and not REGION.match(value):
        errors["region"] = [_("Must be a region code like 35 or 35.15.")]
        return None
    return value or None


def _date(args: Any, name: str, errors: dict[str, list[str]]) -> date | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = [_("Must be a date like 2026-12-31.")]
        return None


def _integer(args: Any, name: str, errors: dict[str, list[str]], low: int, high: int) -> int | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        errors[name] = [_("Must be a whole number from %(low)s to %(high)s.", low=low, high=high)]
        return None
    return int(value)


def _run_choice(args: Any, errors: dict[str, list[str]]) -> dict[str, Any]:
    """Which run: its number (or ``latest``), else the methodology's and period's default."""
    run: int | str | None = None
    if (args.get("run") or "").strip() == "latest":
        run = "latest"
    else:
        run = _integer(args, "run", errors, 1, 2**31 - 1)
    return {
        "run": run,
        "methodology": _choice(args, "methodology", get_registry().methodologies, errors),
        "period": _integer(args, "period", errors, 2000, 2100),
    }


def _results(args: Any):
    errors: dict[str, list[str]] = {}
    values = {
        **_run_choice(args, errors),
        "level": _choice(args, "level", LEVELS, errors) or "unit",
        "region": _region(args, errors),
        "zone": _choice(args, "zone", get_registry().zones_in_use(), errors),
    }
    if errors:
        raise FormErrors(errors)
    return results_export(g.user, **values)


def _incomplete(args: Any):
    errors: dict[str, list[str]] = {}
    values = {**_run_choice(args, errors), "region": _region(args, errors)}
    if errors:
        raise FormErrors(errors)
    return incomplete_export(g.user, **values)


def _inspection_filters(args: Any, errors: dict[str, list[str]]) -> InspectionFilters:
    return InspectionFilters(
        unit=_text(args, "unit", errors),
        status=_choice(args, "status", STATUSES, errors),
        flag=_choice(args, "flag", ALL_CODES, errors),
        region=_region(args, errors),
        visited_from=_date(args, "visited_from", errors),
        visited_to=_date(args, "visited_to", errors),
    )


def _inspections(args: Any):
    errors: dict[str, list[str]] = {}
    filters = _inspection_filters(args, errors)
    if errors:
        raise FormErrors(errors)
    return inspections_export(g.user, filters)


def _findings(args: Any):
    errors: dict[str, list[str]] = {}
    filters = _inspection_filters(args, errors)
    withdrawn = _choice(args, "withdrawn", ("yes", "no"), errors)
    if errors:
        raise FormErrors(errors)
    flag = None if withdrawn is None else withdrawn == "yes"
    return findings_export(g.user, filters, withdrawn=flag)


BUILDERS = {
    "results": _results,
    # Issue 16 trial: the "Belum lengkap" list was an API export only (GET
    # /api/v1/exports/incomplete); a supervisor on the web could not download it.
    "incomplete": _incomplete,
    "findings": _findings,
    "inspections": _inspections,
}

#: The title and one-line description of each export on the page.
CARDS = {
    "results": (
        N_("Zoning results"),
        N_("Scores, zones and ranks of a zoning run at one level (default: the published run)."),
    ),
    "incomplete": (
        N_("Incomplete"),
        N_(
            "Agencies a method scored by dimensions did not zone because inputs are missing: "
            "their dimension scores and what is missing."
        ),
    ),
    "findings": (
        N_("Findings"),
        N_("Every finding of the inspections, with its citation and message."),
    ),
    "inspections": (
        N_("Inspections"),
        N_("Every inspection: unit, surveyor, visit time, status, score, zone and flags."),
    ),
}


def _page(status: int = 200, kind: str | None = None, errors: dict[str, list[str]] | None = None):
    return (
        render_template(
            "web/exports/index.html",
            cards=CARDS,
            kinds=tuple(BUILDERS),
            options={
                "methodology": [
                    (m, f"{m} v{found.version}")
                    for m, found in sorted(get_registry().methodologies.items())
                ],
                "level": [(level, _(level)) for level in LEVELS],
                "zone": [(zone, _(zone)) for zone in get_registry().zones_in_use()],
                "status": [(status, _(status)) for status in STATUSES],
                "flag": [(code, code) for code in sorted(ALL_CODES)],
            },
            failed=kind,
            errors=errors or {},
            values=request.args if kind else {},
        ),
        status,
    )


@bp.get("/exports")
@page_role(*STAFF)
def exports():
    """The exports page: one form per export, each downloading CSV or XLSX."""
    return _page()


@bp.get("/exports/<kind>.<fmt>")
@page_role(*STAFF)
def export_download(kind: str, fmt: str):
    """Download one export as ``fmt`` with the filters in the query string (same services, role
    and region as the API); bad filters: the page again with the messages, 422."""
    if kind not in BUILDERS or fmt not in FORMATS:
        abort(404)
    try:
        export = BUILDERS[kind](request.args)
    except FormErrors as exc:
        return _page(422, kind, exc.fields)
    except ApiError as exc:
        if exc.code != "validation_failed":
            raise
        fields = localize_details(exc.details).get("fields") or {"": [localize(exc.message)]}
        return _page(422, kind, fields)
    return download(export, fmt)
