"""Load and validate the versioned data files: methodologies and the legal catalogue (TOML).

The files are data, not code: an admin replaces a methodology by adding a new version, and a new
regulation by adding a legal value with its validity dates. So everything is checked here, at
start-up, and a mistake stops the app with a message naming the file and the field, instead of
surfacing later as a wrong zone. Pure: no Flask, no database, no clock.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple

# One definition of "the same spelling", shared with the checker that matches requirements.
from fieldcheck.core.checks import normalise
from fieldcheck.core.model import (
    ALL_COMPONENTS,
    DELIVERY_COMPONENTS,
    MALADMINISTRATION_KINDS,
    YES_NO_VALUES,
    ZONES,
    Band,
    Component,
    Dimension,
    Indicator,
    LegalCatalogue,
    LegalValue,
    Methodology,
    Obligation,
    Requirement,
    Service,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
#: Scores are on 0..100 whatever the methodology; bands must cover exactly this range.
SCORE_MIN = Decimal(0)
SCORE_MAX = Decimal(100)


class CatalogueError(ValueError):
    """A data file is missing, unparsable or invalid; the message names the file and the field."""


class CataloguePaths(NamedTuple):
    """Where the shipped data files live."""

    methodologies: Path
    legal_catalogue: Path


def default_paths() -> CataloguePaths:
    """Paths of the data files shipped in ``fieldcheck/catalogue/data``."""
    return CataloguePaths(
        methodologies=DATA_DIR / "methodologies",
        legal_catalogue=DATA_DIR / "legal" / "catalogue.toml",
    )


# --- reading helpers ---------------------------------------------------------------------------


class _Reader:
    """Typed access to one file's tables, raising CatalogueError that names file and field."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, problem: str) -> CatalogueError:
        prefix = f"{self.path}: {where}" if where else str(self.path)
        return CatalogueError(f"{prefix}: {problem}")

    def load(self) -> tuple[dict[str, Any], str]:
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise CatalogueError(f"{self.path}: cannot read: {exc.strerror or exc}") from exc
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise CatalogueError(f"{self.path}: not valid TOML: {exc}") from exc
        return data, hashlib.sha256(raw).hexdigest()

    def keys(self, table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
        # Unknown keys are usually typos ("wieght"); silently ignoring them would drop data.
        unknown = sorted(set(table) - set(allowed))
        if unknown:
            raise self.fail(where, f"unknown field(s) {', '.join(unknown)}")

    def get(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        kind: type | tuple[type, ...],
        required: bool = True,
        default: Any = None,
    ) -> Any:
        field = f"{where}.{key}" if where else key
        if key not in table:
            if required:
                raise self.fail(field, "missing")
            return default
        value = table[key]
        # bool is an int subclass: `true` is never a number here.
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
            raise self.fail(field, f"expected {_kind_name(kind)}, got {value!r}")
        if isinstance(value, str) and not value.strip() and required:
            raise self.fail(field, "must not be empty")
        return value

    def text(
        self, table: Mapping[str, Any], key: str, where: str, required: bool = True
    ) -> str | None:
        return self.get(table, key, where, str, required)

    def tables(self, table: Mapping[str, Any], key: str, where: str = "") -> list[dict[str, Any]]:
        items = self.get(table, key, where, list, required=False, default=[])
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{i}]", "expected a table")
        return items

    def date(
        self, table: Mapping[str, Any], key: str, where: str, required: bool = True
    ) -> date | None:
        field = f"{where}.{key}" if where else key
        if key not in table:
            if required:
                raise self.fail(field, "missing")
            return None
        value = table[key]
        if isinstance(value, datetime):  # a datetime is a date subclass; validity is by day
            raise self.fail(field, f"expected a date (YYYY-MM-DD), got a date-time {value}")
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(field, f"expected a date (YYYY-MM-DD), got {value!r}")

    def decimal(
        self, table: Mapping[str, Any], key: str, where: str, required: bool = True
    ) -> Decimal | None:
        field = f"{where}.{key}" if where else key
        if key not in table:
            if required:
                raise self.fail(field, "missing")
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(field, f"expected a number, got {value!r}")
        try:
            # str() of a TOML float gives its shortest repr (8.5 -> "8.5"), not binary noise.
            number = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(field, f"expected a number, got {value!r}") from None
        if not number.is_finite():
            raise self.fail(field, f"expected a finite number, got {value!r}")
        return number

    def unique(self, codes: Iterable[tuple[str, str]], what: str) -> None:
        seen: dict[str, str] = {}
        for code, where in codes:
            if code in seen:
                raise self.fail(where, f"duplicate {what} {code!r} (first at {seen[code]})")
            seen[code] = where


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        bool: "true/false",
        list: "a list",
        dict: "a table",
        float: "a number",
    }
    return " or ".join(names.get(k, k.__name__) for k in _tuple(kind))


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


def load_methodology(path: str | Path, catalogue: LegalCatalogue | None = None) -> Methodology:
    """Load and validate one methodology file; with ``catalogue``, its obligation ids must exist."""
    r = _Reader(Path(path))
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
    bands = _bands(r, data, places)

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
    directory: str | Path, catalogue: LegalCatalogue | None = None
) -> dict[str, Methodology]:
    """Every ``*.toml`` methodology in ``directory``, keyed by id (duplicate ids are an error)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CatalogueError(f"{directory}: not a directory")
    found: dict[str, Methodology] = {}
    origin: dict[str, Path] = {}
    for path in sorted(directory.glob("*.toml")):
        m = load_methodology(path, catalogue)
        if m.id in found:
            raise CatalogueError(
                f"{path}: id: duplicate methodology id {m.id!r} (also in {origin[m.id]})"
            )
        found[m.id] = m
        origin[m.id] = path
    return found


def _answer_values(r: _Reader, data: Mapping[str, Any]) -> dict[str, Decimal]:
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


def _dimensions(r: _Reader, data: Mapping[str, Any], aggregation: str) -> tuple[Dimension, ...]:
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
    r: _Reader, data: Mapping[str, Any], dim_codes: set[str], catalogue: LegalCatalogue | None
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


def _answer_kind(r: _Reader, t: Mapping[str, Any], where: str) -> str | tuple[str, int, int]:
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


def _bands(r: _Reader, data: Mapping[str, Any], places: int) -> tuple[Band, ...]:
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
        if zone not in ZONES:
            raise r.fail(f"{where}.zone", f"must be one of {', '.join(ZONES)}, got {zone!r}")
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


# --- legal catalogue ---------------------------------------------------------------------------

_LEGAL_KINDS = ("fee_max", "requirements_only", "max_days")
_CONFIDENCE = ("verified", "secondary", "unverified")


def load_legal_catalogue(path: str | Path) -> LegalCatalogue:
    """Load and validate the legal catalogue: components, obligations, requirements, services."""
    r = _Reader(Path(path))
    data, digest = r.load()
    r.keys(data, ("version", "components", "obligations", "requirements", "services"), "")
    components = _components(r, data)
    obligations = _obligations(r, data)
    requirements = _requirements(r, data)
    services = _services(r, data, requirements)
    return LegalCatalogue(
        version=r.text(data, "version", ""),
        services=services,
        requirements=requirements,
        obligations=obligations,
        components=components,
        content_hash=digest,
    )


def _components(r: _Reader, data: Mapping[str, Any]) -> dict[str, Component]:
    out: dict[str, Component] = {}
    for i, t in enumerate(r.tables(data, "components")):
        where = f"components[{i}]"
        r.keys(t, ("code", "letter", "name", "citation"), where)
        code = r.text(t, "code", where)
        if code not in ALL_COMPONENTS:
            raise r.fail(f"{where}.code", f"not a Pasal 21 component: {code!r}")
        if code in out:
            raise r.fail(f"{where}.code", f"duplicate component {code!r}")
        letter = r.text(t, "letter", where)
        expected = "abcdefghijklmn"[ALL_COMPONENTS.index(code)]
        if letter != expected:
            raise r.fail(f"{where}.letter", f"{code} is huruf {expected}, got {letter!r}")
        out[code] = Component(
            code=code,
            letter=letter,
            name=r.text(t, "name", where),
            citation=r.text(t, "citation", where),
        )
    missing = [c for c in ALL_COMPONENTS if c not in out]
    if missing:
        raise r.fail("components", f"missing {', '.join(missing)}")
    # Keep huruf order whatever the file order, so listings read a..n.
    return {c: out[c] for c in ALL_COMPONENTS}


def _obligations(r: _Reader, data: Mapping[str, Any]) -> dict[str, Obligation]:
    out: dict[str, Obligation] = {}
    for i, t in enumerate(r.tables(data, "obligations")):
        where = f"obligations[{i}]"
        r.keys(t, ("id", "name", "citation", "category", "sanction"), where)
        ob_id = r.text(t, "id", where)
        if ob_id in out:
            raise r.fail(f"{where}.id", f"duplicate obligation id {ob_id!r}")
        category = r.text(t, "category", where)
        if category not in MALADMINISTRATION_KINDS:
            raise r.fail(f"{where}.category", f"not a maladministration kind: {category!r}")
        out[ob_id] = Obligation(
            id=ob_id,
            name=r.text(t, "name", where),
            citation=r.text(t, "citation", where),
            category=category,
            sanction=r.text(t, "sanction", where, required=False),
        )
    return out


def _requirements(r: _Reader, data: Mapping[str, Any]) -> dict[str, Requirement]:
    out: dict[str, Requirement] = {}
    spelled: dict[str, str] = {}
    for i, t in enumerate(r.tables(data, "requirements")):
        where = f"requirements[{i}]"
        r.keys(t, ("code", "name", "aliases"), where)
        code = r.text(t, "code", where)
        if code in out:
            raise r.fail(f"{where}.code", f"duplicate requirement code {code!r}")
        aliases = r.get(t, "aliases", where, list, required=False, default=[])
        if not all(isinstance(a, str) and a.strip() for a in aliases):
            raise r.fail(f"{where}.aliases", "expected a list of non-empty strings")
        name = r.text(t, "name", where)
        # One spelling must name one requirement, or matching a posted requirement is ambiguous.
        for spelling in {normalise(s) for s in (code, name, *aliases)}:
            if spelling in spelled and spelled[spelling] != code:
                raise r.fail(
                    f"{where}.aliases",
                    f"{spelling!r} already names requirement {spelled[spelling]!r}",
                )
            spelled[spelling] = code
        out[code] = Requirement(code=code, name=name, aliases=tuple(aliases))
    return out


def _services(
    r: _Reader, data: Mapping[str, Any], requirements: Mapping[str, Requirement]
) -> dict[str, Service]:
    out: dict[str, Service] = {}
    for i, t in enumerate(r.tables(data, "services")):
        where = f"services[{i}] ({t.get('code', '?')})"
        r.keys(t, ("code", "name", "sector", "legal_values"), where)
        code = r.text(t, "code", where)
        if code in out:
            raise r.fail(f"{where}.code", f"duplicate service code {code!r}")
        values = tuple(
            _legal_value(r, v, f"{where}.legal_values[{j}]", requirements)
            for j, v in enumerate(r.tables(t, "legal_values", where))
        )
        _no_overlap(r, values, where)
        out[code] = Service(
            code=code,
            name=r.text(t, "name", where),
            sector=r.text(t, "sector", where),
            legal_values=values,
        )
    return out


def _legal_value(
    r: _Reader, t: Mapping[str, Any], where: str, requirements: Mapping[str, Requirement]
) -> LegalValue:
    if not isinstance(t, dict):
        raise r.fail(where, "expected a table")
    r.keys(
        t,
        ("kind", "value", "citation", "valid_from", "valid_to", "confidence", "note", "sanction"),
        where,
    )
    kind = r.text(t, "kind", where)
    if kind not in _LEGAL_KINDS:
        raise r.fail(f"{where}.kind", f"must be one of {', '.join(_LEGAL_KINDS)}, got {kind!r}")
    value: int | tuple[str, ...]
    if kind == "requirements_only":
        codes = r.get(t, "value", where, list)
        if not codes or not all(isinstance(c, str) for c in codes):
            raise r.fail(f"{where}.value", "expected a non-empty list of requirement codes")
        unknown = [c for c in codes if c not in requirements]
        if unknown:
            raise r.fail(f"{where}.value", f"unknown requirement code(s) {', '.join(unknown)}")
        value = tuple(codes)
    else:
        value = r.get(t, "value", where, int)
        if value < 0 or (kind == "max_days" and value == 0):
            raise r.fail(f"{where}.value", f"out of range for {kind}: {value}")
    valid_from = r.date(t, "valid_from", where)
    valid_to = r.date(t, "valid_to", where, required=False)
    if valid_to is not None and valid_to < valid_from:
        raise r.fail(f"{where}.valid_to", f"{valid_to} is before valid_from {valid_from}")
    confidence = r.text(t, "confidence", where)
    if confidence not in _CONFIDENCE:
        raise r.fail(
            f"{where}.confidence", f"must be one of {', '.join(_CONFIDENCE)}, got {confidence!r}"
        )
    return LegalValue(
        kind=kind,
        value=value,
        citation=r.text(t, "citation", where),
        valid_from=valid_from,
        valid_to=valid_to,
        confidence=confidence,
        note=r.get(t, "note", where, str, required=False, default=""),
        sanction=r.text(t, "sanction", where, required=False),
    )


def _no_overlap(r: _Reader, values: Iterable[LegalValue], where: str) -> None:
    """Two values of one kind for one service must not be in force on the same day."""
    by_kind: dict[str, list[LegalValue]] = {}
    for v in values:
        by_kind.setdefault(v.kind, []).append(v)
    for kind, group in by_kind.items():
        group.sort(key=lambda v: v.valid_from)
        for a, b in zip(group, group[1:], strict=False):
            if a.valid_to is None or a.valid_to >= b.valid_from:
                raise r.fail(
                    f"{where}.legal_values",
                    f"overlapping validity for {kind}: {a.citation} "
                    f"({a.valid_from}..{a.valid_to or 'open'}) and {b.citation} "
                    f"(from {b.valid_from})",
                )
