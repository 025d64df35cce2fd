"""Everything the unit page and the unit and agency reports show about a unit for one period.

The score breakdown and the findings are the unit's result in the period's run
(``zoning.unit_result``, the API's own); history, photos and objections are read through the
same visibility rules as the API (``inspections.visibility``, ``evidence.visibility``). Texts
are rendered in the reader's language here (findings, notes, recommendations); numbers and
dates stay values for the templates' filters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core.model import Methodology
from fieldcheck.errors import field_errors
from fieldcheck.evidence.models import InspectionPhoto, Photo
from fieldcheck.evidence.serving import read_preview
from fieldcheck.extensions import db
from fieldcheck.i18n import _, render, render_breakdown
from fieldcheck.inspections.models import Answer, FindingRow, Inspection
from fieldcheck.inspections.visibility import visible_inspections
from fieldcheck.publication.services import unit_overrides
from fieldcheck.reports.recommendations import recommendations
from fieldcheck.review.models import Objection
from fieldcheck.units.models import Unit
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.overrides import UnitOverride
from fieldcheck.zoning.reading import resolve_run
from fieldcheck.zoning.services import current_period, default_methodology_id
from fieldcheck.zoning.unit_result import result_in_run

#: The first assessment period the service knows (as the API's period fields).
FIRST_PERIOD = 2000
#: How many visits the unit page lists (newest first); the trend chart reads the same ones.
HISTORY_LIMIT = 50
#: How many photos a page or report shows (the newest visits' first).
PHOTO_LIMIT = 24


@dataclass
class PhotoShown:
    """A received photo of one of the unit's visits, with the checklist items it documents."""

    sha256: str
    inspection_id: int
    visit_date: date
    width: int
    height: int
    indicators: list[str] = field(default_factory=list)


@dataclass
class UnitDossier:
    """A unit's page or report for one period (``result`` None: no run scored it yet)."""

    unit: Unit
    period: int
    run: ZoningRun | None
    result: dict[str, Any] | None
    dimensions: list[dict[str, Any]]
    indicators: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    recommendations: list[str]
    photos: list[PhotoShown]
    history: list[Inspection]
    overrides: list[UnitOverride]
    objections: list[dict[str, Any]]

    @property
    def active_override(self) -> UnitOverride | None:
        """The override in force for the period shown, if any (with or without a result)."""
        if self.result is not None:
            return self.result["override"]
        return next(
            (o for o in self.overrides if o.period == self.period and o.withdrawn_at is None),
            None,
        )


def parse_period(raw: str | None) -> int:
    """A period from a query string (a year, default the current one), else 422."""
    now = current_period()
    if raw is None or raw.strip() == "":
        return now
    text = raw.strip()
    if not text.isdigit() or not FIRST_PERIOD <= int(text) <= now:
        raise field_errors(
            {
                "period": [
                    _(
                        "The period must be a year from %(first)s to %(now)s.",
                        first=FIRST_PERIOD,
                        now=now,
                    )
                ]
            }
        )
    return int(text)


def unit_dossier(unit: Unit, period: int, user: User, *, full: bool = True) -> UnitDossier:
    """Gather ``unit``'s (already checked visible) result, findings, photos and, when ``full``,
    its history, overrides and objections for ``period`` as ``user`` may see them."""
    run = resolve_run(user, period=period, region=unit.region_code)
    result = result_in_run(unit, run)
    methodology = _methodology(run)
    indicators = _indicators(result, methodology)
    findings = _findings(result)
    return UnitDossier(
        unit=unit,
        period=period,
        run=run,
        result=result,
        dimensions=_dimensions(result, methodology),
        indicators=indicators,
        findings=findings,
        recommendations=recommendations(indicators, findings),
        photos=_photos(unit, period, user),
        history=_history(unit, user) if full else [],
        overrides=unit_overrides(unit) if full else [],
        objections=_objections(unit, user) if full else [],
    )


def _methodology(run: ZoningRun | None) -> Methodology | None:
    registry = get_registry()
    if run is not None:
        return registry.methodology(run.methodology_id, run.methodology_version)
    return registry.methodology(default_methodology_id())


def _dimensions(result: dict[str, Any] | None, methodology: Methodology | None) -> list[dict]:
    if result is None:
        return []
    names = {d.code: d.name for d in methodology.dimensions} if methodology else {}
    return [{**d, "name": names.get(d["code"], d["name"])} for d in result["dimensions"]]


def _indicators(result: dict[str, Any] | None, methodology: Methodology | None) -> list[dict]:
    """The result's indicator means with each question and the latest visit's note (why)."""
    if result is None:
        return []
    notes: dict[str, str] = {}
    if result["inspections"]:
        latest = db.session.get(Inspection, result["inspections"][-1]["id"])
        shown = render_breakdown(latest.breakdown) if latest is not None else None
        notes = {i["code"]: i.get("note") or "" for i in (shown or {}).get("indicators", ())}
    rows = []
    for item in result["indicators"]:
        indicator = methodology.indicator(item["code"]) if methodology else None
        rows.append(
            {
                **item,
                "question": indicator.question if indicator else item["code"],
                "note": notes.get(item["code"], ""),
            }
        )
    return rows


def _findings(result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The result's standing findings, one per distinct finding, with the visits that made it."""
    if result is None:
        return []
    merged: dict[tuple, dict[str, Any]] = {}
    for f in result["findings"]:
        key = (f["rule"], f["service"], f["component"], f["citation"], f["message"])
        if key not in merged:
            merged[key] = {**f, "inspection_ids": []}
        merged[key]["inspection_ids"].append(f["inspection_id"])
    # Violations before warnings, then in the order the checks found them.
    return sorted(merged.values(), key=lambda f: f["severity"] != "violation")


def _in_period(period: int) -> Any:
    return Inspection.visit_date.between(date(period, 1, 1), date(period, 12, 31))


def _photos(unit: Unit, period: int, user: User) -> list[PhotoShown]:
    """Photos received for the unit's visits of the period that ``user`` may see (newest visit
    first), each with the indicators whose answers reference it."""
    visible = (
        visible_inspections(user)
        .where(Inspection.unit_id == unit.id, _in_period(period))
        .with_only_columns(Inspection.id, Inspection.visit_date)
        .subquery()
    )
    rows = db.session.execute(
        select(InspectionPhoto.inspection_id, visible.c.visit_date, Photo)
        .join(visible, visible.c.id == InspectionPhoto.inspection_id)
        .join(Photo, Photo.sha256 == InspectionPhoto.sha256)
        .where(InspectionPhoto.received_at.is_not(None))
        .order_by(visible.c.visit_date.desc(), InspectionPhoto.id)
        .limit(PHOTO_LIMIT)
    ).all()
    if not rows:
        return []
    documents: dict[tuple[int, str], list[str]] = defaultdict(list)
    for inspection_id, code, shas in db.session.execute(
        select(Answer.inspection_id, Answer.indicator_code, Answer.photos).where(
            Answer.inspection_id.in_({r[0] for r in rows})
        )
    ):
        for sha in shas or ():
            documents[(inspection_id, sha)].append(code)
    return [
        PhotoShown(
            sha256=photo.sha256,
            inspection_id=inspection_id,
            visit_date=visit_date,
            width=photo.width,
            height=photo.height,
            indicators=documents.get((inspection_id, photo.sha256), []),
        )
        for inspection_id, visit_date, photo in rows
    ]


def _history(unit: Unit, user: User) -> list[Inspection]:
    """The unit's visits ``user`` may see, newest first (every status)."""
    query = (
        visible_inspections(user)
        .where(Inspection.unit_id == unit.id)
        .order_by(Inspection.visit_date.desc(), Inspection.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return list(db.session.execute(query).unique().scalars())


def _objections(unit: Unit, user: User) -> list[dict[str, Any]]:
    """Objections to findings of the unit's visible visits, newest first, with the finding."""
    visible = (
        visible_inspections(user)
        .where(Inspection.unit_id == unit.id)
        .with_only_columns(Inspection.id)
        .subquery()
    )
    rows = db.session.execute(
        select(Objection, FindingRow)
        .join(visible, visible.c.id == Objection.inspection_id)
        .join(FindingRow, FindingRow.id == Objection.finding_id)
        .order_by(Objection.id.desc())
    ).all()
    return [
        {
            "id": objection.id,
            "inspection_id": objection.inspection_id,
            "status": objection.status,
            "text": objection.text,
            "recorded_at": objection.recorded_at,
            "decided_at": objection.decided_at,
            "decision_reason": objection.decision_reason,
            "finding": {
                "rule": finding.rule,
                "citation": finding.citation,
                "message": render(finding.message, finding.params),
            },
        }
        for objection, finding in rows
    ]


def photo_previews(photos: Iterable[PhotoShown]) -> dict[str, bytes]:
    """The preview bytes of photos a dossier shows (already visible to its reader), by sha256;
    a photo whose file is gone is left out (the report says so where it would be)."""
    out: dict[str, bytes] = {}
    for shown in photos:
        if shown.sha256 in out:
            continue
        photo = db.session.get(Photo, shown.sha256)
        data = None if photo is None else read_preview(photo)
        if data is not None:
            out[shown.sha256] = data
    return out
