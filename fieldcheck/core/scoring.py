"""Score one inspection under a methodology (domain.md §5): derived, never entered.

Rule, as the methodology files state it:

* a ``yes_no`` answer is worth ``methodology.answer_values`` (yes 1, partial 0.5, no 0); ``na`` or
  no answer leaves the indicator out of numerator and denominator;
* a scale answer ``v`` on ``low..high`` is worth ``(v - low) / (high - low)``;
* a service-scope indicator is worth the mean, over the services in ``posted_standards``, of 1 when
  its component is posted and 0 when not; a *violation* finding for (service, component) sets that
  service's value to 0 (a warning does not); with no posted service it does not apply, unless
  the unit was observed to publish no standard at all (the ``standar_pelayanan`` obligation
  answered "no"): then it is 0;
* ``flat``: score = 100 * sum(weight * value) / sum(weight) over applicable indicators;
  ``dimensions``: each dimension scored that way, then the mean of dimension scores weighted by
  dimension weight, over dimensions that have a score;
* no applicable indicator: no score and no zone;
* the 0..1 result is put on the methodology's scale: ``scale_min + (scale_max - scale_min) *
  value`` (0..100 for the Ombudsman: ``100 * value``; 25..100 for SKM; 1..5 for PermenPANRB
  17/2017), dimension scores too;
* the score is rounded half-up to ``rounding_places`` and only then banded;
* under a methodology zoned per agency (``zoning_level = "agency"``, the 2022 method) an
  inspection is *not banded*: it keeps its score and dimension breakdown, but grade, label and
  zone stay None. Its score covers only what a visit observes (Proses and the observed part of
  Input); the method zones an agency from its four dimensions (core.dimensions), never a visit.

All arithmetic is on ``Fraction`` (exact rationals), so a true 50.995 is 50.995 and rounds to 51.00;
only the final numbers are turned into ``Decimal``. Breakdown values are shown to six decimals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from fieldcheck.core.banding import band_for, round_half_up
from fieldcheck.core.messages import N_
from fieldcheck.core.model import (
    STANDARD_OBLIGATION,
    AnswerValue,
    DimensionScore,
    Finding,
    Indicator,
    IndicatorScore,
    InspectionFacts,
    Methodology,
    PostedStandard,
    ScoreResult,
)

#: Places shown for an indicator's 0..1 value in the breakdown (display only; the score uses exact
#: values).
VALUE_PLACES = 6


def score(
    facts: InspectionFacts, findings: Iterable[Finding], methodology: Methodology
) -> ScoreResult:
    """Score, band and per-indicator/per-dimension breakdown for one inspection.

    Under a methodology with ``zoning_level = "agency"`` the result has its score and
    breakdown but no grade, label or zone (module docstring): only the agency's dimensions
    are zoned. This is the one place that rule lives; intake, rescoring and pages follow it."""
    zeroed = {
        (f.service, f.component)
        for f in findings
        if f.severity == "violation" and f.service is not None and f.component is not None
    }
    exact: dict[str, Fraction | None] = {}
    breakdown: list[IndicatorScore] = []
    for ind in methodology.indicators:
        value, item = _indicator(ind, facts, zeroed, methodology)
        exact[ind.code] = value
        breakdown.append(item)

    dim_exact: dict[str, Fraction | None] = {}
    for dim in methodology.dimensions:
        members = [i for i in methodology.indicators if i.dimension == dim.code]
        dim_exact[dim.code] = weighted_mean((Fraction(i.weight), exact[i.code]) for i in members)

    if methodology.aggregation == "flat":
        total = weighted_mean((Fraction(i.weight), exact[i.code]) for i in methodology.indicators)
    else:
        pairs = []
        for dim in methodology.dimensions:
            if dim.weight is None:
                raise ValueError(
                    f"dimension {dim.code!r} has no weight but aggregation is by dimension"
                )
            pairs.append((Fraction(dim.weight), dim_exact[dim.code]))
        total = weighted_mean(pairs)

    places = methodology.rounding_places
    dimensions = tuple(
        DimensionScore(
            code=dim.code,
            weight=dim.weight,
            score=None
            if dim_exact[dim.code] is None
            else round_half_up(on_scale(dim_exact[dim.code], methodology), places),
        )
        for dim in methodology.dimensions
    )
    if total is None:
        return ScoreResult(None, None, None, None, tuple(breakdown), dimensions)
    # Round first, then band (domain.md §5).
    rounded = round_half_up(on_scale(total, methodology), places)
    if methodology.zoning_level == "agency":
        return ScoreResult(rounded, None, None, None, tuple(breakdown), dimensions)
    band = band_for(rounded, methodology.bands)
    return ScoreResult(
        score=rounded,
        grade=band.grade,
        label=band.label,
        zone=band.zone,
        indicators=tuple(breakdown),
        dimensions=dimensions,
    )


def on_scale(value: Fraction, methodology: Methodology) -> Fraction:
    """A 0..1 value on the methodology's score scale (``100 * value`` on the default 0..100)."""
    low = Fraction(methodology.scale_min)
    return low + (Fraction(methodology.scale_max) - low) * value


def answer_value(
    ind: Indicator, answer: AnswerValue | None, methodology: Methodology
) -> Fraction | None:
    """An answer's exact value in 0..1, or None when it does not apply (na or unanswered)."""
    if answer is None or answer == "na":
        return None
    if isinstance(ind.answer, tuple):
        _, low, high = ind.answer
        # bool is an int subclass; True is not a scale answer.
        if isinstance(answer, bool) or not isinstance(answer, int) or not low <= answer <= high:
            raise ValueError(f"{ind.code}: {answer!r} is not on the scale {low}..{high}")
        return Fraction(answer - low, high - low)
    if not isinstance(answer, str) or answer not in methodology.answer_values:
        raise ValueError(f"{ind.code}: {answer!r} is not a valid answer")
    return Fraction(methodology.answer_values[answer])


def _indicator(
    ind: Indicator,
    facts: InspectionFacts,
    zeroed: set[tuple[str | None, str | None]],
    methodology: Methodology,
) -> tuple[Fraction | None, IndicatorScore]:
    if ind.scope == "service":
        per_service = _per_service(ind.component, facts.posted_standards, zeroed)
        value = Fraction(sum(per_service.values()), len(per_service)) if per_service else None
        note = "" if per_service else N_("Does not apply: no service was observed.")
        note_params: dict[str, Any] = {}
        if not per_service and facts.obligations.get(STANDARD_OBLIGATION) == "no":
            # No service to observe because the unit publishes no standard at all: none of the
            # six components is shown, which is 0, not "does not apply" (else such a unit
            # scores on its other indicators alone and can come out hijau).
            value = Fraction(0)
            note = N_("0: the unit publishes no service standard at all.")
        zeroed_here = sorted(s for s, c in zeroed if c == ind.component and s in per_service)
        if zeroed_here:
            note = N_("0 because of violations in the services %(services)s.")
            note_params = {"services": ", ".join(zeroed_here)}
        item = IndicatorScore(
            code=ind.code,
            dimension=ind.dimension,
            weight=ind.weight,
            value=_shown(value),
            per_service={s: Decimal(v) for s, v in per_service.items()},
            note=note,
            note_params=note_params,
        )
        return value, item
    answer = facts.answers.get(ind.code)
    value = answer_value(ind, answer, methodology)
    note = ""
    if answer is None:
        note = N_("Not answered.")
    elif answer == "na":
        note = N_("Does not apply (na).")
    return value, IndicatorScore(
        code=ind.code,
        dimension=ind.dimension,
        weight=ind.weight,
        value=_shown(value),
        answer=answer,
        note=note,
    )


def _per_service(
    component: str | None,
    posted: Sequence[PostedStandard],
    zeroed: set[tuple[str | None, str | None]],
) -> dict[str, int]:
    """Service code -> 1 when the component is posted and not voided by a violation, else 0."""
    values: dict[str, int] = {}
    for p in posted:
        v = 1 if component in p.components and (p.service, component) not in zeroed else 0
        # A service listed twice counts once, at its worse observation.
        values[p.service] = min(v, values.get(p.service, v))
    return values


def weighted_mean(pairs: Iterable[tuple[Fraction, Fraction | None]]) -> Fraction | None:
    """sum(w*v)/sum(w) over pairs whose value exists; None when none does."""
    num = Fraction(0)
    den = Fraction(0)
    for weight, value in pairs:
        if value is None:
            continue
        num += weight * value
        den += weight
    return num / den if den else None


def _shown(value: Fraction | None) -> Decimal | None:
    if value is None:
        return None
    return round_half_up(value, VALUE_PLACES).normalize()


__all__ = ["answer_value", "on_scale", "score", "weighted_mean"]
