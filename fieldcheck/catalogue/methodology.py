"""Load and validate a methodology file (TOML): dimensions, indicators, weights and bands."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from fieldcheck.catalogue.reader import SCORE_MAX, SCORE_MIN, CatalogueError, Reader
from fieldcheck.core.messages import N_

# One definition of "the same spelling", shared with the checker that matches requirements.
from fieldcheck.core.model import (
    CONFIDENCES,
    DELIVERY_COMPONENTS,
    INSTRUMENT_LEVELS,
    YES_NO_VALUES,
    ZONING_LEVELS,
    Band,
    Dimension,
    Indicator,
    Instrument,
    LegalCatalogue,
    Methodology,
    Zone,
)

# Every problem is a msgid with named parameters (CatalogueError.message/.params) so an admin's
# upload page shows it in Indonesian; the recurring ones are named once here.
_ONE_OF = N_("must be one of %(allowed)s, got %(value)s")
_ABOVE_ZERO = N_("must be > 0, got %(value)s")
_TOO_PRECISE = N_("%(value)s has more than %(places)s decimal places")
_STRICT_CONFIDENCE = N_(
    "missing: an uploaded methodology says how sure each figure is (one of %(allowed)s)"
)

#: Dimension weights of a methodology aggregated by dimension are percentages: they sum to this.
DIMENSION_WEIGHTS_TOTAL = Decimal(100)

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
    "scale",
    "zoning_level",
    "instruments",
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
    "instrument",
    "confidence",
)


def load_methodology(
    path: str | Path,
    catalogue: LegalCatalogue | None = None,
    zones: tuple[Zone, ...] | None = None,
    strict: bool = False,
    *,
    raw: bytes | None = None,
    fmt: str = "toml",
) -> Methodology:
    """Load and validate one methodology file; with ``catalogue``, its obligation ids must exist;
    every band's zone must be in ``zones`` (the shipped zone catalogue by default).

    ``strict`` (uploads, and every file shipped since issue 16): every indicator needs a legal
    basis and a confidence, every weighted dimension and every band a confidence. The files
    published before (ombudsman-2019, locked) predate these marks and load non-strict.
    Raises CatalogueError (msgid + params, file and field) at the first problem.

    ``raw``: an uploaded file's bytes (TOML, or JSON with ``fmt="json"``) validated instead of
    reading ``path``, which then only names it in messages; the content hash is the bytes'."""
    from fieldcheck.catalogue.zones import zone_codes

    known = zone_codes(zones)
    r = Reader(Path(path), raw, fmt)
    data, digest = r.load()
    r.keys(data, _METHODOLOGY_KEYS, "")

    status = r.text(data, "status", "")
    if status not in ("draft", "published", "retired"):
        raise r.fail("status", _ONE_OF, allowed="draft, published, retired", value=repr(status))
    aggregation = r.text(data, "aggregation", "")
    if aggregation not in ("flat", "dimensions"):
        raise r.fail("aggregation", _ONE_OF, allowed="flat, dimensions", value=repr(aggregation))
    rounding = r.get(data, "rounding", "", str, required=False, default="half_up")
    if rounding != "half_up":
        raise r.fail(
            "rounding", N_("only half_up is supported, got %(value)s"), value=repr(rounding)
        )
    places = r.get(data, "rounding_places", "", int, required=False, default=2)
    if not 0 <= places <= 6:
        raise r.fail("rounding_places", N_("must be 0..6, got %(value)s"), value=places)
    version = r.get(data, "version", "", int)
    if version < 1:
        raise r.fail("version", N_("must be >= 1, got %(value)s"), value=version)
    eff_from = r.date(data, "effective_from", "")
    eff_to = r.date(data, "effective_to", "", required=False)
    if eff_to is not None and eff_to < eff_from:
        raise r.fail(
            "effective_to",
            N_("%(effective_to)s is before effective_from %(effective_from)s"),
            effective_to=eff_to.isoformat(),
            effective_from=eff_from.isoformat(),
        )

    answer_values = _answer_values(r, data)
    roll_up = r.get(data, "roll_up", "", dict, required=False, default={})
    for key, value in roll_up.items():
        if not isinstance(value, str):
            raise r.fail(
                f"roll_up.{key}", N_("expected a string, got %(value)s"), value=repr(value)
            )
    zoning_level = r.get(data, "zoning_level", "", str, required=False, default="unit")
    if zoning_level not in ZONING_LEVELS:
        raise r.fail("zoning_level", _ONE_OF, allowed="unit, agency", value=repr(zoning_level))
    if zoning_level == "agency" and aggregation != "dimensions":
        raise r.fail("zoning_level", N_("an agency-level result needs aggregation by dimensions"))
    scale_min, scale_max = _scale(r, data, places)
    dimensions = _dimensions(r, data, aggregation, strict)
    dim_codes = {d.code for d in dimensions}
    instruments = _instruments(r, data)
    agency_level = [i.code for i in instruments if i.level == "agency"]
    if zoning_level == "unit" and agency_level:
        # A unit's result cannot wait for records that are about its whole agency.
        raise r.fail(
            "instruments",
            N_(
                "a unit-level result cannot use an agency-level instrument "
                '(%(instruments)s): set zoning_level = "agency" or level = "unit"'
            ),
            instruments=", ".join(agency_level),
        )
    indicators = _indicators(
        r, data, dim_codes, catalogue, {i.code for i in instruments}, strict=strict
    )
    for instrument in instruments:
        if not any(i.instrument == instrument.code for i in indicators):
            raise r.fail(
                "instruments",
                N_("instrument %(instrument)s asks no indicator"),
                instrument=repr(instrument.code),
            )
    bands = _bands(r, data, places, known, scale_min, scale_max, strict=strict)

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
        scale_min=scale_min,
        scale_max=scale_max,
        zoning_level=zoning_level,
        instruments=instruments,
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
            raise CatalogueError(N_("not a directory"), file=folder)
    found: dict[str, Methodology] = {}
    origin: dict[str, Path] = {}
    for path in [p for folder in directories for p in sorted(folder.glob("*.toml"))]:
        m = load_methodology(path, catalogue, zones)
        if m.id in found:
            raise CatalogueError(
                N_("duplicate methodology id %(value)s (also in %(other)s)"),
                {"value": repr(m.id), "other": str(origin[m.id])},
                file=path,
                where="id",
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
            raise r.fail(
                f"answer_values.{word}",
                N_("must be between 0 and 1, got %(value)s"),
                value=str(value),
            )
        values[word] = value
    return values


def _confidence(r: Reader, t: Mapping[str, Any], where: str, strict: bool = False) -> str | None:
    confidence = r.text(t, "confidence", where, required=False)
    if confidence is not None and confidence not in CONFIDENCES:
        raise r.fail(
            f"{where}.confidence", _ONE_OF, allowed=", ".join(CONFIDENCES), value=repr(confidence)
        )
    if confidence is None and strict:
        raise r.fail(f"{where}.confidence", _STRICT_CONFIDENCE, allowed=", ".join(CONFIDENCES))
    return confidence


def _scale(r: Reader, data: Mapping[str, Any], places: int) -> tuple[Decimal, Decimal]:
    """The score range (default 0..100): ``[scale] min = 25, max = 100`` for SKM."""
    table = r.get(data, "scale", "", dict, required=False, default=None)
    if table is None:
        return SCORE_MIN, SCORE_MAX
    r.keys(table, ("min", "max"), "scale")
    lo = r.decimal(table, "min", "scale")
    hi = r.decimal(table, "max", "scale")
    if not SCORE_MIN <= lo < hi <= SCORE_MAX:
        raise r.fail(
            "scale",
            N_("need %(low)s <= min < max <= %(high)s, got %(min)s..%(max)s"),
            low=str(SCORE_MIN),
            high=str(SCORE_MAX),
            min=str(lo),
            max=str(hi),
        )
    step = Decimal(1).scaleb(-places)
    for key, value in (("min", lo), ("max", hi)):
        if value != value.quantize(step):
            raise r.fail(f"scale.{key}", _TOO_PRECISE, value=str(value), places=places)
    return lo, hi


def _dimensions(
    r: Reader, data: Mapping[str, Any], aggregation: str, strict: bool = False
) -> tuple[Dimension, ...]:
    dims = []
    for i, t in enumerate(r.tables(data, "dimensions")):
        where = f"dimensions[{i}]"
        r.keys(t, ("code", "name", "weight", "confidence", "source"), where)
        weight = r.decimal(t, "weight", where, required=False)
        if weight is not None and weight <= 0:
            raise r.fail(f"{where}.weight", _ABOVE_ZERO, value=str(weight))
        if weight is None and aggregation == "dimensions":
            raise r.fail(f"{where}.weight", N_("missing (aggregation is by dimensions)"))
        dims.append(
            Dimension(
                code=r.text(t, "code", where),
                name=r.text(t, "name", where),
                weight=weight,
                # A weight is a figure someone must vouch for; an unweighted dimension is a group.
                confidence=_confidence(r, t, where, strict and weight is not None),
                source=r.get(t, "source", where, str, required=False, default=""),
            )
        )
    if not dims:
        raise r.fail("dimensions", N_("at least one dimension is needed"))
    r.unique(
        ((d.code, f"dimensions[{i}].code") for i, d in enumerate(dims)),
        N_("duplicate dimension code %(value)s (first at %(first)s)"),
    )
    if aggregation == "dimensions":
        total = sum((d.weight for d in dims if d.weight is not None), Decimal(0))
        if total != DIMENSION_WEIGHTS_TOTAL:
            raise r.fail(
                "dimensions",
                N_(
                    "the dimension weights sum to %(total)s; they must sum to %(expected)s "
                    "(aggregation is by dimensions)"
                ),
                total=str(total),
                expected=str(DIMENSION_WEIGHTS_TOTAL),
            )
    return tuple(dims)


def _instruments(r: Reader, data: Mapping[str, Any]) -> tuple[Instrument, ...]:
    out = []
    for i, t in enumerate(r.tables(data, "instruments")):
        where = f"instruments[{i}]"
        r.keys(t, ("code", "name", "level", "quota", "confidence", "source", "description"), where)
        level = r.text(t, "level", where)
        if level not in INSTRUMENT_LEVELS:
            raise r.fail(
                f"{where}.level", _ONE_OF, allowed=", ".join(INSTRUMENT_LEVELS), value=repr(level)
            )
        quota = r.get(t, "quota", where, int)
        if quota < 1:
            raise r.fail(f"{where}.quota", N_("must be at least 1, got %(value)s"), value=quota)
        out.append(
            Instrument(
                code=r.text(t, "code", where),
                name=r.text(t, "name", where),
                level=level,
                quota=quota,
                confidence=_confidence(r, t, where) or "fieldcheck_default",
                source=r.get(t, "source", where, str, required=False, default=""),
                description=r.get(t, "description", where, str, required=False, default=""),
            )
        )
    r.unique(
        ((x.code, f"instruments[{i}].code") for i, x in enumerate(out)),
        N_("duplicate instrument code %(value)s (first at %(first)s)"),
    )
    return tuple(out)


def _indicators(
    r: Reader,
    data: Mapping[str, Any],
    dim_codes: set[str],
    catalogue: LegalCatalogue | None,
    instrument_codes: set[str] = frozenset(),
    strict: bool = False,
) -> tuple[Indicator, ...]:
    out = []
    for i, t in enumerate(r.tables(data, "indicators")):
        code = t.get("code", "?")
        where = f"indicators[{i}] ({code})"
        r.keys(t, _INDICATOR_KEYS, where)
        code = r.text(t, "code", where)
        dimension = r.text(t, "dimension", where)
        if dimension not in dim_codes:
            raise r.fail(
                f"{where}.dimension", N_("unknown dimension %(value)s"), value=repr(dimension)
            )
        weight = r.decimal(t, "weight", where)
        if weight <= 0:
            raise r.fail(f"{where}.weight", _ABOVE_ZERO, value=str(weight))
        scope = r.get(t, "scope", where, str, required=False, default="unit")
        component = r.text(t, "component", where, required=False)
        obligation = r.text(t, "obligation", where, required=False)
        if scope == "service":
            if component not in DELIVERY_COMPONENTS:
                raise r.fail(
                    f"{where}.component",
                    N_("a service-scope indicator must name one of %(allowed)s, got %(value)s"),
                    allowed=", ".join(DELIVERY_COMPONENTS),
                    value=repr(component),
                )
            if obligation is not None:
                raise r.fail(
                    f"{where}.obligation", N_("only unit-scope indicators observe obligations")
                )
        elif scope == "unit":
            if component is not None:
                raise r.fail(
                    f"{where}.component", N_("only service-scope indicators read a component")
                )
        else:
            raise r.fail(f"{where}.scope", _ONE_OF, allowed="unit, service", value=repr(scope))
        known = catalogue.obligations if catalogue is not None else None
        if obligation is not None and known is not None and obligation not in known:
            raise r.fail(
                f"{where}.obligation",
                N_("unknown obligation %(value)s (not in the legal catalogue)"),
                value=repr(obligation),
            )
        legal_basis = r.get(t, "legal_basis", where, list, required=False, default=[])
        if not all(isinstance(x, str) and x.strip() for x in legal_basis):
            raise r.fail(f"{where}.legal_basis", N_("expected a list of citation strings"))
        if strict and not legal_basis:
            raise r.fail(
                f"{where}.legal_basis",
                N_("missing: an uploaded methodology cites the legal basis of every indicator"),
            )
        instrument = r.text(t, "instrument", where, required=False)
        photo_required = r.get(t, "photo_required", where, bool, required=False, default=False)
        if instrument is not None:
            if instrument not in instrument_codes:
                raise r.fail(
                    f"{where}.instrument",
                    N_("unknown instrument %(value)s (not in [[instruments]])"),
                    value=repr(instrument),
                )
            # An interview answers a question; it observes no service, obligation or photo.
            if scope != "unit" or obligation is not None or photo_required:
                raise r.fail(
                    f"{where}.instrument",
                    N_("an interview question is unit-scope, with no obligation or photo"),
                )
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
                photo_required=photo_required,
                obligation=obligation,
                help=r.text(t, "help", where, required=False),
                instrument=instrument,
                confidence=_confidence(r, t, where, strict),
            )
        )
    if not out:
        raise r.fail("indicators", N_("at least one indicator is needed"))
    r.unique(
        ((ind.code, f"indicators[{i}].code") for i, ind in enumerate(out)),
        N_("duplicate indicator code %(value)s (first at %(first)s)"),
    )
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
    raise r.fail(
        f"{where}.answer",
        N_('expected "yes_no" or {scale = [low, high]} with low < high, got %(value)s'),
        value=repr(answer),
    )


def _bands(
    r: Reader,
    data: Mapping[str, Any],
    places: int,
    known: tuple[str, ...],
    scale_min: Decimal = SCORE_MIN,
    scale_max: Decimal = SCORE_MAX,
    strict: bool = False,
) -> tuple[Band, ...]:
    step = Decimal(1).scaleb(-places)
    bands = []
    for i, t in enumerate(r.tables(data, "bands")):
        where = f"bands[{i}]"
        r.keys(t, ("min", "max", "grade", "label", "zone", "confidence"), where)
        lo = r.decimal(t, "min", where)
        hi = r.decimal(t, "max", where)
        for key, value in (("min", lo), ("max", hi)):
            if value != value.quantize(step):
                raise r.fail(f"{where}.{key}", _TOO_PRECISE, value=str(value), places=places)
        if lo > hi:
            raise r.fail(where, N_("min %(min)s is above max %(max)s"), min=str(lo), max=str(hi))
        zone = r.text(t, "zone", where)
        if zone not in known:
            raise r.fail(
                f"{where}.zone",
                N_("must be a zone of the catalogue (%(allowed)s), got %(value)s"),
                allowed=", ".join(known),
                value=repr(zone),
            )
        bands.append(
            Band(
                min=lo,
                max=hi,
                grade=r.text(t, "grade", where),
                label=r.text(t, "label", where),
                zone=zone,
                confidence=_confidence(r, t, where, strict),
            )
        )
    if not bands:
        raise r.fail("bands", N_("at least one band is needed"))
    ordered = sorted(bands, key=lambda b: b.min)
    gap_at_end = N_("gap: nothing covers %(low)s up to %(high)s (the scale is %(min)s..%(max)s)")
    ends = {"min": str(scale_min), "max": str(scale_max)}
    if ordered[0].min != scale_min:
        raise r.fail("bands", gap_at_end, low=str(scale_min), high=str(ordered[0].min), **ends)
    if ordered[-1].max != scale_max:
        raise r.fail("bands", gap_at_end, low=str(ordered[-1].max), high=str(scale_max), **ends)
    for prev, nxt in zip(ordered, ordered[1:], strict=False):
        if nxt.min <= prev.max:
            raise r.fail(
                "bands",
                N_("overlap: %(first)s (%(first_grade)s) and %(second)s (%(second_grade)s)"),
                first=f"{prev.min}-{prev.max}",
                first_grade=prev.grade,
                second=f"{nxt.min}-{nxt.max}",
                second_grade=nxt.grade,
            )
        if nxt.min != prev.max + step:
            raise r.fail(
                "bands",
                N_(
                    "gap between %(low)s (%(low_grade)s) and %(high)s (%(high_grade)s): "
                    "bands must be contiguous in steps of %(step)s"
                ),
                low=str(prev.max),
                low_grade=prev.grade,
                high=str(nxt.min),
                high_grade=nxt.grade,
                step=str(step),
            )
    return tuple(bands)
