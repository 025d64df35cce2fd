"""Evaluate one inspection: the single place a score is computed.

``evaluate(answers, posted, methodology, catalogue, visit_date, withdrawn)`` runs the three pure
steps every caller needs, in the only order that is right: derive the facts (``core.facts``),
check them against the law in force on the visit date (``core.checks``), drop the findings an
upheld objection withdrew, and score what is left (``core.scoring``). Intake, re-scoring after an
objection, the zoning run and the unit-result endpoint all call it (through
``fieldcheck.inspections.scoring`` when the inspection is a stored one), so a phone POST and the
nightly run cannot disagree on a number.

Pure: plain data in, plain data out; no Flask, SQLAlchemy or clock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from fieldcheck.core.checks import check
from fieldcheck.core.facts import derive_facts
from fieldcheck.core.model import (
    AnswerValue,
    Finding,
    InspectionFacts,
    LegalCatalogue,
    Methodology,
    PostedStandard,
    ScoreResult,
)
from fieldcheck.core.scoring import answer_value, score

#: What identifies a finding across re-derivations: (rule, service, component). Messages may be
#: re-worded and positions may move, but an upheld objection names the finding by these.
FindingKey = tuple[str, str | None, str | None]


@dataclass(frozen=True)
class Evaluation:
    """Everything one evaluation produced: the facts read, the findings that stand, the score."""

    facts: InspectionFacts
    #: The legal findings, in ``check`` order, without the withdrawn ones.
    findings: tuple[Finding, ...]
    #: Findings the law gives but an upheld objection withdrew (not scored).
    withdrawn: tuple[Finding, ...]
    result: ScoreResult


def finding_key(finding: Finding) -> FindingKey:
    """The (rule, service, component) an objection names a finding by."""
    return (finding.rule, finding.service, finding.component)


def evaluate(
    answers: Mapping[str, AnswerValue | Mapping[str, Any]],
    posted: Iterable[PostedStandard | Mapping[str, Any]],
    methodology: Methodology,
    catalogue: LegalCatalogue,
    visit_date: date,
    withdrawn: Collection[FindingKey] = frozenset(),
) -> Evaluation:
    """Facts, standing findings and score of one visit under ``methodology`` and ``catalogue``.

    Answers to indicators the methodology does not have are left out: an inspection made under
    another methodology is scored on what it observed in common. So are answers to its
    interview questions (a visit never asks them) and answers another methodology gave a code
    this one asks on another scale (a version turning a yes/no question into 0..3): a visit is
    read for what it can say, never failing the zoning run that re-reads it. ``withdrawn`` holds the
    ``finding_key`` of findings an upheld objection withdrew; they are not scored, so re-deriving
    an inspection never resurrects them.
    """
    known = {code: value for code, value in answers.items() if _readable(code, value, methodology)}
    facts = derive_facts(known, posted, methodology, visit_date)
    standing: list[Finding] = []
    dropped: list[Finding] = []
    for finding in check(facts, catalogue):
        (dropped if finding_key(finding) in withdrawn else standing).append(finding)
    return Evaluation(
        facts=facts,
        findings=tuple(standing),
        withdrawn=tuple(dropped),
        result=score(facts, standing, methodology),
    )


def _readable(code: str, raw: AnswerValue | Mapping[str, Any], methodology: Methodology) -> bool:
    """Whether a visit's answer is one of this methodology's observed indicators, on its scale."""
    indicator = methodology.indicator(code)
    if indicator is None or indicator.instrument is not None:
        return False
    value = raw.get("value") if isinstance(raw, Mapping) else raw
    try:
        answer_value(indicator, value, methodology)
    except ValueError:
        return False
    return True


__all__ = ["Evaluation", "FindingKey", "evaluate", "finding_key"]
