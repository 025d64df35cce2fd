"""Build the ``InspectionFacts`` the checker and the scorer read, from what a phone sent.

The intake validates the payload first (unknown indicators, bad answer words, unknown services are
422s there); this module only reshapes already-valid data, so the same facts come out whether the
input is a request body, a stored row or a test literal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from fieldcheck.core.model import (
    AnswerValue,
    InspectionFacts,
    Methodology,
    PostedStandard,
)

#: Obligation answers from worst to best; when several indicators observe one obligation the worst
#: answer wins, because one unmet observation is enough for a finding.
_OBLIGATION_ORDER = ("no", "partial", "yes", "na")


def derive_facts(
    answers: Mapping[str, AnswerValue | Mapping[str, Any]],
    posted_standards: Iterable[PostedStandard | Mapping[str, Any] | Any],
    methodology: Methodology,
    visit_date: date,
) -> InspectionFacts:
    """Facts for one visit: plain answers, PostedStandard objects and obligation answers."""
    plain = {code: _answer_value(raw) for code, raw in answers.items()}
    return InspectionFacts(
        visit_date=visit_date,
        answers=plain,
        posted_standards=tuple(to_posted_standard(p) for p in posted_standards),
        obligations=_obligations(plain, methodology),
    )


def to_posted_standard(item: PostedStandard | Mapping[str, Any] | Any) -> PostedStandard:
    """A PostedStandard from a dict (an api.md ``posted_standards`` item) or an object."""
    if isinstance(item, PostedStandard):
        return item
    if isinstance(item, Mapping):
        get = item.get
    else:

        def get(name: str, default: Any = None) -> Any:
            return getattr(item, name, default)

    fee = get("fee_idr")
    days = get("max_days")
    return PostedStandard(
        service=str(get("service")),
        components=frozenset(get("components") or ()),
        fee_idr=None if fee is None else int(fee),
        max_days=None if days is None else int(days),
        requirements=tuple(str(r) for r in (get("requirements") or ())),
    )


def _answer_value(raw: AnswerValue | Mapping[str, Any]) -> AnswerValue:
    # Accept the api.md answer object ({"value": ..., "note": ..., "photos": [...]}) as well as the
    # bare value, so the intake can pass the request body through without reshaping it.
    if isinstance(raw, Mapping):
        return raw["value"]
    return raw


def _obligations(answers: Mapping[str, AnswerValue], methodology: Methodology) -> dict[str, str]:
    """Obligation id -> answer word, from the indicators that observe an obligation."""
    found: dict[str, str] = {}
    for ind in methodology.indicators:
        if ind.obligation is None or ind.code not in answers:
            continue
        word = _as_word(answers[ind.code], ind.answer)
        if word is None:
            continue
        previous = found.get(ind.obligation)
        if previous is None or _OBLIGATION_ORDER.index(word) < _OBLIGATION_ORDER.index(previous):
            found[ind.obligation] = word
    return found


def _as_word(value: AnswerValue, answer: str | tuple[str, int, int]) -> str | None:
    """The yes/partial/no/na word; a scale answer maps low->no, high->yes, between->partial."""
    if isinstance(answer, tuple):
        if isinstance(value, str):
            return "na" if value == "na" else None
        _, low, high = answer
        if value <= low:
            return "no"
        return "yes" if value >= high else "partial"
    return value if value in _OBLIGATION_ORDER else None
