"""Load and validate a methodology file (TOML): dimensions, indicators, weights and bands."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from fieldcheck.catalogue.reader import SCORE_MAX, SCORE_MIN, CatalogueError, Reader

# One definition of "the same spelling", shared with the checker that matches requirements.
from fieldcheck.core.model import (
    DELIVERY_COMPONENTS,
    YES_NO_VALUES,
    Band,
    Dimension,
    Indicator,
    LegalCatalogue,
    Methodology,
    Zone,
)

# --- methodologies -----------------------------------------------------------------------------

_METHODOLOGY_KEYS = (
    "id",
    "version",
    "title",
    "status",
    "effective_from",
    "effective_to",
    "aggregation",
    "rounding_places",
    "rounding",
    "description",
    "answer_values",
    "roll_up",
    "dimensions",
    "indicators",
    "bands",
)
_INDICATOR_KEYS = (
    "code",
    "dimension",
    "question",
    "answer",
    "weight",
    "scope",
    "component",
    "legal_basis",
    "photo_required",
    "obligation",
    "help",
)


def load_methodology(
    path: str | Path,
    catalogue: LegalCatalogue | None = None,
    zones: tuple[Zone, ...] | None = None,
    *,
    raw: bytes | None = None,
    fmt: str = "toml",
) -> Methodology:
    """Load and validate one methodology file; with ``catalogue``, its obligation ids must exist;
    every band's zone must be in ``zones`` (the shipped zone catalogue by default).

    ``raw``: an uploaded file's bytes (TOML, or JSON with ``fmt="json"``) validated instead of
    reading ``path``, which then only names it in messages; the content hash is the bytes'."""
    from fieldcheck.catalogue.zones import zone_codes

    known = zone_codes(zones)
    r = Reader(Path(path), raw, fmt)
    data, digest = r.load()
    r.keys(data, _METHODOLOGY_KEYS, "")

    status = r.text(data, "status", "")
    if status not in ("draft", "published", "retired"):
        raise r.fail("status", f"must be draft, published or retired, got {status!r}")
    aggregation = r.text(data, "aggregation", "")
    if aggregation not in ("flat", "dimensions"):
        raise r.fail("aggregation", f"must be flat or dimensions, got {aggregation!r}")
    rounding = r.get(data, "rounding", "", str, required=False, default="half_up")
    if rounding != "half_up":
        raise r.fail("rounding", f"only half_up is supported, got {rounding!r}")
    places = r.get(data, "rounding_places", "", int, required=False, default=2)
    if not 0 <= places <= 6:
        raise r.fail("rounding_places", f"must be 0..6, got {places}")
    version = r.get(data, "version", "", int)
    if version < 1:
        raise r.fail("version", f"must be >= 1, got {version}")
    eff_from = r.date(data, "effective_from", "")
    eff_to = r.date(data, "effective_to", "", required=False)
    if eff_to is not None and eff_to < eff_from:
        raise r.fail("effective_to", f"{eff_to} is before effective_from {eff_from}")

    answer_values = _answer_values(r, data)
    roll_up = r.get(data, "roll_up", "", dict, required=False, default={})
    for key, value in roll_up.items():
        if not isinstance(value, str):
            raise r.fail(f"roll_up.{key}", "expected a string")
    dimensions = _dimensions(r, data, aggregation)
    dim_codes = {d.code for d in dimensions}
    indicators = _indicators(r, data, dim_codes, catalogue)
    bands = _bands(r, data, places, known)

    return Methodology(
        id=r.text(data, "id", ""),
        version=version,
        title=r.text(data, "title", ""),
        status=status,
        effective_from=eff_from,
        effective_to=eff_to,
        aggregation=aggregation,
        dimensions=dimensions,
        indicators=indicators,
        bands=bands,
        answer_values=answer_values,
        rounding_places=places,
        roll_up=dict(roll_up),
        description=r.get(data, "description", "", str, required=False, default=""),
        content_hash=digest,
    )


def load_methodologies(
    directory: str | Path | list[Path],
    catalogue: LegalCatalogue | None = None,
    zones: tuple[Zone, ...] | None = None,
) -> dict[str, Methodology]:
    """Every ``*.toml`` methodology in ``directory`` (or in each of a list of directories, in
    order), keyed by id (duplicate ids are an error)."""
    directories = [Path(d) for d in directory] if isinstance(directory, list) else [Path(directory)]
    for folder in directories:
        if not folder.is_dir():
            raise CatalogueError(f"{folder}: not a directory")
    found: dict[str, Methodology] = {}
    origin: dict[str, Path] = {}
    for path in [p for folder in directories for p in sorted(folder.glob("*.toml"))]:
        m = load_methodology(path, catalogue, zones)
        if m.id in found:
            raise CatalogueError(
                f"{path}: id: duplicate methodology id {m.id!r} (also in {origin[m.id]})"
            )
        found[m.id] = m
        origin[m.id] = path
    return found


def _answer_values(r: Reader, data: Mapping[str, Any]) -> dict[str, Decimal]:
    table = r.get(data, "answer_values", "", dict)
    # "na" has no value by design: it is left out of numerator and denominator.
    words = tuple(w for w in YES_NO_VALUES if w != "na")
    r.keys(table, words, "answer_values")
    values = {}
    for word in words:
        value = r.decimal(table, word, "answer_values")
        if not 0 <= value <= 1:
            raise r.fail(f"answer_values.{word}", f"must be between 0 and 1, got {value}")
        values[word] = value
    return values


def _dimensions(r: Reader, data: Mapping[str, Any], aggregation: str) -> tuple[Dimension, ...]:
    dims = []
    for i, t in enumerate(r.tables(data, "dimensions")):
        where = f"dimensions[{i}]"
        r.keys(t, ("code", "name", "weight"), where)
        weight = r.decimal(t, "weight", where, required=False)
        if weight is not None and weight <= 0:
            raise r.fail(f"{where}.weight", f"must be > 0, got {weight}")
        if weight is None and aggregation == "dimensions":
            raise r.fail(f"{where}.weight", "missing (aggregation is by dimensions)")
        dims.append(
            Dimension(code=r.text(t, "code", where), name=r.text(t, "name", where), weight=weight)
        )
    if not dims:
        raise r.fail("dimensions", "at least one dimension is needed")
    r.unique(((d.code, f"dimensions[{i}].code") for i, d in enumerate(dims)), "dimension code")
    return tuple(dims)


def _indicators(
    r: Reader, data: Mapping[str, Any], dim_codes: set[str], catalogue: LegalCatalogue | None
) -> tuple[Indicator, ...]:
    out = []
    for i, t in enumerate(r.tables(data, "indicators")):
        code = t.get("code", "?")
        where = f"indicators[{i}] ({code})"
        r.keys(t, _INDICATOR_KEYS, where)
        code = r.text(t, "code", where)
        dimension = r.text(t, "dimension", where)
        if dimension not in dim_codes:
            raise r.fail(f"{where}.dimension", f"unknown dimension {dimension!r}")
        weight = r.decimal(t, "weight", where)
        if weight <= 0:
            raise r.fail(f"{where}.weight", f"must be > 0, got {weight}")
        scope = r.get(t, "scope", where, str, required=False, default="unit")
        component = r.text(t, "component", where, required=False)
        obligation = r.text(t, "obligation", where, required=False)
        if scope == "service":
            if component not in DELIVERY_COMPONENTS:
                raise r.fail(
                    f"{where}.component",
                    "a service-scope indicator must name one of "
                    f"{', '.join(DELIVERY_COMPONENTS)}, got {component!r}",
                )
            if obligation is not None:
                raise r.fail(
                    f"{where}.obligation", "only unit-scope indicators observe obligations"
                )
        elif scope == "unit":
            if component is not None:
                raise r.fail(f"{where}.component", "only service-scope indicators read a component")
        else:
            raise r.fail(f"{where}.scope", f"must be unit or service, got {scope!r}")
        known = catalogue.obligations if catalogue is not None else None
        if obligation is not None and known is not None and obligation not in known:
            raise r.fail(
                f"{where}.obligation",
                f"unknown obligation {obligation!r} (not in the legal catalogue)",
            )
        legal_basis = r.get(t, "legal_basis", where, list, required=False, default=[])
        if not all(isinstance(x, str) and x.strip() for x in legal_basis):
            raise r.fail(f"{where}.legal_basis", "expected a list of citation strings")
        out.append(
            Indicator(
                code=code,
                dimension=dimension,
                question=r.text(t, "question", where),
                answer=_answer_kind(r, t, where),
                weight=weight,
                scope=scope,
                component=component,
                legal_basis=tuple(legal_basis),
                photo_required=r.get(
                    t, "photo_required", where, bool, required=False, default=False
                ),
                obligation=obligation,
                help=r.text(t, "help", where, required=False),
            )
        )
    if not out:
        raise r.fail("indicators", "at least one indicator is needed")
    r.unique(((ind.code, f"indicators[{i}].code") for i, ind in enumerate(out)), "indicator code")
    return tuple(out)


def _answer_kind(r: Reader, t: Mapping[str, Any], where: str) -> str | tuple[str, int, int]:
    answer = r.get(t, "answer", where, (str, dict), required=False, default="yes_no")
    if answer == "yes_no":
        return answer
    if isinstance(answer, dict) and set(answer) == {"scale"}:
        scale = answer["scale"]
        if (
            isinstance(scale, list)
            and len(scale) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in scale)
            and scale[0] < scale[1]
        ):
            return ("scale", scale[0], scale[1])
    raise r.fail(f"{where}.answer", f'expected "yes_no" or {{scale = [low, high]}}, got {answer!r}')


def _bands(
    r: Reader, data: Mapping[str, Any], places: int, known: tuple[str, ...]
) -> tuple[Band, ...]:
    step = Decimal(1).scaleb(-places)
    bands = []
    for i, t in enumerate(r.tables(data, "bands")):
        where = f"bands[{i}]"
        r.keys(t, ("min", "max", "grade", "label", "zone"), where)
        lo = r.decimal(t, "min", where)
        hi = r.decimal(t, "max", where)
        for key, value in (("min", lo), ("max", hi)):
            if value != value.quantize(step):
                raise r.fail(f"{where}.{key}", f"{value} has more than {places} decimal places")
        if lo > hi:
            raise r.fail(where, f"min {lo} is above max {hi}")
        zone = r.text(t, "zone", where)
        if zone not in known:
            raise r.fail(
                f"{where}.zone",
                f"must be a zone of the catalogue ({', '.join(known)}), got {zone!r}",
            )
        bands.append(
            Band(
                min=lo,
                max=hi,
                grade=r.text(t, "grade", where),
                label=r.text(t, "label", where),
                zone=zone,
            )
        )
    if not bands:
        raise r.fail("bands", "at least one band is needed")
    ordered = sorted(bands, key=lambda b: b.min)
    if ordered[0].min != SCORE_MIN:
        raise r.fail("bands", f"gap: nothing covers {SCORE_MIN} up to {ordered[0].min}")
    if ordered[-1].max != SCORE_MAX:
        raise r.fail("bands", f"gap: nothing covers {ordered[-1].max} up to {SCORE_MAX}")
    for prev, nxt in zip(ordered, ordered[1:], strict=False):
        if nxt.min <= prev.max:
            raise r.fail(
                "bands",
                f"overlap: {prev.min}-{prev.max} ({prev.grade}) and "
                f"{nxt.min}-{nxt.max} ({nxt.grade})",
            )
        if nxt.min != prev.max + step:
            raise r.fail(
                "bands",
                f"gap between {prev.max} ({prev.grade}) and {nxt.min} "
                f"({nxt.grade}): bands must be contiguous in steps of {step}",
            )
    return tuple(bands)
