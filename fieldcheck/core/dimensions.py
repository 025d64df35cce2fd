"""Score one subject (a unit or an agency) from every input it has: observations and interviews.

The 2022 method scores an agency on four dimensions fed by different inputs (domain.md §5):
Proses from what surveyors observe at visits, Input from staff interviews and observed facilities,
Output from service users' interviews, Pengaduan from complaint officers' interviews. SKM
(PermenPANRB 14/2017) scores a unit from its respondents' questionnaires. Both are this one rule,
which the methodology files state and docs/decisions.md ("Issue 16: dimension scoring") explains:

* every input is a :class:`Record`: an inspection (source ``observation``) or an interview (source
  = its instrument's code), already scored per dimension by ``core.scoring.score`` (the same
  evaluation intake runs) on the methodology's scale, two decimals;
* a **source's value** in a dimension: for a unit-level source (observations, staff interviews),
  the mean over the subject's units of each unit's mean over its records, so a unit with more
  visits or interviews does not weigh more; for an agency-level source (service users, complaint
  officers), the mean over the records;
* a **dimension's score**: the mean of its sources' values weighted by the sum of the weights of
  the dimension's indicators each source asks (Input = staff questions and observed facilities,
  in proportion to their weights), rounded half-up;
* the **total**: the mean of the shown (rounded) dimension scores weighted by the dimension
  weights (``aggregation = "dimensions"``) or by their indicators' weights (``flat``), rounded
  half-up, then banded; anyone can recompute it from the published dimension scores;
* **complete** only when every sampled unit has at least one observation (if the methodology
  observes anything) and its quota of each unit-level instrument, the subject has its quota of
  each agency-level instrument, and every dimension has a score. Otherwise the result is
  *incomplete*: its dimension scores are shown with the gaps that make it so, and it has no total,
  grade or zone (never silently zoned).

The sampled units are the units some record is about. Pure: plain data in, plain data out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from fieldcheck.core.banding import band_for, round_half_up
from fieldcheck.core.messages import N_
from fieldcheck.core.model import AnswerValue, InspectionFacts, Methodology
from fieldcheck.core.scoring import score, weighted_mean

#: The source of records made at a visit (inspections), as opposed to an instrument's code.
OBSERVATION = "observation"


@dataclass(frozen=True)
class Record:
    """One scored input: an inspection or an interview record."""

    #: ``OBSERVATION`` or the instrument code of an interview.
    source: str
    #: The unit the record is about; None for an agency-level interview.
    unit: str | None
    #: Dimension code -> the record's score in that dimension (methodology scale), None or absent
    #: where it answered nothing applicable.
    dimensions: Mapping[str, Decimal | None]


@dataclass(frozen=True)
class Gap:
    """Why a result is incomplete: a msgid and its parameters, plus what is short where."""

    #: ``quota`` (too few records of a source), ``no_data`` (a dimension has no value at all).
    kind: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None
    dimension: str | None = None
    unit: str | None = None
    have: int = 0
    need: int = 0


@dataclass(frozen=True)
class SourceScore:
    """A source's part in one dimension: its weight there, value, and what it was computed from."""

    source: str
    weight: Decimal
    score: Decimal | None
    records: int
    units: int


@dataclass(frozen=True)
class DimensionResult:
    """A dimension's score (None when no source has a value) and its sources."""

    code: str
    weight: Decimal | None
    score: Decimal | None
    sources: tuple[SourceScore, ...]


@dataclass(frozen=True)
class SubjectResult:
    """A unit's or agency's result: total, band and zone only when complete."""

    score: Decimal | None
    grade: str | None
    label: str | None
    zone: str | None
    dimensions: tuple[DimensionResult, ...]
    gaps: tuple[Gap, ...]
    #: Source -> how many records were read.
    counts: Mapping[str, int]
    #: The units some record is about.
    units: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """True when nothing is missing (the result then has a total and a zone)."""
        return not self.gaps


def sources_of(methodology: Methodology) -> dict[str, dict[str, Decimal]]:
    """Dimension code -> {source: sum of the weights of the dimension's indicators it asks}."""
    weights: dict[str, dict[str, Decimal]] = {d.code: {} for d in methodology.dimensions}
    for ind in methodology.indicators:
        source = ind.instrument or OBSERVATION
        by_source = weights[ind.dimension]
        by_source[source] = by_source.get(source, Decimal(0)) + ind.weight
    return weights


def unit_level_sources(methodology: Methodology) -> tuple[str, ...]:
    """The sources whose records are about one unit (observations, unit-level instruments)."""
    out = [OBSERVATION] if methodology.observed_indicators else []
    out += [i.code for i in methodology.instruments if i.level == "unit"]
    return tuple(out)


def interview_dimensions(
    methodology: Methodology, instrument: str, answers: Mapping[str, AnswerValue], on: date
) -> dict[str, Decimal | None]:
    """An interview record's score in each dimension its instrument asks (methodology scale),
    by the same ``core.scoring.score`` an inspection goes through; answers to questions of
    other instruments or to observed indicators are not read. Raises ValueError for an answer
    off its question's scale (the wire validates first)."""
    questions = methodology.questions(instrument)
    asked = {q.code for q in questions}
    facts = InspectionFacts(visit_date=on, answers={k: v for k, v in answers.items() if k in asked})
    result = score(facts, (), methodology)
    dims = {q.dimension for q in questions}
    return {d.code: d.score for d in result.dimensions if d.code in dims}


def score_subject(methodology: Methodology, records: Iterable[Record]) -> SubjectResult:
    """The result of one unit or agency from all its records (rule: module docstring)."""
    records = list(records)
    unit_sources = set(unit_level_sources(methodology))
    units = tuple(sorted({r.unit for r in records if r.unit is not None}))
    counts: dict[str, int] = defaultdict(int)
    per_unit: dict[tuple[str, str | None], int] = defaultdict(int)
    for r in records:
        counts[r.source] += 1
        per_unit[(r.source, r.unit)] += 1

    gaps = _quota_gaps(methodology, units, counts, per_unit, unit_sources)
    places = methodology.rounding_places
    dimensions = []
    for dim in methodology.dimensions:
        parts = []
        for source, weight in sources_of(methodology)[dim.code].items():
            value, n_records, n_units = _source_value(
                [r for r in records if r.source == source], dim.code, source in unit_sources
            )
            parts.append((source, weight, value, n_records, n_units))
        exact = weighted_mean((Fraction(w), v) for _, w, v, _, _ in parts)
        score = None if exact is None else round_half_up(exact, places)
        dimensions.append(
            DimensionResult(
                code=dim.code,
                weight=dim.weight,
                score=score,
                sources=tuple(
                    SourceScore(s, w, None if v is None else round_half_up(v, places), nr, nu)
                    for s, w, v, nr, nu in parts
                ),
            )
        )
        if score is None:
            gaps.append(
                Gap(
                    kind="no_data",
                    message=N_("The dimension %(dimension)s has no answer that applies."),
                    params={"dimension": dim.name},
                    dimension=dim.code,
                )
            )
    if gaps:
        return SubjectResult(
            None, None, None, None, tuple(dimensions), tuple(gaps), dict(counts), units
        )
    weights = _dimension_weights(methodology)
    total = weighted_mean((Fraction(weights[d.code]), Fraction(d.score)) for d in dimensions)
    rounded = round_half_up(total, places)
    band = band_for(rounded, methodology.bands)
    return SubjectResult(
        rounded, band.grade, band.label, band.zone, tuple(dimensions), (), dict(counts), units
    )


def _quota_gaps(
    methodology: Methodology,
    units: tuple[str, ...],
    counts: Mapping[str, int],
    per_unit: Mapping[tuple[str, str | None], int],
    unit_sources: set[str],
) -> list[Gap]:
    gaps: list[Gap] = []
    if unit_sources and not units:
        gaps.append(
            Gap(
                kind="quota",
                message=N_("No unit has been visited or interviewed yet."),
                need=1,
            )
        )
    for unit in units:
        if OBSERVATION in unit_sources and not per_unit.get((OBSERVATION, unit)):
            gaps.append(
                Gap(
                    kind="quota",
                    message=N_("Unit %(unit)s has no counted inspection."),
                    params={"unit": unit},
                    source=OBSERVATION,
                    unit=unit,
                    need=1,
                )
            )
    for instrument in methodology.instruments:
        if instrument.level == "unit":
            for unit in units:
                have = per_unit.get((instrument.code, unit), 0)
                if have < instrument.quota:
                    gaps.append(
                        Gap(
                            kind="quota",
                            message=N_(
                                "Unit %(unit)s has %(have)s of the %(need)s %(instrument)s "
                                "records needed."
                            ),
                            params={
                                "unit": unit,
                                "have": have,
                                "need": instrument.quota,
                                "instrument": instrument.name,
                            },
                            source=instrument.code,
                            unit=unit,
                            have=have,
                            need=instrument.quota,
                        )
                    )
        else:
            have = counts.get(instrument.code, 0)
            if have < instrument.quota:
                gaps.append(
                    Gap(
                        kind="quota",
                        message=N_("%(have)s of the %(need)s %(instrument)s records needed."),
                        params={
                            "have": have,
                            "need": instrument.quota,
                            "instrument": instrument.name,
                        },
                        source=instrument.code,
                        have=have,
                        need=instrument.quota,
                    )
                )
    return gaps


def _source_value(
    records: list[Record], dimension: str, by_unit: bool
) -> tuple[Fraction | None, int, int]:
    """A source's exact value in a dimension, with how many records and units it read."""
    scored = [
        (r.unit, Fraction(r.dimensions[dimension]))
        for r in records
        if r.dimensions.get(dimension) is not None
    ]
    if not scored:
        return None, 0, 0
    if not by_unit:
        return sum((v for _, v in scored), Fraction(0)) / len(scored), len(scored), 0
    groups: dict[str | None, list[Fraction]] = defaultdict(list)
    for unit, value in scored:
        groups[unit].append(value)
    means = [sum(vs, Fraction(0)) / len(vs) for vs in groups.values()]
    return sum(means, Fraction(0)) / len(means), len(scored), len(groups)


def _dimension_weights(methodology: Methodology) -> dict[str, Decimal]:
    if methodology.aggregation == "dimensions":
        return {d.code: d.weight or Decimal(0) for d in methodology.dimensions}
    return {
        d.code: sum((w for w in sources_of(methodology)[d.code].values()), Decimal(0))
        for d in methodology.dimensions
    }


__all__ = [
    "OBSERVATION",
    "DimensionResult",
    "Gap",
    "Record",
    "interview_dimensions",
    "SourceScore",
    "SubjectResult",
    "score_subject",
    "sources_of",
    "unit_level_sources",
]
