"""Reading the shipped Kemendagri region list and keeping the regions table in step with it."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from sqlalchemy import select

from fieldcheck.extensions import db
from fieldcheck.regions.models import Region

REGIONS_CSV = Path(__file__).resolve().parent / "data" / "regions.csv"


def in_region(column: Any, region: str) -> Any:
    """SQL: ``column`` (a region code) is ``region`` or lies below it (``35`` holds ``35.15``).

    On SQLite a range, ``region <= column < region + "/"``: codes hold only digits and dots and
    "/" sorts right after ".", so the range is exactly the region and its descendants, and the
    column's index serves it. The ``= OR LIKE`` form made SQLite scan every inspection to count
    one province's (docs/decisions.md, "Timings"). PostgreSQL keeps that form: its
    comparisons follow the database's collation, under which "." and "/" need not sort by byte.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        return (column >= region) & (column < region + "/")
    return (column == region) | column.like(region + ".%")


def read_regions(path: Path = REGIONS_CSV) -> list[dict[str, Any]]:
    """The rows of ``regions.csv`` as dicts ready to insert (provinces before regencies)."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [
            {
                "code": r["code"],
                "name": r["name"],
                "level": r["level"],
                "parent_code": r["parent_code"] or None,
                "kind": r["kind"],
                "lat": float(r["lat"]) if r["lat"] else None,
                "lon": float(r["lon"]) if r["lon"] else None,
                "timezone": r["timezone"],
            }
            for r in csv.DictReader(fh)
        ]
    rows.sort(key=lambda r: (r["level"] != "province", r["code"]))
    return rows


def sync_regions(path: Path = REGIONS_CSV) -> tuple[int, int]:
    """Insert missing regions and update changed names/centroids; returns (added, updated)."""
    existing = {r.code: r for r in db.session.execute(select(Region)).scalars()}
    added = updated = 0
    for row in read_regions(path):
        region = existing.get(row["code"])
        if region is None:
            db.session.add(Region(**row))
            added += 1
            continue
        changed = False
        for key, value in row.items():
            if getattr(region, key) != value:
                setattr(region, key, value)
                changed = True
        updated += changed
    db.session.flush()
    return added, updated
