"""What the dashboard counts, for one region (or the nation); every figure is one SQL query.

Nothing here knows about requests: the routes pass the region (already checked against the
caller's scope) and the run the results come from.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import func, select

from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core.dimensions import OBSERVATION
from fieldcheck.core.rollup import LEVELS
from fieldcheck.evidence.models import InspectionFlag
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, _
from fieldcheck.inspections.models import STATUSES, Inspection
from fieldcheck.regions import outlines
from fieldcheck.regions.services import in_region
from fieldcheck.review.models import Objection
from fieldcheck.units.models import Unit
from fieldcheck.zoning.models import ZoningRun, ZoningSubject
from fieldcheck.zoning.overrides import UnitOverride
from fieldcheck.zoning.results import level_rows
from fieldcheck.zoning.subjects import run_methodology, scored_by_dimensions, subject_level

#: How many of the lowest-scoring regencies the dashboard names.
LOWEST = 5


def within(column: Any, region: str | None) -> Any:
    """``column`` (a region code) inside ``region``; None for the nation (no condition)."""
    return None if region is None else in_region(column, region)


def _where(query: Any, condition: Any) -> Any:
    return query if condition is None else query.where(condition)


def _in_units(query: Any, region: str | None) -> Any:
    """A query over inspections limited to the region's units (no join for the nation: the
    counts then come from the inspections' own indexes)."""
    if region is None:
        return query
    return query.join(Unit, Unit.id == Inspection.unit_id).where(within(Unit.region_code, region))


def inspection_counts(region: str | None, now: datetime) -> dict[str, Any]:
    """Inspections of the region's units by status, and how many arrived in the last 7 days."""
    by_status = dict.fromkeys(STATUSES, 0)
    rows = db.session.execute(
        _in_units(select(Inspection.status, func.count()), region).group_by(Inspection.status)
    )
    by_status.update({status: count for status, count in rows})
    recent = db.session.execute(
        _in_units(
            select(func.count())
            .select_from(Inspection)
            .where(Inspection.received_at >= now - timedelta(days=7)),
            region,
        )
    ).scalar_one()
    return {"by_status": by_status, "total": sum(by_status.values()), "last_7_days": recent}


def review_queue(region: str | None) -> dict[str, Any]:
    """What waits for a supervisor: received inspections (oldest first), those of them carrying
    integrity flags (by flag code), and objections not yet decided."""
    in_region = within(Unit.region_code, region)
    waiting, oldest = db.session.execute(
        _where(
            select(func.count(), func.min(Inspection.received_at))
            .select_from(Inspection)
            .join(Unit, Unit.id == Inspection.unit_id)
            .where(Inspection.status == "received"),
            in_region,
        )
    ).one()
    flags = db.session.execute(
        _where(
            select(InspectionFlag.code, func.count(func.distinct(InspectionFlag.inspection_id)))
            .join(Inspection, Inspection.id == InspectionFlag.inspection_id)
            .join(Unit, Unit.id == Inspection.unit_id)
            .where(Inspection.status == "received"),
            in_region,
        )
        .group_by(InspectionFlag.code)
        .order_by(InspectionFlag.code)
    ).all()
    objections = db.session.execute(
        _where(
            select(func.count())
            .select_from(Objection)
            .join(Inspection, Inspection.id == Objection.inspection_id)
            .join(Unit, Unit.id == Inspection.unit_id)
            .where(Objection.status == "pending"),
            in_region,
        )
    ).scalar_one()
    return {
        "received": waiting,
        "oldest_received_at": oldest,
        "flagged": dict(flags),
        "objections_pending": objections,
    }


def zone_summary(run: ZoningRun, region: str | None) -> dict[str, Any]:
    """Of ``run``'s rows inside the region: how many are in each zone at every level (and, for
    units, in each final zone once the period's overrides are applied), and the lowest-scoring
    regencies.

    Every level has a key per zone of the run's methodology, worst first (zone catalogue order),
    however many that methodology has (issue 16)."""
    zone_order = get_registry().zones_of(run.methodology_id)
    zones: dict[str, dict[str, int]] = {}
    for level in LEVELS:
        rows = level_rows(run, level).subquery()
        counts = db.session.execute(
            _where(select(rows.c.zone, func.count()), within(rows.c.region_code, region)).group_by(
                rows.c.zone
            )
        )
        zones[level] = dict.fromkeys(zone_order, 0) | dict(counts.all())
    regencies = level_rows(run, "regency").subquery()
    lowest = db.session.execute(
        _where(
            select(
                regencies.c.code,
                regencies.c.name,
                regencies.c.score,
                regencies.c.zone,
                regencies.c.rank,
            ),
            within(regencies.c.region_code, region),
        )
        .order_by(regencies.c.score, regencies.c.code)
        .limit(LOWEST)
    ).all()
    # Final zones: a unit's override for the run's period replaces its computed zone (roll-ups
    # stay computed from scores, decisions item 54).
    units = level_rows(run, "unit").subquery()
    final = dict(zones["unit"])
    moved = db.session.execute(
        _where(
            select(units.c.zone, UnitOverride.zone)
            .join(Unit, Unit.code == units.c.code)
            .join(UnitOverride, UnitOverride.unit_id == Unit.id)
            .where(UnitOverride.period == run.period, UnitOverride.withdrawn_at.is_(None)),
            within(units.c.region_code, region),
        )
    )
    for computed, overridden in moved:
        final[computed] -= 1
        # An override may name a zone of another loaded methodology's scale.
        final[overridden] = final.get(overridden, 0) + 1
    return {
        "zones": zones,
        "final_zones": {"unit": final},
        "lowest_regencies": lowest,
    }


#: How many of the commonest reasons for incomplete subjects the dashboard names.
TOP_REASONS = 3

#: A gap summed over subjects: one line per instrument short of its quota, per kind otherwise.
REASON_SHORT = N_("%(instrument)s too few")
REASON_NO_INSPECTION = N_("a unit has no counted inspection")
REASON_NO_UNIT = N_("no unit visited or interviewed")
REASON_NO_DATA = N_("dimension %(dimension)s has no answer that applies")


def _reason_key(gap: dict[str, Any]) -> tuple[str, str | None]:
    """What a gap says without its numbers, so gaps of several subjects can be counted."""
    if gap.get("kind") == "no_data":
        return ("no_data", gap.get("dimension"))
    if gap.get("source") is None:
        return ("no_unit", None)
    return ("quota", gap["source"])


def _reason_text(key: tuple[str, str | None], names: dict[str, str]) -> str:
    kind, what = key
    if kind == "no_data":
        return _(REASON_NO_DATA, dimension=names.get(f"dim:{what}", what))
    if kind == "no_unit":
        return _(REASON_NO_UNIT)
    if what == OBSERVATION:
        return _(REASON_NO_INSPECTION)
    return _(REASON_SHORT, instrument=names.get(f"src:{what}", what))


def subject_summary(run: ZoningRun, region: str | None) -> dict[str, Any] | None:
    """For a run scored by dimensions (issue 16): of its subjects inside the region, the level
    they are (agency or unit), how many are complete (zoned) and incomplete (never zoned), and
    the commonest reasons for being incomplete with how many subjects each holds back, most
    first. None for any other run (the 2019-style dashboard stays as it is)."""
    if not scored_by_dimensions(run):
        return None
    level = subject_level(run)
    rows = db.session.execute(
        _where(
            select(ZoningSubject.is_complete, ZoningSubject.gaps).where(
                ZoningSubject.run_id == run.id, ZoningSubject.level == level
            ),
            within(ZoningSubject.region_code, region),
        )
    ).all()
    methodology = run_methodology(run)
    names: dict[str, str] = {}
    if methodology is not None:
        names |= {f"dim:{d.code}": d.name for d in methodology.dimensions}
        names |= {f"src:{i.code}": i.name for i in methodology.instruments}
    reasons: Counter[tuple[str, str | None]] = Counter()
    for is_complete, gaps in rows:
        if not is_complete:
            # A subject counts once per reason, however many of its units share it.
            reasons.update({_reason_key(gap) for gap in gaps or ()})
    top = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1] or ""))
    return {
        "level": level,
        "complete": sum(1 for is_complete, _gaps in rows if is_complete),
        "incomplete": sum(1 for is_complete, _gaps in rows if not is_complete),
        "reasons": [
            {"reason": _reason_text(key, names), "subjects": n} for key, n in top[:TOP_REASONS]
        ],
    }


def coverage(region: str | None, period: int, with_result: int) -> dict[str, Any]:
    """The region's units: how many, how many have a result (``with_result``, from the run),
    how many have none (not inspected, or nothing approved, in the period), and how many carry
    an override in force for the period."""
    total = db.session.execute(
        _where(select(func.count()).select_from(Unit), within(Unit.region_code, region))
    ).scalar_one()
    overrides = db.session.execute(
        _where(
            select(func.count())
            .select_from(UnitOverride)
            .join(Unit, Unit.id == UnitOverride.unit_id)
            .where(UnitOverride.period == period, UnitOverride.withdrawn_at.is_(None)),
            within(Unit.region_code, region),
        )
    ).scalar_one()
    return {
        "total": total,
        "with_result": with_result,
        "without_result": max(total - with_result, 0),
        "overrides_in_force": overrides,
    }


def latest_run(scopes: list[str], period: int) -> ZoningRun | None:
    """The newest run of ``period`` (any state, dry runs excluded) of one of ``scopes``: did
    last night's run succeed?"""
    return db.session.execute(
        select(ZoningRun)
        .where(
            ZoningRun.scope.in_(scopes),
            ZoningRun.period == period,
            ZoningRun.is_dry_run.is_(False),
        )
        .order_by(ZoningRun.id.desc())
        .limit(1)
    ).scalar_one_or_none()


@cache
def outlines_digest() -> str:
    """A digest of the shipped outlines file (part of the map's ETag)."""
    return hashlib.sha256(outlines.PROVINCES.read_bytes()).hexdigest()[:16]


def province_outlines() -> tuple[dict[str, Any], ...]:
    """The 38 province outlines (GeoJSON features, simplified for drawing), read once."""
    return outlines.province_features()


def province_rows(run: ZoningRun) -> dict[str, Any]:
    """``run``'s province rows by code."""
    rows = level_rows(run, "province").subquery()
    return {row.code: row for row in db.session.execute(select(rows))}
