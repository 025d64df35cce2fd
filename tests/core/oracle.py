"""Test oracle: the zoning rules written plainly, to hold the zoning run's stored rows to.

Nothing in production calls this module. The zoning run computes unit rows and the changes
between runs in SQL, and the upper levels from per-agency sums (``fieldcheck.core.rollup``); both
take shortcuts for speed (integer hundredths, shared rows, incremental sums). The functions here
take none: each row is computed from its members with ``banding.mean`` and ``band_for`` and
ranked by counting higher scores, so an error in a shortcut shows as a difference.
Rules: domain.md §5 "Aggregation", restated in ``fieldcheck.core.rollup``'s docstring.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from fieldcheck.core.banding import band_for, mean
from fieldcheck.core.model import Band
from fieldcheck.core.rollup import AgencyInput, ResultRow


@dataclass(frozen=True)
class UnitInput:
    """A unit with a score for the period, and where it sits."""

    code: str
    name: str
    agency_code: str
    score: Decimal
    region_code: str | None


@dataclass(frozen=True)
class Change:
    """How one unit or agency moved between two runs (None on the side where it is absent)."""

    level: str
    code: str
    name: str
    region_code: str | None
    old_score: Decimal | None
    new_score: Decimal | None
    old_zone: str | None
    new_zone: str | None

    @property
    def delta(self) -> Decimal | None:
        """New minus old score, or None when either side is missing."""
        if self.old_score is None or self.new_score is None:
            return None
        return self.new_score - self.old_score

    @property
    def zone_changed(self) -> bool:
        """True when the zone differs (appearing or disappearing counts as a move)."""
        return self.old_zone != self.new_zone


def unit_mean(scores: Sequence[Decimal], places: int = 2) -> Decimal:
    """The exact mean of a unit's inspection scores, rounded half-up (no ``banding.mean``)."""
    exact = sum((Fraction(s) for s in scores), Fraction(0)) / len(scores)
    return Decimal(int(exact * 10**places + Fraction(1, 2))).scaleb(-places)


def by_rank(rows: Iterable[ResultRow]) -> list[ResultRow]:
    """Rows by score (highest first) then code; each rank is 1 + how many rows score higher."""
    rows = list(rows)
    out = []
    for r in sorted(rows, key=lambda r: (-r.score, r.code)):
        higher = sum(1 for other in rows if other.score > r.score)
        out.append(_with_rank(r, higher + 1))
    return out


def unit_rows(
    units: Iterable[UnitInput],
    bands: Sequence[Band],
    unit_members: Mapping[str, int] | None = None,
    ranked: bool = False,
) -> list[ResultRow]:
    """Banded unit rows in input order with rank 0, or (``ranked``) ranked."""
    members = unit_members or {}
    rows = [
        _banded(
            "unit",
            u.code,
            u.name,
            u.region_code,
            u.score,
            bands,
            members.get(u.code, 1),
            u.agency_code,
        )
        for u in units
    ]
    return by_rank(rows) if ranked else rows


def roll_up(
    units: Iterable[UnitInput],
    agencies: Mapping[str, AgencyInput],
    region_names: Mapping[str, str],
    bands: Sequence[Band],
    unit_members: Mapping[str, int] | None = None,
    places: int = 2,
    scope: str = "",
) -> dict[str, list[ResultRow]]:
    """Ranked rows per level from unit scores; with ``scope`` (a regional run) only the units,
    agencies and regions inside it, each level ranked among itself."""
    units = [u for u in units if _inside(u.region_code, scope)]
    by_agency: dict[str, list[Decimal]] = defaultdict(list)
    for u in units:
        by_agency[u.agency_code].append(u.score)
    agency_rows = [
        _banded(
            "agency",
            code,
            agencies[code].name,
            agencies[code].region_code,
            mean(scores, places),
            bands,
            len(scores),
        )
        for code, scores in by_agency.items()
    ]
    by_region: dict[str, dict[str, list[Decimal]]] = {"regency": {}, "province": {}}
    for row in agency_rows:
        if row.region_code is None:
            continue  # an agency spanning provinces feeds no region
        parts = row.region_code.split(".")
        by_region["province"].setdefault(parts[0], []).append(row.score)
        if len(parts) > 1:
            by_region["regency"].setdefault(".".join(parts[:2]), []).append(row.score)
    result = {
        "unit": by_rank(unit_rows(units, bands, unit_members)),
        "agency": by_rank(r for r in agency_rows if _inside(r.region_code, scope)),
    }
    for level, groups in by_region.items():
        result[level] = by_rank(
            _banded(
                level,
                code,
                region_names.get(code, code),
                code,
                mean(scores, places),
                bands,
                len(scores),
            )
            for code, scores in groups.items()
            if _inside(code, scope)
        )
    return result


def diff(
    old: Iterable[ResultRow | Mapping], new: Iterable[ResultRow | Mapping], levels: Sequence[str]
) -> list[Change]:
    """Changes between two result sets at ``levels``, by level then code; unchanged rows are
    left out. Rows are ResultRow objects or mappings with the same keys."""

    def fields(row: ResultRow | Mapping) -> Mapping:
        return row if isinstance(row, Mapping) else row.__dict__

    before = {(f["level"], f["code"]): f for f in map(fields, old) if f["level"] in levels}
    after = {(f["level"], f["code"]): f for f in map(fields, new) if f["level"] in levels}
    changes: list[Change] = []
    for key in sorted(set(before) | set(after), key=lambda k: (levels.index(k[0]), k[1])):
        b, a = before.get(key), after.get(key)
        if b is not None and a is not None and (b["score"], b["zone"]) == (a["score"], a["zone"]):
            continue
        shown = a if a is not None else b
        changes.append(
            Change(
                level=key[0],
                code=key[1],
                name=shown["name"],
                region_code=shown["region_code"],
                old_score=None if b is None else b["score"],
                new_score=None if a is None else a["score"],
                old_zone=None if b is None else b["zone"],
                new_zone=None if a is None else a["zone"],
            )
        )
    return changes


def _inside(region_code: str | None, scope: str) -> bool:
    if scope == "":
        return True
    return region_code is not None and (region_code == scope or region_code.startswith(scope + "."))


def _banded(
    level: str,
    code: str,
    name: str,
    region_code: str | None,
    score: Decimal,
    bands: Sequence[Band],
    members: int,
    agency_code: str | None = None,
) -> ResultRow:
    band = band_for(score, bands)
    return ResultRow(
        level,
        code,
        name,
        region_code,
        score,
        band.zone,
        band.grade,
        band.label,
        0,
        members,
        agency_code,
    )


def _with_rank(r: ResultRow, position: int) -> ResultRow:
    return ResultRow(
        r.level,
        r.code,
        r.name,
        r.region_code,
        r.score,
        r.zone,
        r.grade,
        r.label,
        position,
        r.members,
        r.agency_code,
    )
