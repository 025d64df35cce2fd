"""The zone catalogue (``data/zones.toml``): the one home of which zones exist, their order
(worst first), names and colours (issue 16: zones are data, not three constants).

Pure like the rest of the catalogue: no Flask, no database. ``shipped_zones()`` is read once per
process, so that wire schemas (marshmallow ``OneOf``, hence the OpenAPI enums) can list the known
zones at import time; the registry holds the same tuple for requests and jobs.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from fieldcheck.catalogue.reader import DATA_DIR, Reader
from fieldcheck.core.model import Zone

ZONES_FILE = DATA_DIR / "zones.toml"
#: A zone code is stored in String(8) columns and used as a CSS class and JSON key.
_CODE = re.compile(r"^[a-z][a-z_]{0,7}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_CONFIDENCE = ("verified", "secondary", "unverified")


def load_zones(path: str | Path) -> tuple[Zone, ...]:
    """Load and validate a zone catalogue; zones in file order (worst first)."""
    r = Reader(Path(path))
    data, _digest = r.load()
    r.keys(data, ("zones",), "")
    zones: list[Zone] = []
    for i, t in enumerate(r.tables(data, "zones")):
        where = f"zones[{i}]"
        r.keys(t, ("code", "name", "colour", "text_colour", "confidence", "source"), where)
        code = r.text(t, "code", where)
        if not _CODE.match(code):
            raise r.fail(f"{where}.code", f"must be 1-8 lowercase letters, got {code!r}")
        if any(z.code == code for z in zones):
            raise r.fail(f"{where}.code", f"duplicate zone {code!r}")
        colours = {}
        for key in ("colour", "text_colour"):
            colours[key] = r.text(t, key, where)
            if not _COLOUR.match(colours[key]):
                raise r.fail(f"{where}.{key}", f"expected #rrggbb, got {colours[key]!r}")
        confidence = r.text(t, "confidence", where)
        if confidence not in _CONFIDENCE:
            raise r.fail(
                f"{where}.confidence",
                f"must be one of {', '.join(_CONFIDENCE)}, got {confidence!r}",
            )
        zones.append(
            Zone(
                code=code,
                name=r.text(t, "name", where),
                colour=colours["colour"].lower(),
                text_colour=colours["text_colour"].lower(),
                confidence=confidence,
                source=r.get(t, "source", where, str, required=False, default=""),
            )
        )
    if not zones:
        raise r.fail("zones", "at least one zone is needed")
    return tuple(zones)


@cache
def shipped_zones() -> tuple[Zone, ...]:
    """The shipped zone catalogue, read once per process."""
    return load_zones(ZONES_FILE)


def zone_codes(zones: tuple[Zone, ...] | None = None) -> tuple[str, ...]:
    """The codes of ``zones`` (the shipped catalogue by default), worst first."""
    return tuple(z.code for z in (shipped_zones() if zones is None else zones))


def zone_css(zones: tuple[Zone, ...]) -> str:
    """The stylesheet of the zones' badges (``.zone-<code>``) and map fills
    (``.zone-fill-<code>``), generated from the catalogue so that a new zone has its colour on
    pages, maps and reports without touching a stylesheet."""
    lines = ["/* Generated from the zone catalogue (fieldcheck/catalogue/data/zones.toml). */"]
    for zone in zones:
        lines.append(
            f".zone-{zone.code} {{ background: {zone.colour}; color: {zone.text_colour}; }}"
        )
        lines.append(f".zone-fill-{zone.code} {{ fill: {zone.colour}; }}")
    return "\n".join(lines) + "\n"
