"""Roll unit scores up to agencies, regencies and provinces, and rank every level.

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

Where each rule is computed (one rule of record each, docs/decisions.md "Issue 12: core"):

* the zoning run computes unit rows (mean, band, rank) and the per-agency sums in SQL
  (``zoning.store_units._UnitSQL``), and the changes between runs in SQL
  (``zoning.changes._store_changes``):
  that SQL is the rule of record;
* agency, regency and province rows are computed here, from those sums, by ``roll_up_agencies``
  and limited to a regional run's reach by ``complete_within``: these functions are the rule of
  record for the upper levels;
* ``unit_score`` states the unit mean in Python for the unit-result endpoint, which checks a stored
  row is reproducible from its inspections.

The same rules written plainly, without the SQL's or this module's shortcuts, are the test
oracle in ``tests/core/oracle.py``; a property test (tests/zoning/test_oracle_property.py) runs
real zoning runs on SQLite and PostgreSQL and holds the stored rows equal to it, ranks included.

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


def mean_scaled(values: Sequence[int]) -> int:
    """Half-up rounded mean of non-negative integers (scores in units of 10**-places)."""
    return mean_scaled_total(sum(values), len(values))


def mean_scaled_total(total: int, count: int) -> int:
    """The half-up mean of ``count`` scores summing to ``total``, all in units of 10**-places.

    ``(2 * total + count) // (2 * count)`` is ``banding.mean`` on such scores with integers only;
    the zoning SQL writes the same expression over its work table's sums.
    """
    if count <= 0:
        raise ValueError("mean of no values")
    return (2 * total + count) // (2 * count)


def unit_score(inspection_scores: Iterable[Decimal | None], places: int = 2) -> Decimal | None:
    """A unit's score for the period: the half-up mean of its scored inspections' scores, None
    when none has one (the rule the zoning SQL applies; see the module docstring)."""
    return mean(inspection_scores, places)


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
    incremental run need not load every unit score.
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
