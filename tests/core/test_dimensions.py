"""core.dimensions: a subject's result from observations and interviews, by hand-computed cases."""

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

from fieldcheck.core.dimensions import OBSERVATION, Record, interview_dimensions, score_subject
from fieldcheck.core.model import Dimension, Indicator, Instrument
from tests.core.helpers import synthetic_methodology


def _methodology(user_quota=3):
    """Input = observed facility (w 1) + staff question (w 3); Output = user question."""
    m = synthetic_methodology(
        (
            Indicator("F1", "input", "fasilitas?", ("scale", 0, 3), D(1)),
            Indicator("S1", "input", "staf tahu?", ("scale", 0, 3), D(3), instrument="staf"),
            Indicator("U1", "output", "pungli?", ("scale", 0, 3), D(1), instrument="pengguna"),
        ),
        dimensions=(Dimension("input", "Input", D(40)), Dimension("output", "Output", D(60))),
        aggregation="dimensions",
    )
    return replace(
        m,
        zoning_level="agency",
        instruments=(
            Instrument("staf", "petugas", "unit", 2),
            Instrument("pengguna", "pengguna layanan", "agency", user_quota),
        ),
    )


def _records():
    return [
        Record(OBSERVATION, "U-1", {"input": D("100.00")}),
        Record(OBSERVATION, "U-1", {"input": D("50.00")}),  # unit U-1 facility mean 75
        Record(OBSERVATION, "U-2", {"input": D("25.00")}),
        Record("staf", "U-1", {"input": D("100.00")}),
        Record("staf", "U-1", {"input": D("0.00")}),  # U-1 staff mean 50
        Record("staf", "U-2", {"input": D("100.00")}),
        Record("staf", "U-2", {"input": D("100.00")}),  # U-2 staff mean 100
        Record("pengguna", None, {"output": D("100.00")}),
        Record("pengguna", None, {"output": D("66.67")}),
        Record("pengguna", None, {"output": D("33.33")}),
    ]


def test_hand_computed_agency():
    result = score_subject(_methodology(), _records())
    # facility = mean(75, 25) = 50; staff = mean(50, 100) = 75; Input = (1*50 + 3*75)/4 = 68.75
    # Output = mean(100, 66.67, 33.33) = 66.67; total = (40*68.75 + 60*66.67)/100 = 67.502 -> 67.50
    dims = {d.code: d.score for d in result.dimensions}
    assert dims == {"input": D("68.75"), "output": D("66.67")}
    assert result.complete
    assert result.score == D("67.50")
    assert result.zone == "kuning"
    assert result.units == ("U-1", "U-2")
    assert result.counts == {OBSERVATION: 3, "staf": 4, "pengguna": 3}


def test_too_few_user_interviews_is_incomplete_with_the_reason():
    result = score_subject(_methodology(user_quota=4), _records())
    assert not result.complete
    assert (result.score, result.zone, result.grade) == (None, None, None)
    # The dimension scores are still shown.
    assert {d.code: d.score for d in result.dimensions}["output"] == D("66.67")
    (gap,) = result.gaps
    assert (gap.kind, gap.source, gap.have, gap.need) == ("quota", "pengguna", 3, 4)


def test_unit_short_of_staff_and_unit_without_observation():
    records = [r for r in _records() if not (r.source == "staf" and r.unit == "U-2")]
    records = [r for r in records if not (r.source == OBSERVATION and r.unit == "U-2")]
    records.append(Record("staf", "U-2", {"input": D("100.00")}))
    result = score_subject(_methodology(), records)
    found = {(g.source, g.unit, g.have, g.need) for g in result.gaps}
    assert found == {(OBSERVATION, "U-2", 0, 1), ("staf", "U-2", 1, 2)}


def test_no_records_at_all():
    result = score_subject(_methodology(), [])
    assert not result.complete
    kinds = [g.kind for g in result.gaps]
    assert "quota" in kinds and "no_data" in kinds


def test_interview_dimensions_read_only_its_instrument():
    m = _methodology()
    dims = interview_dimensions(m, "staf", {"S1": 2, "F1": 0, "U1": 0}, date(2024, 5, 1))
    assert dims == {"input": D("66.67")}
