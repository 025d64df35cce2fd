"""Roll unit scores up to agencies, regencies and provinces; rank; and diff two runs.

Rules (domain.md §5 "Aggregation"; the methodology file's ``[roll_up]`` says the same in words):

* unit score for a period = mean of the scores of its counted (approved) inspections in the period,
  each inspection score already rounded half-up to 2 decimals; the mean is rounded half-up again;
  inspections without a score (no applicable indicator) are left out; no scored inspection -> the
  unit has no result;
* agency (instansi) = mean of its units that have a score;
* regency/city = mean of the agencies *located* in it (``Agency.region_code`` equal to the regency
  or below it); province = mean of the agencies located in it or in any of its regencies. An agency
  with no location (spanning provinces) is ranked among agencies but feeds no region;
* zone, grade and label come from the methodology's bands applied to the rounded score;
* ranks are standard competition ranks ("1224") by score, highest first, within each level; rows
  with equal scores share a rank and are listed by code.

Pure: plain data in, plain data out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter

from fieldcheck.core.banding import band_for, mean
from fieldcheck.core.model import Band

LEVELS = ("unit", "agency", "regency", "province")


@dataclass(frozen=True)
class UnitInput:
    """A unit with a score for the period, and where it sits."""

    code: str
    name: str
    agency_code: str
    score: Decimal
    region_code: str


@dataclass(frozen=True)
class AgencyInput:
    """An agency: code, name and where it is located (None when it spans provinces)."""

    code: str
    name: str
    region_code: str | None


@dataclass(frozen=True)
class ResultRow:
    """One row of a zoning result at any level."""

    level: str
    code: str
    name: str
    region_code: str | None
    score: Decimal
    zone: str
    grade: str
    label: str
    rank: int
    #: How many members were averaged: inspections for a unit, units for an agency, agencies for
    #: a region.
    members: int
    agency_code: str | None = None


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


def fast_mean(scores: Iterable[Decimal | None], places: int = 2) -> Decimal | None:
    """``banding.mean`` (exact mean, rounded half-up), on integers when the inputs allow it.

    Roll-ups average scores that already carry at most ``places`` decimals, so the mean is
    ``total / n`` in units of 10**-places, rounded half-up with integer arithmetic: exact, and
    several times faster than Fractions. Anything else (more decimals, negatives) falls back to
    ``banding.mean``.
    """
    present = [s for s in scores if s is not None]
    if not present:
        return None
    total = 0
    for s in present:
        scaled = s.scaleb(places)
        whole = int(scaled)
        if whole != scaled or whole < 0:
            return mean(present, places)
        total += whole
    n = len(present)
    return Decimal((2 * total + n) // (2 * n)).scaleb(-places)


def mean_scaled(values: Sequence[int]) -> int:
    """Half-up rounded mean of non-negative integers (scores in units of 10**-places).

    The hot path of a zoning run: inspection scores arrive as integer hundredths, so the unit mean
    is one integer division, exactly what ``banding.mean`` computes on the same numbers.
    """
    n = len(values)
    if n == 0:
        raise ValueError("mean of no values")
    return (2 * sum(values) + n) // (2 * n)


def mean_scaled_total(total: int, count: int) -> int:
    """``mean_scaled`` from a sum and a count already taken (e.g. by SQL ``SUM``/``COUNT``)."""
    if count <= 0:
        raise ValueError("mean of no values")
    return (2 * total + count) // (2 * count)


def unit_score(inspection_scores: Iterable[Decimal | None], places: int = 2) -> Decimal | None:
    """A unit's score for the period: mean of its inspections' scores, None when none has one."""
    return fast_mean(inspection_scores, places)


def rank(rows: Sequence[ResultRow]) -> list[ResultRow]:
    """Rows ordered by score (highest first) then code, with competition ranks (1, 2, 2, 4)."""
    # Two stable sorts (code, then score descending) avoid negating a Decimal per row.
    ordered = sorted(sorted(rows, key=attrgetter("code")), key=attrgetter("score"), reverse=True)
    ranked: list[ResultRow] = []
    previous: Decimal | None = None
    current = 0
    for position, r in enumerate(ordered, start=1):
        if r.score != previous:
            current = position
            previous = r.score
        # An explicit constructor call: dataclasses.replace is several times slower at 20k rows.
        ranked.append(
            ResultRow(
                r.level,
                r.code,
                r.name,
                r.region_code,
                r.score,
                r.zone,
                r.grade,
                r.label,
                current,
                r.members,
                r.agency_code,
            )
        )
    return ranked


def _row(
    level: str,
    code: str,
    name: str,
    region: str | None,
    score: Decimal,
    bands: Sequence[Band],
    members: int,
    agency_code: str | None = None,
) -> ResultRow:
    band = band_for(score, bands)
    return ResultRow(
        level, code, name, region, score, band.zone, band.grade, band.label, 0, members, agency_code
    )


def _located_in(agency_region: str | None, region: str) -> bool:
    return agency_region is not None and (
        agency_region == region or agency_region.startswith(region + ".")
    )


def unit_rows(
    units: Iterable[UnitInput],
    bands: Sequence[Band],
    unit_members: Mapping[str, int] | None = None,
    ranked: bool = False,
) -> list[ResultRow]:
    """Banded unit rows: rank 0 in input order, or (``ranked``) ranked like ``rank`` does.

    Built in one pass (a national run has ~20k units): bands are looked up once per distinct
    score, and ranked rows are constructed already ranked instead of copied by ``rank``.
    """
    members = unit_members or {}
    if ranked:
        units = sorted(sorted(units, key=attrgetter("code")), key=attrgetter("score"), reverse=True)
    cache: dict[Decimal, Band] = {}
    rows: list[ResultRow] = []
    previous: Decimal | None = None
    current = 0
    for position, unit in enumerate(units, start=1):
        band = cache.get(unit.score)
        if band is None:
            band = cache[unit.score] = band_for(unit.score, bands)
        if ranked and unit.score != previous:
            current, previous = position, unit.score
        rows.append(
            ResultRow(
                "unit",
                unit.code,
                unit.name,
                unit.region_code,
                unit.score,
                band.zone,
                band.grade,
                band.label,
                current,
                members.get(unit.code, 1),
                unit.agency_code,
            )
        )
    return rows


def roll_up_agencies(
    agency_totals: Mapping[str, tuple[int, int]],
    agencies: Mapping[str, AgencyInput],
    region_names: Mapping[str, str],
    bands: Sequence[Band],
    places: int = 2,
) -> dict[str, list[ResultRow]]:
    """Ranked agency, regency and province rows from each agency's unit scores.

    ``agency_totals`` maps an agency code to (sum of its unit scores in units of 10**-places,
    number of units with a score): what a SQL ``SUM``/``COUNT`` over stored unit rows gives, so an
    incremental run need not load every unit score. Same rules as ``roll_up``.
    """
    agency_rows: list[ResultRow] = []
    by_regency: dict[str, list[int]] = defaultdict(list)
    by_province: dict[str, list[int]] = defaultdict(list)
    for code, (total, count) in agency_totals.items():
        agency = agencies[code]
        scaled = mean_scaled_total(total, count)
        agency_rows.append(
            _row(
                "agency",
                code,
                agency.name,
                agency.region_code,
                Decimal(scaled).scaleb(-places),
                bands,
                count,
            )
        )
        if agency.region_code is None:
            continue
        parts = agency.region_code.split(".")
        by_province[parts[0]].append(scaled)
        if len(parts) > 1:
            by_regency[".".join(parts[:2])].append(scaled)

    def regions(level: str, groups: dict[str, list[int]]) -> list[ResultRow]:
        return [
            _row(
                level,
                code,
                region_names.get(code, code),
                code,
                Decimal(mean_scaled(scores)).scaleb(-places),
                bands,
                len(scores),
            )
            for code, scores in groups.items()
        ]

    return {
        "agency": rank(agency_rows),
        "regency": rank(regions("regency", by_regency)),
        "province": rank(regions("province", by_province)),
    }


def within(region_code: str | None, scope: str) -> bool:
    """Whether a region code lies in ``scope`` (itself or below it); "" is everywhere."""
    return scope == "" or _located_in(region_code, scope)


def complete_within(
    upper: Mapping[str, Sequence[ResultRow]], scope: str
) -> dict[str, list[ResultRow]]:
    """The agency, regency and province rows a run limited to ``scope`` computed completely,
    re-ranked among themselves.

    Such a run reads only the units in its region. An agency located there has all its units
    there (its location is the region holding all of them); a regency or province inside the
    region averages only such agencies. Anything else (a national agency with a few units in
    the region, the province of a regency run) would be a partial score under an official name.
    """
    return {
        level: rank([r for r in rows if within(r.region_code, scope)])
        for level, rows in upper.items()
    }


def roll_up(
    units: Iterable[UnitInput],
    agencies: Mapping[str, AgencyInput],
    region_names: Mapping[str, str],
    bands: Sequence[Band],
    unit_members: Mapping[str, int] | None = None,
    places: int = 2,
) -> dict[str, list[ResultRow]]:
    """Ranked result rows per level from unit scores (see the module docstring for the rules).

    ``region_names`` maps region codes (provinces ``35`` and regencies ``35.15``) to names; a
    region missing from it is still rolled up, named by its code. Unit scores must be
    non-negative with at most ``places`` decimals (what ``unit_score`` gives).
    """
    rows = unit_rows(units, bands, unit_members, ranked=True)
    totals: dict[str, tuple[int, int]] = {}
    for r in rows:
        scaled = r.score.scaleb(places)
        whole = int(scaled)
        if whole != scaled or whole < 0:
            raise ValueError(f"unit score {r.score} is not a non-negative {places}-place score")
        total, count = totals.get(r.agency_code, (0, 0))  # type: ignore[arg-type]
        totals[r.agency_code] = (total + whole, count + 1)  # type: ignore[index]
    return {"unit": rows, **roll_up_agencies(totals, agencies, region_names, bands, places)}


def diff(
    old: Iterable[ResultRow | Mapping], new: Iterable[ResultRow | Mapping], levels: Sequence[str]
) -> list[Change]:
    """Changes between two result sets at ``levels``: zone moves and score deltas, by level+code.

    Rows are ResultRow objects or mappings with the same keys. Unchanged rows are left out.
    The rule of record: zoning runs compute the same changes in SQL (runner._store_changes),
    and tests/zoning check them against this function.
    """

    def key(row: ResultRow | Mapping) -> dict:
        return row if isinstance(row, Mapping) else row.__dict__

    before = {(key(r)["level"], key(r)["code"]): key(r) for r in old if key(r)["level"] in levels}
    after = {(key(r)["level"], key(r)["code"]): key(r) for r in new if key(r)["level"] in levels}
    changes: list[Change] = []
    for k in sorted(set(before) | set(after), key=lambda k: (levels.index(k[0]), k[1])):
        b, a = before.get(k), after.get(k)
        if b is not None and a is not None and b["score"] == a["score"] and b["zone"] == a["zone"]:
            continue
        shown = a or b
        assert shown is not None  # noqa: S101 - k comes from one of the two sides
        changes.append(
            Change(
                level=k[0],
                code=k[1],
                name=shown["name"],
                region_code=shown["region_code"],
                old_score=None if b is None else b["score"],
                new_score=None if a is None else a["score"],
                old_zone=None if b is None else b["zone"],
                new_zone=None if a is None else a["zone"],
            )
        )
    return changes
