"""Province and regency outlines, read once and projected to SVG path data once per process.

The shipped GeoJSON files (``data/README.md``) are simplified for drawing. A map is drawn
server-side: lon/lat go through a plain equirectangular projection with the x axis shrunk by
the cosine of the drawing's middle latitude (Indonesia straddles the equator, so the shapes
stay true to within a few percent) and y pointing down, into a box ``WIDTH`` wide.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
PROVINCES = DATA / "provinces.geojson"
REGENCIES = DATA / "regencies.geojson"
#: Width of every drawing in SVG user units; the height follows the region's shape.
WIDTH = 1000
#: A margin (user units) so outlines' strokes are not cut at the edges.
MARGIN = 4


@dataclass(frozen=True)
class Outline:
    """One region's shape on a drawing: its code, name and SVG path data."""

    code: str
    name: str
    d: str


@dataclass(frozen=True)
class Drawing:
    """Outlines projected into one box (``0 0 width height``)."""

    width: int
    height: int
    outlines: tuple[Outline, ...]

    @property
    def view_box(self) -> str:
        """The SVG ``viewBox`` of the drawing."""
        return f"0 0 {self.width} {self.height}"


def _read(path: Path) -> tuple[dict[str, Any], ...]:
    with path.open(encoding="utf-8") as handle:
        return tuple(json.load(handle)["features"])


@cache
def province_features() -> tuple[dict[str, Any], ...]:
    """The 38 province outlines (GeoJSON features), read once."""
    return _read(PROVINCES)


@cache
def _regency_features() -> dict[str, tuple[dict[str, Any], ...]]:
    """The 514 regency outlines grouped by province code, read once (1.2 MB)."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for feature in _read(REGENCIES):
        grouped[feature["properties"]["code"].split(".")[0]].append(feature)
    return {code: tuple(features) for code, features in grouped.items()}


def _rings(geometry: dict[str, Any]) -> Iterable[list[list[float]]]:
    polygons = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polygons = [polygons]
    for polygon in polygons:
        yield from polygon


def project(features: Iterable[dict[str, Any]], width: int = WIDTH) -> Drawing:
    """Project ``features`` (MultiPolygon/Polygon, lon/lat) into one drawing ``width`` wide."""
    features = tuple(features)
    points = [p for f in features for ring in _rings(f["geometry"]) for p in ring]
    if not points:
        return Drawing(width, width // 2, ())
    west = min(p[0] for p in points)
    east = max(p[0] for p in points)
    south = min(p[1] for p in points)
    north = max(p[1] for p in points)
    shrink = math.cos(math.radians((north + south) / 2))
    span = max((east - west) * shrink, 1e-9)
    scale = (width - 2 * MARGIN) / span
    height = math.ceil((north - south) * scale + 2 * MARGIN)
    # Finer regions get more decimals: one user unit is ~5 km nationally, far less for a city.
    places = 1 if scale < 100 else 2

    def path(geometry: dict[str, Any]) -> str:
        parts = []
        for ring in _rings(geometry):
            xy = [
                f"{round(MARGIN + (lon - west) * shrink * scale, places):g} "
                f"{round(MARGIN + (north - lat) * scale, places):g}"
                for lon, lat in ring
            ]
            parts.append("M" + xy[0] + "L" + " ".join(xy[1:]) + "Z")
        return "".join(parts)

    outlines = tuple(
        Outline(f["properties"]["code"], f["properties"]["name"], path(f["geometry"]))
        for f in features
    )
    return Drawing(width, height, outlines)


@cache
def province_drawing() -> Drawing:
    """Indonesia's 38 provinces, projected once per process."""
    return project(province_features())


@lru_cache(maxsize=64)
def regency_drawing(province: str) -> Drawing | None:
    """The regencies and cities of ``province`` (a code like ``35``), projected once per process
    per province; None for a code with no regencies."""
    features = _regency_features().get(province)
    return None if not features else project(features)
