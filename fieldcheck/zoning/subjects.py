"""Reading what a run scored by dimensions was computed from (issue 16): dimension scores with
their sources, and the incomplete subjects with their gaps rendered in the reader's language.

The API (``/results``, ``/agencies/<code>/result``) and the web pages (run, agency) call these;
rows are written by fieldcheck.zoning.dimensional.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import scope_filter
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core.model import Methodology
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, _, render
from fieldcheck.regions.services import in_region
from fieldcheck.zoning.models import ZoningRun, ZoningSubject
from fieldcheck.zoning.reading import results_query
from fieldcheck.zoning.services import apply_weights

#: How an observation source is named to a reader (an instrument is named by the methodology).
OBSERVATION_NAME = N_("observations at visits")


def run_methodology(run: ZoningRun) -> Methodology | None:
    """The methodology a run scored with, if still loaded: exactly the version it names, its
    what-if weights applied."""
    # Not the version in force today: after v2 is published, a v1 run (or its rerun) headed its
    # columns with v2's dimension weights while its totals used v1's (issue 16 trial).
    methodology = get_registry().methodology(run.methodology_id, run.methodology_version)
    return None if methodology is None else apply_weights(methodology, run.weights)


def scored_by_dimensions(run: ZoningRun | None) -> bool:
    """Whether ``run`` zoned subjects from dimensions (it then has ``zoning_subjects`` rows)."""
    if run is None:
        return False
    counts = run.counts or {}
    return "subjects" in counts


def subject_level(run: ZoningRun) -> str | None:
    """``agency`` or ``unit``: the level a dimensional run zoned (None for other runs)."""
    return (run.counts or {}).get("subjects", {}).get("level")


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def dimensions_json(subject: ZoningSubject, methodology: Methodology | None) -> list[dict]:
    """A subject's dimension scores with weights, names and each source's part."""
    names = {} if methodology is None else {d.code: d.name for d in methodology.dimensions}
    sources = {} if methodology is None else {i.code: i.name for i in methodology.instruments}
    return [
        {
            "code": d["code"],
            "name": names.get(d["code"], d["code"]),
            "weight": _number(d["weight"]),
            "score": _number(d["score"]),
            "sources": [
                {
                    "source": s["source"],
                    "name": sources.get(s["source"]) or _(OBSERVATION_NAME),
                    "weight": _number(s["weight"]),
                    "score": _number(s["score"]),
                    "records": s["records"],
                    "units": s["units"],
                }
                for s in d["sources"]
            ],
        }
        for d in subject.dimensions
    ]


def reasons(subject: ZoningSubject) -> list[str]:
    """Why a subject is incomplete, in the reader's language (one line per gap)."""
    return [render(g["message"], g["params"]) for g in subject.gaps]


def subject_json(subject: ZoningSubject, methodology: Methodology | None) -> dict[str, Any]:
    """A subject as the API shows it: its dimensions, counts and (when incomplete) its gaps."""
    return {
        "level": subject.level,
        "code": subject.code,
        "name": subject.name,
        "region_code": subject.region_code,
        "agency_code": subject.agency_code,
        "is_complete": subject.is_complete,
        "score": _number(subject.score),
        "dimensions": dimensions_json(subject, methodology),
        "counts": dict(subject.counts),
        "units": list(subject.units),
        "gaps": [
            {
                "kind": g["kind"],
                "source": g["source"],
                "dimension": g["dimension"],
                "unit": g["unit"],
                "have": g["have"],
                "need": g["need"],
                "message": render(g["message"], g["params"]),
            }
            for g in subject.gaps
        ],
        "reasons": reasons(subject),
        "unit_inputs": unit_inputs_json(subject, methodology),
    }


def unit_inputs_json(subject: ZoningSubject, methodology: Methodology | None) -> list[dict]:
    """Each sampled unit's own inputs (the unit drill-down of an agency-level result): per
    unit-level source, its records and the unit's mean in each dimension it feeds."""
    dims = {} if methodology is None else {d.code: d.name for d in methodology.dimensions}
    names = {} if methodology is None else {i.code: i.name for i in methodology.instruments}
    # In the methodology's order (observations first): PostgreSQL's JSONB keeps no key order.
    dim_order = {code: n for n, code in enumerate(dims)}
    source_order = {code: n + 1 for n, code in enumerate(names)}
    return [
        {
            "unit": unit,
            "sources": [
                {
                    "source": source,
                    "name": names.get(source) or _(OBSERVATION_NAME),
                    "records": part["records"],
                    "dimensions": [
                        {"code": code, "name": dims.get(code, code), "score": _number(score)}
                        for code, score in sorted(
                            part["dimensions"].items(), key=lambda kv: dim_order.get(kv[0], 99)
                        )
                    ],
                }
                for source, part in sorted(
                    sources.items(), key=lambda kv: (source_order.get(kv[0], 0), kv[0])
                )
            ],
        }
        for unit, sources in sorted((subject.unit_inputs or {}).items())
    ]


def subjects_of(run: ZoningRun, codes: Iterable[str]) -> dict[str, ZoningSubject]:
    """The run's subjects with these codes (at the run's subject level), by code."""
    wanted = list(codes)
    if not wanted:
        return {}
    rows = db.session.execute(
        select(ZoningSubject).where(
            ZoningSubject.run_id == run.id,
            ZoningSubject.level == subject_level(run),
            ZoningSubject.code.in_(wanted),
        )
    ).scalars()
    return {s.code: s for s in rows}


def with_dimensions(run: ZoningRun, level: str, items: list[dict[str, Any]]) -> None:
    """Add ``dimensions`` to dumped result rows of the run's subject level (one query)."""
    if not scored_by_dimensions(run) or level != subject_level(run):
        return
    methodology = run_methodology(run)
    found = subjects_of(run, (item["code"] for item in items))
    for item in items:
        subject = found.get(item["code"])
        item["dimensions"] = None if subject is None else dimensions_json(subject, methodology)


def incomplete(
    user: User,
    run: ZoningRun,
    *,
    region: str | None = None,
    agency: str | None = None,
) -> list[dict[str, Any]]:
    """The run's incomplete subjects ``user`` may see (within ``region``, of ``agency``), by
    code: never zoned, shown with their dimension scores and what is missing."""
    if not scored_by_dimensions(run):
        return []
    query = select(ZoningSubject).where(
        ZoningSubject.run_id == run.id, ZoningSubject.is_complete.is_(False)
    )
    condition = scope_filter(user, ZoningSubject.region_code)
    if condition is not None:
        query = query.where(condition)
    if region is not None:
        query = query.where(in_region(ZoningSubject.region_code, region))
    if agency is not None:
        query = query.where(
            (ZoningSubject.code == agency)
            if subject_level(run) == "agency"
            else (ZoningSubject.agency_code == agency)
        )
    methodology = run_methodology(run)
    rows = db.session.execute(query.order_by(ZoningSubject.code)).scalars()
    return [subject_json(s, methodology) for s in rows]


def agency_subject(user: User, run: ZoningRun, code: str) -> dict[str, Any] | None:
    """An agency's subject in an agency-level run (complete or not), if ``user`` may see it."""
    if subject_level(run) != "agency":
        return None
    query = select(ZoningSubject).where(
        ZoningSubject.run_id == run.id,
        ZoningSubject.level == "agency",
        ZoningSubject.code == code,
    )
    condition = scope_filter(user, ZoningSubject.region_code)
    if condition is not None:
        query = query.where(condition)
    subject = db.session.execute(query).scalar_one_or_none()
    return None if subject is None else subject_json(subject, run_methodology(run))


def dimension_heads(run: ZoningRun) -> list[dict[str, Any]]:
    """The run methodology's dimensions (code, name, weight), for table headings."""
    methodology = run_methodology(run)
    if methodology is None:
        return []
    return [
        {"code": d.code, "name": d.name, "weight": _number(d.weight)}
        for d in methodology.dimensions
    ]


def dimension_rows(
    user: User, run: ZoningRun, *, region: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """The zoned subjects of a dimensional run ``user`` may see, ranked, each with its score,
    zone, grade, label and dimensions (what the run and region pages list)."""
    level = subject_level(run)
    if level is None:
        return []
    query = results_query(user, run, level, region=region)
    if limit is not None:
        query = query.limit(limit)
    rows = db.session.execute(query).all()
    items = [
        {
            "level": level,
            "code": r.code,
            "name": r.name,
            "score": r.score,
            "zone": r.zone,
            "grade": r.grade,
            "label": r.label,
            "rank": r.rank,
        }
        for r in rows
    ]
    with_dimensions(run, level, items)
    return items
