"""The unit page: result and breakdown, findings with citations and sanctions, photos, visits
with a score trend, overrides (set and withdraw) and objections; and the pages' photo routes.

A shell over the API's services: ``units.visibility`` (404 outside the region),
``reports.dossier`` (the unit's result through ``zoning.unit_result``), ``publication.services``
for overrides and ``evidence.serving`` for photos.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from fieldcheck.errors import ApiError
from fieldcheck.evidence.serving import send_original, send_preview, visible_photo
from fieldcheck.i18n import _
from fieldcheck.publication.services import (
    override_period,
    override_zones,
    set_override,
    withdraw_override,
)
from fieldcheck.reports.dossier import UnitDossier, parse_period, unit_dossier
from fieldcheck.units.visibility import get_visible_unit
from fieldcheck.web.access import STAFF, page_role
from fieldcheck.web.blueprint import bp

#: As the API's override bodies (schemas.publication.REASON).
REASON_MAX = 4000


@bp.get("/units/<code>")
@page_role(*STAFF)
def unit(code: str):
    """A unit's page for a period (``?period=``, default the current year)."""
    found = get_visible_unit(code)
    dossier = unit_dossier(found, parse_period(request.args.get("period")), g.user)
    return _page(dossier)


def _page(dossier: UnitDossier, form: dict[str, Any] | None = None, status: int = 200):
    """Render the unit page; ``form`` carries a refused form's values and errors (422)."""
    return (
        render_template(
            "web/units/unit.html",
            d=dossier,
            trend=trend_chart(_trend_points(dossier)),
            zones=override_zones(),
            form=form or {},
        ),
        status,
    )


@bp.post("/units/<code>/override")
@page_role(*STAFF)
def unit_override(code: str):
    """Set the unit's final zone for a period, with a reason (``publication.set_override``)."""
    found = get_visible_unit(code)
    zone = request.form.get("zone", "")
    reason = request.form.get("reason", "").strip()
    errors = _reason_errors(reason)
    if zone not in override_zones():
        errors["zone"] = [_("Choose one of the zones.")]
    period, errors = _form_period(errors)
    if errors:
        form = {"action": "set", "zone": zone, "reason": reason, "errors": errors}
        return _page(unit_dossier(found, period, g.user), form, 422)
    set_override(found, override_period(period), zone, reason, g.user)
    flash(_("The override is set."), "success")
    return redirect(url_for("web.unit", code=found.code, period=period), 303)


@bp.post("/units/<code>/override/withdraw")
@page_role(*STAFF)
def unit_override_withdraw(code: str):
    """Withdraw the unit's override in force for a period, with a reason."""
    found = get_visible_unit(code)
    reason = request.form.get("reason", "").strip()
    period, errors = _form_period(_reason_errors(reason))
    if errors:
        form = {"action": "withdraw", "reason": reason, "errors": errors}
        return _page(unit_dossier(found, period, g.user), form, 422)
    withdraw_override(found, override_period(period), reason, g.user)
    flash(_("The override is withdrawn."), "success")
    return redirect(url_for("web.unit", code=found.code, period=period), 303)


def _reason_errors(reason: str) -> dict[str, list[str]]:
    if not reason:
        return {"reason": [_("A reason is required.")]}
    if len(reason) > REASON_MAX:
        return {"reason": [_("At most %(max)s characters.", max=REASON_MAX)]}
    return {}


def _form_period(errors: dict[str, list[str]]) -> tuple[int, dict[str, list[str]]]:
    """The form's period (a bad one is reported with the other errors, the page shown for the
    current year)."""
    raw = request.form.get("period")
    try:
        return parse_period(raw), errors
    except ApiError as refused:  # its field message is shown in the form
        return parse_period(None), {**errors, **refused.details["fields"]}


@bp.get("/photos/<sha256>")
@page_role(*STAFF)
def photo(sha256: str):
    """A photo's original bytes, for someone who may see it (as ``GET /api/v1/photos/<sha>``)."""
    return send_original(visible_photo(sha256, g.user))


@bp.get("/photos/<sha256>/preview")
@page_role(*STAFF)
def photo_preview(sha256: str):
    """A photo's JPEG preview (thumbnails), for someone who may see it."""
    return send_preview(visible_photo(sha256, g.user))


# --- the score trend --------------------------------------------------------------------------


def _trend_points(dossier: UnitDossier) -> list[tuple[date, float, str | None]]:
    """Approved, scored visits of the history, oldest first: (visit date, score, zone)."""
    return [
        (i.visit_date, float(i.score), i.zone)
        for i in reversed(dossier.history)
        if i.status == "approved" and i.score is not None
    ]


def trend_chart(points: Sequence[tuple[date, float, str | None]]) -> dict[str, Any] | None:
    """The geometry of a line chart of scores (0..100) over visits, drawn as SVG by the
    ``trend`` macro (server-side, no script); None for fewer than two visits."""
    if len(points) < 2:
        return None
    width, height, left, right, top, bottom = 640, 200, 40, 12, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return round(left + plot_w * i / (len(points) - 1), 1)

    def y(score: float) -> float:
        return round(top + plot_h * (1 - max(0.0, min(score, 100.0)) / 100), 1)

    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "ticks": [(tick, y(tick)) for tick in (0, 25, 50, 75, 100)],
        "line": " ".join(f"{x(i)},{y(s)}" for i, (_d, s, _z) in enumerate(points)),
        "dots": [
            {"x": x(i), "y": y(score), "zone": zone or "none", "day": when, "score": score}
            for i, (when, score, zone) in enumerate(points)
        ],
        "first": points[0][0],
        "last": points[-1][0],
    }
