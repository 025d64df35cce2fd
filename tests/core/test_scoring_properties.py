"""Scoring invariants over random inspections (hypothesis), on the shipped methodology."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from fieldcheck.core import evaluate
from fieldcheck.core.model import DELIVERY_COMPONENTS, PostedStandard

from .helpers import CATALOGUE, METHODOLOGY, UNIT_INDICATORS, VISIT_2026

SERVICES = (
    "adminduk.ktp-el",
    "adminduk.kk",
    "polri.sim-c-baru",
    "kua.nikah-luar-kantor",
    "dpmptsp.pbg",
)
REQUIREMENTS = ("kk", "usia-17-atau-kawin", "pengantar RT/RW", "surat dari lurah")
RAISE = {"no": "partial", "partial": "yes"}

answers_st = st.dictionaries(
    st.sampled_from(UNIT_INDICATORS), st.sampled_from(("yes", "partial", "no", "na"))
)
standard_st = st.builds(
    PostedStandard,
    service=st.sampled_from(SERVICES),
    components=st.frozensets(st.sampled_from(DELIVERY_COMPONENTS)),
    fee_idr=st.one_of(st.none(), st.sampled_from((0, 25000, 100000, 600000, 1000000))),
    max_days=st.one_of(st.none(), st.integers(1, 30)),
    requirements=st.lists(st.sampled_from(REQUIREMENTS), max_size=3).map(tuple),
)
standards_st = st.lists(standard_st, max_size=4, unique_by=lambda p: p.service)


def run(answers, standards):
    """Score through the one path intake, re-scoring and zoning use: ``core.evaluate``."""
    return evaluate(answers, standards, METHODOLOGY, CATALOGUE, VISIT_2026).result


@given(answers_st, standards_st)
def test_score_is_within_0_and_100(answers, standards):
    result = run(answers, standards)
    if result.score is None:
        assert result.zone is None
    else:
        assert Decimal(0) <= result.score <= Decimal(100)
        assert result.score == result.score.quantize(Decimal("0.01"))
        assert result.zone in ("merah", "kuning", "hijau")


@given(answers_st, standards_st, st.data())
def test_adding_na_for_an_unanswered_indicator_changes_nothing(answers, standards, data):
    unanswered = [c for c in UNIT_INDICATORS if c not in answers]
    if not unanswered:
        return
    code = data.draw(st.sampled_from(unanswered))
    assert run({**answers, code: "na"}, standards).score == run(answers, standards).score


@given(answers_st, standards_st, st.data())
def test_raising_an_answer_never_lowers_the_score(answers, standards, data):
    raisable = [c for c, v in answers.items() if v in RAISE]
    if not raisable:
        return
    code = data.draw(st.sampled_from(sorted(raisable)))
    before = run(answers, standards).score
    after = run({**answers, code: RAISE[answers[code]]}, standards).score
    assert after >= before


@settings(max_examples=50)
@given(answers_st, standards_st, st.randoms(use_true_random=False))
def test_order_of_posted_services_does_not_matter(answers, standards, rnd):
    shuffled = list(standards)
    rnd.shuffle(shuffled)
    assert run(answers, shuffled) == run(answers, standards)
