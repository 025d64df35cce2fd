"""Scoring and banding (domain.md §5), table-driven."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fieldcheck.core.banding import band_for, mean, round_half_up
from fieldcheck.core.checks import check
from fieldcheck.core.model import Dimension, Finding, Indicator
from fieldcheck.core.scoring import score

from .helpers import (
    CATALOGUE,
    METHODOLOGY,
    UNIT_INDICATORS,
    all_yes,
    facts,
    posted,
    synthetic_methodology,
)

D = Decimal


@pytest.mark.parametrize(
    ("value", "zone", "grade"),
    [
        pytest.param("0", "merah", "Merah", id="0-merah"),
        pytest.param("0.00", "merah", "Merah", id="0.00-merah"),
        pytest.param("50.99", "merah", "Merah", id="50.99-merah"),
        pytest.param("51.00", "kuning", "Kuning", id="51.00-kuning"),
        pytest.param("80.99", "kuning", "Kuning", id="80.99-kuning"),
        pytest.param("81.00", "hijau", "Hijau", id="81.00-hijau"),
        pytest.param("100", "hijau", "Hijau", id="100-hijau"),
    ],
)
def test_band_boundaries(value, zone, grade):
    band = band_for(D(value), METHODOLOGY.bands)
    assert (band.zone, band.grade) == (zone, grade)


def test_band_outside_range_is_an_error():
    with pytest.raises(ValueError, match="no band"):
        band_for(D("100.01"), METHODOLOGY.bands)


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        ("50.995", "51.00"),
        ("50.994999", "50.99"),
        ("80.985", "80.99"),
        ("80.995", "81.00"),
        ("0.005", "0.01"),
        ("99.999", "100.00"),
        ("12", "12.00"),
    ],
)
def test_round_half_up(value, rounded):
    assert str(round_half_up(D(value), 2)) == rounded


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        pytest.param([D("50.99"), D("51.00")], D("51.00"), id="half-up-on-mean"),
        pytest.param([D(1), None, D(2)], D("1.50"), id="none-left-out"),
        pytest.param([None], None, id="nothing-to-average"),
        pytest.param([], None, id="empty"),
    ],
)
def test_mean(scores, expected):
    assert mean(scores) == expected


def _score(f, methodology=METHODOLOGY):
    return score(f, check(f, CATALOGUE), methodology)


def test_everything_present_and_lawful_is_100_hijau():
    f = facts(
        posted("adminduk.ktp-el", reqs=("kk", "usia-17-atau-kawin")),
        posted("polri.sim-c-baru", fee=100000),
        answers=all_yes(),
    )
    result = _score(f)
    assert (result.score, result.zone, result.grade, result.label) == (
        D("100.00"),
        "hijau",
        "Hijau",
        "kepatuhan tinggi",
    )
    assert all(d.score == D("100.00") for d in result.dimensions)


def test_half_up_at_50_995_gives_51_kuning():
    # 100 * 50995 / 100000 = 50.995 exactly; a float or banker's rounding would give 50.99 merah.
    m = synthetic_methodology(
        (
            Indicator("A", "d", "a?", "yes_no", D(50995)),
            Indicator("B", "d", "b?", "yes_no", D(49005)),
        )
    )
    result = _score(facts(answers={"A": "yes", "B": "no"}), m)
    assert (result.score, result.zone) == (D("51.00"), "kuning")


def test_violation_zeroes_component_for_one_service_of_two():
    f = facts(
        posted("adminduk.ktp-el", fee=25000),
        posted("polri.sim-c-baru", fee=100000),
        answers=all_yes(),
    )
    result = _score(f)
    biaya = next(i for i in result.indicators if i.code == "SV-BIAYA")
    assert biaya.per_service == {"adminduk.ktp-el": D(0), "polri.sim-c-baru": D(1)}
    assert biaya.value == D("0.5")
    # SV-BIAYA weighs 8 of 100: half of it lost.
    assert result.score == D("96.00")


def test_warning_does_not_zero_a_component():
    f = facts(posted("adminduk.ktp-el", reqs=("kk", "surat dari lurah")), answers=all_yes())
    findings = check(f, CATALOGUE)
    assert [x.severity for x in findings] == ["warning"]
    assert score(f, findings, METHODOLOGY).score == D("100.00")


def test_findings_from_elsewhere_only_zero_their_own_service_and_component():
    f = facts(posted("adminduk.kk"), answers=all_yes())
    other = Finding(
        "fee.above_legal",
        "violation",
        "permintaan imbalan",
        "x",
        "m",
        0,
        1,
        service="adminduk.ktp-el",
        component="biaya",
    )
    assert score(f, [other], METHODOLOGY).score == D("100.00")


def test_missing_components_count_per_service():
    f = facts(
        posted("adminduk.kk", components={"persyaratan", "prosedur", "waktu"}), answers=all_yes()
    )
    # biaya, produk, pengaduan missing: 3 * 8 = 24 points lost.
    assert _score(f).score == D("76.00")


def test_unanswered_and_na_left_out():
    f = facts(answers={"SP-01": "yes", "MP-01": "na", "SI-01": "no"})
    result = _score(f)
    # No service observed: SV-* do not apply; SP-01 (4) yes, SI-01 (6) no -> 100 * 4 / 10.
    assert result.score == D("40.00")
    assert result.zone == "merah"
    notes = {i.code: (i.value, i.note) for i in result.indicators}
    assert notes["MP-01"] == (None, "Does not apply (na).")
    assert notes["PG-01"] == (None, "Not answered.")
    assert notes["SV-BIAYA"][0] is None


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param({}, None, id="nothing-answered"),
        pytest.param(dict.fromkeys(UNIT_INDICATORS, "na"), None, id="all-na"),
    ],
)
def test_no_applicable_indicator_has_no_score(answers, expected):
    result = _score(facts(answers=answers))
    assert (result.score, result.zone, result.grade, result.label) == (None, None, None, None)
    assert all(d.score is None for d in result.dimensions)


def _dimension_methodology():
    return synthetic_methodology(
        (
            Indicator("A1", "a", "skala?", ("scale", 0, 3), D(1)),
            Indicator("A2", "a", "ya/tidak?", "yes_no", D(1)),
            Indicator("B1", "b", "ya/tidak?", "yes_no", D(2)),
        ),
        dimensions=(Dimension("a", "A", D(60)), Dimension("b", "B", D(40))),
        aggregation="dimensions",
    )


@pytest.mark.parametrize(
    ("answers", "total", "dims"),
    [
        # A = mean(2/3, 1/2) = 58.333...; B = 100 -> (60 * 58.333 + 40 * 100) / 100 = 75.
        pytest.param(
            {"A1": 2, "A2": "partial", "B1": "yes"},
            D("75.00"),
            {"a": D("58.33"), "b": D("100.00")},
            id="weighted-by-dimension",
        ),
        pytest.param(
            {"A1": 2, "A2": "partial", "B1": "na"},
            D("58.33"),
            {"a": D("58.33"), "b": None},
            id="dimension-without-score-left-out",
        ),
        pytest.param(
            {"A1": 0, "B1": "no"},
            D("0.00"),
            {"a": D("0.00"), "b": D("0.00")},
            id="scale-low-is-zero",
        ),
        pytest.param({"A1": 3}, D("100.00"), {"a": D("100.00"), "b": None}, id="scale-high-is-one"),
        pytest.param(
            {"A1": 1, "B1": "yes"},
            D("60.00"),
            {"a": D("33.33"), "b": D("100.00")},
            id="scale-one-third",
        ),
    ],
)
def test_dimensions_aggregation_and_scale(answers, total, dims):
    result = _score(facts(answers=answers), _dimension_methodology())
    assert result.score == total
    assert {d.code: d.score for d in result.dimensions} == dims


@pytest.mark.parametrize("bad", [4, -1, "yes", True])
def test_scale_answer_out_of_range_is_an_error(bad):
    with pytest.raises(ValueError, match="A1"):
        _score(facts(answers={"A1": bad}), _dimension_methodology())


def test_unknown_answer_word_is_an_error():
    with pytest.raises(ValueError, match="SP-01"):
        _score(facts(answers={"SP-01": "maybe"}))


def test_breakdown_lists_every_indicator_in_methodology_order():
    result = _score(facts(posted("adminduk.kk"), answers=all_yes()))
    assert [i.code for i in result.indicators] == [i.code for i in METHODOLOGY.indicators]
    assert [d.code for d in result.dimensions] == [d.code for d in METHODOLOGY.dimensions]
