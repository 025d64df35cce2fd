"""``fieldcheck.core.evaluate``: the one call that scores an inspection."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fieldcheck.core import evaluate, finding_key
from fieldcheck.core.checks import check
from fieldcheck.core.facts import derive_facts
from fieldcheck.core.scoring import score

from .helpers import CATALOGUE, METHODOLOGY, VISIT_2026, posted
from .test_scoring_properties import answers_st, standards_st


@given(answers_st, standards_st)
def test_evaluate_is_facts_then_check_then_score(answers, standards) -> None:
    evaluation = evaluate(answers, standards, METHODOLOGY, CATALOGUE, VISIT_2026)
    facts = derive_facts(answers, standards, METHODOLOGY, VISIT_2026)
    findings = check(facts, CATALOGUE)
    assert evaluation.facts == facts
    assert evaluation.findings == tuple(findings)
    assert evaluation.withdrawn == ()
    assert evaluation.result == score(facts, findings, METHODOLOGY)


@given(answers_st, standards_st, st.data())
def test_withdrawn_findings_are_not_scored_and_only_raise_a_score(answers, standards, data):
    whole = evaluate(answers, standards, METHODOLOGY, CATALOGUE, VISIT_2026)
    keys = sorted({finding_key(f) for f in whole.findings}, key=str)
    withdrawn = data.draw(st.sets(st.sampled_from(keys)) if keys else st.just(set()))
    part = evaluate(answers, standards, METHODOLOGY, CATALOGUE, VISIT_2026, withdrawn)
    assert all(finding_key(f) not in withdrawn for f in part.findings)
    assert {finding_key(f) for f in part.withdrawn} == withdrawn
    assert len(part.findings) + len(part.withdrawn) == len(whole.findings)
    assert part.result == score(part.facts, list(part.findings), METHODOLOGY)
    # A withdrawn violation gives its component back; nothing else moves.
    assert (part.result.score is None) == (whole.result.score is None)
    if whole.result.score is not None:
        assert part.result.score >= whole.result.score


def test_a_withdrawn_fee_violation_gives_the_fee_component_back() -> None:
    answers = {"SP-01": "yes", "MP-01": "yes"}
    standards = [posted("adminduk.ktp-el", fee=25000)]
    whole = evaluate(answers, standards, METHODOLOGY, CATALOGUE, VISIT_2026)
    (fee,) = [f for f in whole.findings if f.rule == "fee.above_legal"]
    part = evaluate(answers, standards, METHODOLOGY, CATALOGUE, VISIT_2026, {finding_key(fee)})
    assert part.withdrawn == (fee,)
    biaya = {i.code: i.value for i in part.result.indicators}["SV-BIAYA"]
    assert biaya == 1 and {i.code: i.value for i in whole.result.indicators}["SV-BIAYA"] == 0
    assert part.result.score > whole.result.score


@given(answers_st, standards_st)
def test_answers_to_indicators_the_methodology_lacks_change_nothing(answers, standards) -> None:
    plain = evaluate(answers, standards, METHODOLOGY, CATALOGUE, VISIT_2026)
    extra = evaluate(
        {**answers, "XX-99": "no", "OLD-01": 3}, standards, METHODOLOGY, CATALOGUE, VISIT_2026
    )
    assert extra == plain


def test_a_visit_is_read_for_what_it_can_say_under_another_methodology() -> None:
    """A visit re-read under a methodology that asks a code in an interview, or on another
    scale, leaves that answer out instead of failing (a zoning run failed on exactly this: the
    2019 checklist's PG-01 "yes" met a test methodology's 0..3 interview question PG-01)."""
    from dataclasses import replace
    from decimal import Decimal

    from fieldcheck.core.model import Dimension, Indicator, Instrument

    from .helpers import synthetic_methodology

    methodology = replace(
        synthetic_methodology(
            (
                Indicator("OBS", "d", "diamati?", "yes_no", Decimal(1)),
                Indicator("PG-01", "d", "wawancara?", ("scale", 0, 3), Decimal(1), instrument="x"),
                Indicator("SC-01", "d", "skala?", ("scale", 0, 3), Decimal(1)),
            ),
            dimensions=(Dimension("d", "D"),),
        ),
        instruments=(Instrument("x", "x", "agency", 1),),
    )
    answers = {"OBS": "yes", "PG-01": "yes", "SC-01": {"value": "partial"}, "OTHER": "no"}
    result = evaluate(answers, [], methodology, CATALOGUE, VISIT_2026)
    assert dict(result.facts.answers) == {"OBS": "yes"}
    assert result.result.score == Decimal("100.00")
