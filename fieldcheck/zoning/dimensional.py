"""Zoning runs of methodologies scored by dimensions from observations and interviews (issue 16).

A methodology with ``zoning_level = "agency"`` (the 2022 method, the 2025 opinion) or with
interview instruments (SKM: unit-level questionnaires) is not a mean of inspection scores, so
it does not go through the work table's SQL (fieldcheck.zoning.worktable, which stays the path
of 2019-style methodologies). Its run, on the same one connection, lease and snapshot:

1. read phase (``_read_subjects``): the period's counted (approved) inspections of the units in
   reach, each re-evaluated with the run's methodology (and what-if weights) by the same core
   call as intake and rescoring (``inspections.scoring.evaluate_stored``): its dimension scores
   are an ``observation`` record; the period's non-rejected interviews of the agencies in reach,
   their stored dimension scores kept when scored with the run's exact methodology content, else
   re-scored from their answers by ``core.dimensions.interview_dimensions``. Each subject (an
   agency, or a unit for a unit-level methodology) is scored by ``core.dimensions.score_subject``
   (the rule: its docstring);
2. write phase (``_store_subjects``), in one commit with the lease re-checked: one
   ``zoning_subjects`` row per subject read (dimension scores with their sources, gaps when
   incomplete); ``zoning_results`` rows for the *complete* subjects only (an incomplete one is
   never zoned); above them the rows of the roll-up (``core.rollup.roll_up_agencies``): regencies
   and provinces are the mean of the complete agencies located there; changes, counts (with
   ``incomplete``) and events as any run.

For an agency-level methodology no unit is zoned: a unit's row would be a score the method does
not define (its Output and Pengaduan are the agency's). The run has no unit rows; a unit's own
inputs are shown through its agency's subject row (``units``, the sources' ``units``).

Such a run is always full and consumes no dirty markers: those mean "changed since the latest
run of the work-table path", whose incremental runs never build on a run of another methodology.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, insert, select

from fieldcheck.core.banding import round_half_up
from fieldcheck.core.dimensions import (
    OBSERVATION,
    Record,
    SubjectResult,
    interview_dimensions,
    score_subject,
)
from fieldcheck.core.model import LegalCatalogue, Methodology
from fieldcheck.core.rollup import ResultRow, complete_within, rank, roll_up_agencies
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.scoring import evaluate_stored
from fieldcheck.interviews.models import Interview
from fieldcheck.regions.services import in_region
from fieldcheck.units.models import Agency, Unit
from fieldcheck.zoning import lease
from fieldcheck.zoning.changes import _compare_with_official, _queue_events
from fieldcheck.zoning.lease import LEASE_NAME
from fieldcheck.zoning.models import ZoningRun, ZoningSubject
from fieldcheck.zoning.plan import _Plan
from fieldcheck.zoning.store import (
    _counts,
    _mark_succeeded,
    _renew_or_lose_lease,
    insert_result_rows,
)
from fieldcheck.zoning.worktable import _Beats, _counted, _load_agencies_and_regions

#: Inspections evaluated per call while reading (bounds memory, beats the heartbeat between).
CHUNK = 500
#: Interview statuses that count towards a result (a rejected record does not).
COUNTED_INTERVIEWS = ("received",)


def is_dimensional(methodology: Methodology) -> bool:
    """Whether a run of ``methodology`` scores subjects by dimensions (this module) rather than
    by the work table's mean of inspection scores."""
    return methodology.zoning_level == "agency" or bool(methodology.instruments)


@dataclass
class Subject:
    """One agency or unit the run read records for, and its result."""

    level: str
    code: str
    name: str
    region_code: str | None
    agency_code: str | None
    result: SubjectResult
    inspection_ids: list[int] = field(default_factory=list)
    interview_ids: list[int] = field(default_factory=list)
    #: Unit code -> source -> {"records", "dimensions": {code: the unit's mean, text}}.
    unit_inputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Place:
    code: str
    name: str
    region_code: str | None
    agency_code: str


def _read_subjects(
    conn: Connection,
    run: ZoningRun,
    methodology: Methodology,
    catalogue: LegalCatalogue,
    heartbeat: _Beats,
) -> tuple[_Plan, list[Subject]]:
    """Read the snapshot and score every subject with records (module docstring, step 1)."""
    plan = _Plan()
    _load_agencies_and_regions(conn, plan)
    agencies = select(Agency.id)
    units = select(Unit.id, Unit.code, Unit.name, Unit.region_code, Agency.code).join(
        Agency, Agency.id == Unit.agency_id
    )
    if run.scope:
        if methodology.zoning_level == "agency":
            # An agency located in the region has all its units there (core.rollup).
            agencies = agencies.where(in_region(Agency.region_code, run.scope))
            units = units.where(Unit.agency_id.in_(agencies))
        else:
            units = units.where(in_region(Unit.region_code, run.scope))
            agencies = select(Unit.agency_id).where(in_region(Unit.region_code, run.scope))
    by_unit: dict[int, _Place] = {
        uid: _Place(code, name, region, agency)
        for uid, code, name, region, agency in conn.execute(units)
    }
    records: dict[str, list[Record]] = defaultdict(list)
    used: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    by_agency = methodology.zoning_level == "agency"

    def key(place: _Place) -> str:
        return place.agency_code if by_agency else place.code

    counted = select(Inspection.id, Inspection.unit_id).where(*_counted(run, conn.dialect.name))
    if run.scope:
        reach = units.with_only_columns(Unit.id)
        counted = counted.where(Inspection.unit_id.in_(reach))
    inspections = conn.execute(counted.order_by(Inspection.id)).all()
    total = len(inspections)
    heartbeat.beat(0, total, 0, force=True)
    for start in range(0, total, CHUNK):
        chunk = inspections[start : start + CHUNK]
        evaluations = evaluate_stored([i for i, _ in chunk], methodology, catalogue, conn)
        for inspection_id, unit_id in chunk:
            place = by_unit.get(unit_id)
            if place is None or inspection_id not in evaluations:
                continue
            dims = {d.code: d.score for d in evaluations[inspection_id].result.dimensions}
            records[key(place)].append(Record(OBSERVATION, place.code, dims))
            used[key(place)][0].append(inspection_id)
        plan.rescored += len(evaluations)
        heartbeat.beat(start + len(chunk), total, plan.rescored)
    plan.inspections = total

    agency_codes = dict(conn.execute(select(Agency.id, Agency.code)).all())
    for row in conn.execute(_interviews_query(run, methodology, agencies)):
        instrument = methodology.instrument(row.instrument)
        if instrument is None or instrument.level != row.level:
            continue  # not an input of this methodology
        place = by_unit.get(row.unit_id) if row.unit_id is not None else None
        if row.unit_id is not None and place is None:
            continue  # a unit outside the run's reach
        dims = _interview_scores(run, methodology, row)
        if dims is None:
            continue
        subject = key(place) if place is not None else agency_codes[row.agency_id]
        if not by_agency and place is None:
            continue  # a unit-level methodology has no agency-level instrument (catalogue)
        records[subject].append(Record(row.instrument, None if place is None else place.code, dims))
        used[subject][1].append(row.id)

    by_code = {p.code: p for p in by_unit.values()}
    subjects = []
    for code in sorted(records):
        result = score_subject(methodology, records[code])
        if by_agency:
            agency = plan.agencies[code]
            subject = Subject("agency", code, agency.name, agency.region_code, None, result)
        else:
            place = by_code[code]
            subject = Subject(
                "unit", code, place.name, place.region_code, place.agency_code, result
            )
        subject.inspection_ids, subject.interview_ids = used[code]
        subject.unit_inputs = unit_inputs(records[code], methodology.rounding_places)
        subjects.append(subject)
    plan.units_recomputed = len(subjects)
    return plan, subjects


def unit_inputs(records: list[Record], places: int) -> dict[str, Any]:
    """Each sampled unit's own inputs: per unit-level source, its records and its mean score in
    each dimension (half up), the per-unit means ``score_subject`` averages. Shown when a unit
    of an agency-level methodology is drilled into (the unit itself is not zoned)."""
    groups: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in records:
        if r.unit is not None:
            groups[(r.unit, r.source)].append(r)
    out: dict[str, Any] = {}
    for (unit, source), rows in sorted(groups.items()):
        dims: dict[str, str] = {}
        for code in sorted({k for r in rows for k in r.dimensions}):
            values = [
                Fraction(r.dimensions[code]) for r in rows if r.dimensions.get(code) is not None
            ]
            if values:
                dims[code] = str(round_half_up(sum(values, Fraction(0)) / len(values), places))
        out.setdefault(unit, {})[source] = {"records": len(rows), "dimensions": dims}
    return out


def _interviews_query(run: ZoningRun, methodology: Methodology, agencies: Any) -> Any:
    """The period's counted interviews of the agencies in reach that one of the methodology's
    instruments asks (under any methodology: a what-if of a new method reads the interviews
    made under the one in force), in id order."""
    query = select(
        Interview.id,
        Interview.instrument,
        Interview.level,
        Interview.agency_id,
        Interview.unit_id,
        Interview.interview_date,
        Interview.methodology_hash,
        Interview.answers,
        Interview.dimensions,
    ).where(
        Interview.status.in_(COUNTED_INTERVIEWS),
        Interview.instrument.in_([i.code for i in methodology.instruments]),
        Interview.interview_date >= date(run.period, 1, 1),
        Interview.interview_date <= date(run.period, 12, 31),
    )
    if run.scope:
        query = query.where(Interview.agency_id.in_(agencies))
    return query.order_by(Interview.id)


def _interview_scores(
    run: ZoningRun, methodology: Methodology, row: Any
) -> dict[str, Decimal | None] | None:
    """An interview's dimension scores under the run's methodology: stored ones when it was
    scored with the same content, else re-scored from its answers; None when its answers do
    not fit the run's methodology (a question's scale changed)."""
    if row.methodology_hash == run.methodology_hash:
        return {
            k: None if v is None else Decimal(str(v)) for k, v in (row.dimensions or {}).items()
        }
    try:
        return interview_dimensions(
            methodology, row.instrument, row.answers or {}, row.interview_date
        )
    except ValueError:
        return None


def _store_subjects(
    conn: Connection,
    run: ZoningRun,
    holder: str,
    plan: _Plan,
    subjects: list[Subject],
    methodology: Methodology,
) -> None:
    """Write the run's subjects, result rows, changes and counts in one commit (module
    docstring, step 2)."""
    _renew_or_lose_lease(conn, holder)
    places = methodology.rounding_places
    complete = [s for s in subjects if s.result.complete]
    unit_rows: list[ResultRow] = []
    if methodology.zoning_level == "agency":
        totals = {s.code: (_scaled(s.result.score, places), 1) for s in complete}
        sampled = {s.code: len(s.result.units) for s in complete}
    else:
        unit_rows = rank(
            [
                ResultRow(
                    "unit",
                    s.code,
                    s.name,
                    s.region_code,
                    s.result.score,
                    s.result.zone,
                    s.result.grade,
                    s.result.label,
                    0,
                    sum(s.result.counts.values()),
                    s.agency_code,
                )
                for s in complete
            ]
        )
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for s in complete:
            sums[s.agency_code][0] += _scaled(s.result.score, places)
            sums[s.agency_code][1] += 1
        totals = {code: (total, count) for code, (total, count) in sums.items()}
        sampled = {code: count for code, (_total, count) in sums.items()}
    upper = roll_up_agencies(totals, plan.agencies, plan.regions, methodology.bands, places)
    # An agency's members are the units it was scored from, not the one "score" it averages.
    upper["agency"] = [replace(r, members=sampled[r.code]) for r in upper["agency"]]
    if run.scope:
        upper = complete_within(upper, run.scope)
    insert_result_rows(
        conn,
        run.id,
        [*unit_rows, *(row for level in upper.values() for row in level)],
        totals,
        {s.code: s.inspection_ids for s in complete},
    )
    if subjects:
        conn.execute(insert(ZoningSubject.__table__), [_subject_row(run.id, s) for s in subjects])
    compared, changed, moves = _compare_with_official(conn, run, None)
    unit_zones = dict.fromkeys(methodology.zones, 0)
    for r in unit_rows:
        unit_zones[r.zone] += 1
    counts = _counts(
        plan, len(unit_rows), changed, len(moves), unit_zones, upper, methodology.zones
    )
    counts["incomplete"] = len(subjects) - len(complete)
    counts["subjects"] = {
        "level": methodology.zoning_level,
        "complete": len(complete),
        "incomplete": len(subjects) - len(complete),
    }
    finished = _mark_succeeded(conn, run, plan, None, compared, counts)
    if not run.is_dry_run:
        _queue_events(conn, run, plan.mode, counts, compared, moves, finished)
    lease.release(LEASE_NAME, holder, conn)


def _scaled(score: Decimal | None, places: int) -> int:
    if score is None:
        raise ValueError("a complete subject has a score")
    return int(score.scaleb(places))


def _subject_row(run_id: int, s: Subject) -> dict[str, Any]:
    """A ``zoning_subjects`` row (JSON-ready numbers as strings keep their decimals exactly)."""
    result = s.result
    return {
        "run_id": run_id,
        "level": s.level,
        "code": s.code,
        "name": s.name,
        "region_code": s.region_code,
        "agency_code": s.agency_code,
        "is_complete": result.complete,
        "score": result.score,
        "dimensions": [
            {
                "code": d.code,
                "weight": _text(d.weight),
                "score": _text(d.score),
                "sources": [
                    {
                        "source": p.source,
                        "weight": _text(p.weight),
                        "score": _text(p.score),
                        "records": p.records,
                        "units": p.units,
                    }
                    for p in d.sources
                ],
            }
            for d in result.dimensions
        ],
        "gaps": [
            {
                "kind": g.kind,
                "message": g.message,
                "params": dict(g.params),
                "source": g.source,
                "dimension": g.dimension,
                "unit": g.unit,
                "have": g.have,
                "need": g.need,
            }
            for g in result.gaps
        ],
        "counts": dict(result.counts),
        "units": list(result.units),
        "inspection_ids": s.inspection_ids,
        "interview_ids": s.interview_ids,
        "unit_inputs": s.unit_inputs,
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
