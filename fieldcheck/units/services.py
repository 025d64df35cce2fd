"""Importing units from CSV: all rows checked first, then applied together, or nothing is."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import select

from fieldcheck.extensions import db
from fieldcheck.regions.models import Region
from fieldcheck.units.dirty import mark_unit_dirty
from fieldcheck.units.models import AGENCY_KINDS, Agency, Unit, UnitService

HEADER = [
    "code",
    "name",
    "agency_code",
    "agency_name",
    "agency_kind",
    "region_code",
    "unit_type",
    "lat",
    "lon",
    "services",
]
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$")


class ImportError_(Exception):  # noqa: N801 - avoid shadowing the builtin ImportError
    """The file has problems; ``problems`` lists (line number, message); nothing was applied."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class ImportReport:
    """What an import did."""

    units_added: int = 0
    units_updated: int = 0
    units_unchanged: int = 0
    agencies_added: int = 0
    agencies_updated: int = 0
    lines: int = 0
    details: list[str] = field(default_factory=list)


def _common_region(codes: set[str]) -> str | None:
    """The deepest region containing all ``codes`` (``35.15`` and ``35.25`` -> ``35``)."""
    parts = [c.split(".") for c in codes]
    common: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return ".".join(common) or None


def _parse(
    reader: Any, service_codes: set[str], region_codes: set[str]
) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    rows: list[dict[str, Any]] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    agency_seen: dict[str, tuple[str, str, int]] = {}
    for record in reader:
        line = reader.line_num
        if None in record or any(v is None for v in record.values()):
            problems.append((line, f"expected {len(HEADER)} columns"))
            continue
        r = {k: (v or "").strip() for k, v in record.items()}
        row_problems: list[str] = []
        for key in (
            "code",
            "name",
            "agency_code",
            "agency_name",
            "agency_kind",
            "region_code",
            "unit_type",
        ):
            if not r[key]:
                row_problems.append(f"{key} is empty")
        for key in ("code", "agency_code"):
            if r[key] and not CODE_RE.match(r[key]):
                row_problems.append(f"{key} {r[key]!r} has characters other than A-Z 0-9 . _ -")
        if r["code"] in seen:
            row_problems.append(f"unit {r['code']} already appears on line {seen[r['code']]}")
        if r["agency_kind"] and r["agency_kind"] not in AGENCY_KINDS:
            row_problems.append(f"agency_kind must be one of {', '.join(AGENCY_KINDS)}")
        if r["region_code"] and r["region_code"] not in region_codes:
            row_problems.append(f"unknown region_code {r['region_code']}")
        if r["agency_code"] in agency_seen:
            name, kind, first = agency_seen[r["agency_code"]]
            if (name, kind) != (r["agency_name"], r["agency_kind"]):
                row_problems.append(
                    f"agency {r['agency_code']} has another name or kind on line {first}"
                )
        lat = lon = None
        if r["lat"] or r["lon"]:
            try:
                lat, lon = float(r["lat"]), float(r["lon"])
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    row_problems.append("lat/lon out of range")
            except ValueError:
                row_problems.append("lat and lon must both be decimal numbers (or both empty)")
        services = [s.strip() for s in r["services"].split(";") if s.strip()]
        unknown = sorted(set(services) - service_codes)
        if unknown:
            row_problems.append(f"unknown service code(s): {', '.join(unknown)}")
        if len(set(services)) != len(services):
            row_problems.append("a service is listed twice")
        if row_problems:
            problems.extend((line, p) for p in row_problems)
            continue
        seen[r["code"]] = line
        agency_seen.setdefault(r["agency_code"], (r["agency_name"], r["agency_kind"], line))
        rows.append({**r, "line": line, "lat": lat, "lon": lon, "services": sorted(services)})
    return rows, problems


def import_units(stream: IO[str], service_codes: set[str]) -> ImportReport:
    """Create or update the units of a CSV (api.md header); raise ImportError_ listing every bad
    line, in which case nothing is applied. Re-importing the same file changes nothing."""
    text = stream.read()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != HEADER:
        raise ImportError_([(1, f"header must be: {','.join(HEADER)}")])
    region_codes = set(db.session.execute(select(Region.code)).scalars())
    rows, problems = _parse(reader, service_codes, region_codes)
    if problems:
        raise ImportError_(problems)
    report = ImportReport(lines=len(rows))

    agencies = {a.code: a for a in db.session.execute(select(Agency)).unique().scalars()}
    units = (
        {
            u.code: u
            for u in db.session.execute(
                select(Unit).where(Unit.code.in_([r["code"] for r in rows]))
            )
            .unique()
            .scalars()
        }
        if rows
        else {}
    )
    added: set[str] = set()
    for r in rows:
        agency = agencies.get(r["agency_code"])
        if agency is None:
            agency = Agency(code=r["agency_code"], name=r["agency_name"], kind=r["agency_kind"])
            db.session.add(agency)
            agencies[agency.code] = agency
            added.add(agency.code)
            report.agencies_added += 1
        elif (agency.name, agency.kind) != (r["agency_name"], r["agency_kind"]):
            agency.name, agency.kind = r["agency_name"], r["agency_kind"]
            report.agencies_updated += 1
        unit = units.get(r["code"])
        fields_ = {
            "name": r["name"],
            "unit_type": r["unit_type"],
            "region_code": r["region_code"],
            "lat": r["lat"],
            "lon": r["lon"],
        }
        if unit is None:
            unit = Unit(
                code=r["code"],
                agency=agency,
                **fields_,
                services=[UnitService(service_code=s) for s in r["services"]],
            )
            db.session.add(unit)
            report.units_added += 1
            continue
        changed = unit.agency_id != agency.id if agency.id else True
        for key, value in fields_.items():
            if getattr(unit, key) != value:
                setattr(unit, key, value)
                changed = True
        unit.agency = agency
        if unit.service_codes != r["services"]:
            # Change only the difference: replacing the list would insert the kept codes again
            # before the old rows are deleted, tripping the (unit, service) unique constraint.
            wanted = set(r["services"])
            for row in [s for s in unit.services if s.service_code not in wanted]:
                unit.services.remove(row)
            for code in sorted(wanted - set(unit.service_codes)):
                unit.services.append(UnitService(service_code=code))
            changed = True
        if changed:
            report.units_updated += 1
            mark_unit_dirty(unit.id, "unit")
        else:
            report.units_unchanged += 1
    db.session.flush()
    problems = _relocate_agencies({r["agency_code"] for r in rows}, added, report)
    if problems:
        # Raised before the caller commits: nothing of the file is applied.
        lines = {}
        for r in rows:
            lines.setdefault(r["agency_code"], []).append(r["line"])
        raise ImportError_(
            sorted((line, problem) for code, problem in problems for line in lines[code])
        )
    return report


#: A regional government is the government of one region: all its units lie in it.
GOVERNMENT_DEPTH = {"pemprov": 1, "pemkab": 2, "pemkot": 2}


def _relocate_agencies(
    agency_codes: set[str], added: set[str], report: ImportReport
) -> list[tuple[str, str]]:
    """Set each agency's region to the deepest region holding all its units; returns
    (agency code, problem) for a regional government whose units would leave its region.

    The location decides which regency and province an agency's score counts for, so a
    government's unit typed into the wrong region must not silently move the whole government
    (and every official aggregate it feeds) out of its region.
    """
    problems: list[tuple[str, str]] = []
    for agency in (
        db.session.execute(select(Agency).where(Agency.code.in_(agency_codes))).unique().scalars()
    ):
        regions = set(
            db.session.execute(
                select(Unit.region_code).where(Unit.agency_id == agency.id)
            ).scalars()
        )
        located = _common_region(regions) if regions else None
        if agency.kind == "pemprov" and located is not None:
            # A provincial government is located in its province, even with all its units in
            # one regency: it must not count in that regency's score (decisions item 11).
            located = located.split(".")[0]
        depth = GOVERNMENT_DEPTH.get(agency.kind)
        if depth is not None and len(located.split(".") if located else []) < depth:
            where = "a province" if depth == 1 else "a regency or city"
            problems.append(
                (
                    agency.code,
                    f"{agency.code} ({agency.kind}) governs one region, {where}, but its units "
                    f"would lie in {', '.join(sorted(regions))}",
                )
            )
            continue
        if agency.region_code != located:
            if agency.code not in added:
                report.agencies_updated += 1  # moved: its scores now count for another region
            agency.region_code = located
    db.session.flush()
    return problems
