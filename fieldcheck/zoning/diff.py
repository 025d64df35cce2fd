"""The zone diff of a run against a baseline run (issue 16): what a what-if would change.

``changes.py`` records, when a run is stored, its changes against the official run of the *same
methodology*; a what-if with a new methodology (or a draft version) is instead compared here,
when asked, with the run that is in force for its period and scope whatever its methodology.
Read-only, computed from both runs' resolved rows (zoning.results), at every level.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.i18n import N_
from fieldcheck.zoning.models import ZoningRun, ZoningSubject
from fieldcheck.zoning.reading import results_query
from fieldcheck.zoning.results import level_rows
from fieldcheck.zoning.visibility import visible_run

LEVELS = ("province", "regency", "agency", "unit")


@dataclass(frozen=True)
class ZoneMove:
    """One place whose zone differs between the baseline (old) and the run (new); a side
    without a row (no scored inspection there) has None."""

    level: str
    code: str
    name: str
    region_code: str | None
    old_zone: str | None
    old_score: Decimal | None
    new_zone: str | None
    new_score: Decimal | None


def baseline_run(run: ZoningRun) -> ZoningRun | None:
    """What ``run`` is compared with by default: the official run of its period and scope
    (whatever its methodology; the newest published), else the newest succeeded non-dry run of
    that period and scope; never ``run`` itself."""
    base = select(ZoningRun).where(
        ZoningRun.period == run.period,
        ZoningRun.scope == run.scope,
        ZoningRun.id != run.id,
        ZoningRun.state == "succeeded",
    )
    official = db.session.execute(
        base.where(ZoningRun.is_official.is_(True))
        .order_by(ZoningRun.published_at.desc().nulls_last(), ZoningRun.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if official is not None:
        return official
    return db.session.execute(
        base.where(ZoningRun.is_dry_run.is_(False)).order_by(ZoningRun.id.desc()).limit(1)
    ).scalar_one_or_none()


def zone_diff(
    user: User, run: ZoningRun, against: int | None = None, level: str | None = None
) -> tuple[ZoningRun | None, list[ZoneMove]]:
    """The baseline and every place ``user`` may see whose zone differs between it and ``run``,
    coarsest level first, then by code (409 while ``run`` has not succeeded)."""
    if run.state != "succeeded":
        raise ApiError("conflict", N_("The run has no result yet."))
    baseline = visible_run(user, against) if against is not None else baseline_run(run)
    if baseline is not None and baseline.state != "succeeded":
        raise ApiError("conflict", N_("The run to compare with has no result."))
    if baseline is None:
        return None, []
    moves: list[ZoneMove] = []
    for lvl in LEVELS if level is None else (level,):
        new = _rows(user, run, lvl)
        old = _rows(user, baseline, lvl)
        for code in sorted(set(new) | set(old)):
            n, o = new.get(code), old.get(code)
            if n is not None and o is not None and n.zone == o.zone:
                continue
            either: Any = n if n is not None else o
            moves.append(
                ZoneMove(
                    level=lvl,
                    code=code,
                    name=either.name,
                    region_code=either.region_code,
                    old_zone=None if o is None else o.zone,
                    old_score=None if o is None else o.score,
                    new_zone=None if n is None else n.zone,
                    new_score=None if n is None else n.score,
                )
            )
    return baseline, moves


def _rows(user: User, run: ZoningRun, level: str) -> dict[str, Any]:
    return {row.code: row for row in db.session.execute(results_query(user, run, level))}


#: How many differing rows a rerun check lists (the count is always given).
RERUN_DIFFERENCES_SHOWN = 50


def result_differences(original: ZoningRun, again: ZoningRun) -> list[tuple[str, str]]:
    """(level, code) of every result row that differs between two runs in score, zone, grade,
    label, rank, members or inspections used: empty when ``again`` reproduces ``original``."""

    def rows(run: ZoningRun) -> dict[tuple[str, str], tuple[Any, ...]]:
        out = {}
        for level in LEVELS:
            for r in db.session.execute(level_rows(run, level)):
                ids = sorted(r.inspection_ids or [])
                out[(level, r.code)] = (r.score, r.zone, r.grade, r.label, r.rank, r.members, ids)
        return out

    def subjects(run: ZoningRun) -> dict[tuple[str, str], tuple[Any, ...]]:
        # Runs scored by dimensions: incomplete subjects have no result row; their dimension
        # scores and gaps must be reproduced too.
        found = db.session.execute(
            select(ZoningSubject).where(ZoningSubject.run_id == run.id)
        ).scalars()
        return {(s.level, s.code): (s.is_complete, s.score, s.dimensions, s.gaps) for s in found}

    a, b = rows(original), rows(again)
    differ = {key for key in set(a) | set(b) if a.get(key) != b.get(key)}
    sa, sb = subjects(original), subjects(again)
    differ |= {key for key in set(sa) | set(sb) if sa.get(key) != sb.get(key)}
    return sorted(differ)


def rerun_check(run: ZoningRun) -> dict[str, Any] | None:
    """For a run that repeats another: which run, and once both succeeded whether every number
    was reproduced (``reproduced``) and which rows differ. None for any other run.

    A rerun reads the period's inputs as they are now: rows differ when visits were approved
    or interviews received or rejected since the original ran, not because of the methodology
    (the rerun uses the original's exact version and hash)."""
    if run.rerun_of_id is None:
        return None
    original = db.session.get(ZoningRun, run.rerun_of_id)
    check: dict[str, Any] = {"of": run.rerun_of_id, "reproduced": None, "differences": []}
    if original is None or run.state != "succeeded" or original.state != "succeeded":
        return check
    differences = result_differences(original, run)
    check["reproduced"] = not differences
    check["differences"] = [
        {"level": level, "code": code} for level, code in differences[:RERUN_DIFFERENCES_SHOWN]
    ]
    check["difference_count"] = len(differences)
    return check
