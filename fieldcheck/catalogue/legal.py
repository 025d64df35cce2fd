"""Load and validate the legal catalogue (TOML): components, obligations, requirements and
services, each legal value with its article, validity dates and confidence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fieldcheck.catalogue.reader import Reader

# One definition of "the same spelling", shared with the checker that matches requirements.
from fieldcheck.core.model import (
    ALL_COMPONENTS,
    MALADMINISTRATION_KINDS,
    Component,
    LegalCatalogue,
    LegalValue,
    Obligation,
    Requirement,
    Service,
    normalise,
)

# --- legal catalogue ---------------------------------------------------------------------------

_LEGAL_KINDS = ("fee_max", "requirements_only", "max_days")
_CONFIDENCE = ("verified", "secondary", "unverified")


def load_legal_catalogue(path: str | Path) -> LegalCatalogue:
    """Load and validate the legal catalogue: components, obligations, requirements, services."""
    r = Reader(Path(path))
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


def _components(r: Reader, data: Mapping[str, Any]) -> dict[str, Component]:
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


def _obligations(r: Reader, data: Mapping[str, Any]) -> dict[str, Obligation]:
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


def _requirements(r: Reader, data: Mapping[str, Any]) -> dict[str, Requirement]:
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
    r: Reader, data: Mapping[str, Any], requirements: Mapping[str, Requirement]
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
    r: Reader, t: Mapping[str, Any], where: str, requirements: Mapping[str, Requirement]
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


def _no_overlap(r: Reader, values: Iterable[LegalValue], where: str) -> None:
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
