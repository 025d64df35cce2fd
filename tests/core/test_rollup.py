"""Roll-up, ranking and diff rules (domain.md §5 "Aggregation"): the live functions of
``core.rollup`` by hand and against the test oracle, and the oracle itself by hand."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from fieldcheck.core.banding import mean
from fieldcheck.core.rollup import (
    AgencyInput,
    ResultRow,
    complete_within,
    mean_scaled,
    mean_scaled_total,
    rank,
    roll_up_agencies,
    unit_score,
    within,
)
from tests.core.helpers import METHODOLOGY
from tests.core.oracle import UnitInput, by_rank, diff, roll_up, unit_rows

AGENCIES = {
    "PEMKAB-35.15": AgencyInput("PEMKAB-35.15", "Pemkab Sidoarjo", "35.15"),
    "POLRESTA-35.15": AgencyInput("POLRESTA-35.15", "Polresta Sidoarjo", "35.15"),
    "PEMKAB-35.25": AgencyInput("PEMKAB-35.25", "Pemkab Gresik", "35.25"),
    "PEMPROV-35": AgencyInput("PEMPROV-35", "Pemprov Jatim", "35"),
    "KEMENAG": AgencyInput("KEMENAG", "Kemenag", None),
}


def test_unit_score_is_the_rounded_mean_of_scored_inspections() -> None:
    assert unit_score([D("80.00"), D("81.01"), None]) == D("80.51")  # 80.505 rounds half-up
    assert unit_score([None]) is None
    assert unit_score([]) is None


def test_roll_up_by_hand() -> None:
    units = [
        UnitInput("A", "a", "PEMKAB-35.15", D("90.00"), "35.15"),
        UnitInput("B", "b", "PEMKAB-35.15", D("70.00"), "35.15"),  # agency 80.00
        UnitInput("C", "c", "POLRESTA-35.15", D("40.00"), "35.15"),  # agency 40.00
        UnitInput("D", "d", "PEMKAB-35.25", D("81.00"), "35.25"),
        UnitInput("E", "e", "PEMPROV-35", D("51.00"), "35.78"),
        UnitInput("F", "f", "KEMENAG", D("10.00"), "35.15"),  # no location: feeds no region
    ]
    result = roll_up(units, AGENCIES, {"35": "Jawa Timur"}, METHODOLOGY.bands)
    agencies = {r.code: r for r in result["agency"]}
    assert agencies["PEMKAB-35.15"].score == D("80.00")
    assert agencies["PEMKAB-35.15"].zone == "kuning"
    regencies = {r.code: r for r in result["regency"]}
    assert set(regencies) == {"35.15", "35.25"}
    assert regencies["35.15"].score == D("60.00")  # (80 + 40) / 2
    assert regencies["35.15"].members == 2
    assert regencies["35.25"].zone == "hijau"  # 81.00 is the hijau edge
    (province,) = result["province"]
    # 80 + 40 + 81 + 51 = 252 / 4 = 63.00: the pemprov counts in the province, not a regency
    assert (province.code, province.name, province.score, province.zone) == (
        "35",
        "Jawa Timur",
        D("63.00"),
        "kuning",
    )
    assert [r.code for r in result["unit"]][:2] == ["A", "D"]


def test_competition_ranks_with_ties_by_code() -> None:
    rows = [
        ResultRow("unit", code, code, None, D(s), "", "", "", 0, 1)
        for code, s in [("b", "50"), ("a", "50"), ("c", "70"), ("d", "10")]
    ]
    assert [(r.code, r.rank) for r in rank(rows)] == [("c", 1), ("a", 2), ("b", 2), ("d", 4)]


def test_diff_reports_moves_deltas_and_new_rows() -> None:
    old = [
        {
            "level": "unit",
            "code": "A",
            "name": "a",
            "region_code": "35",
            "score": D("50"),
            "zone": "merah",
        },
        {
            "level": "unit",
            "code": "B",
            "name": "b",
            "region_code": "35",
            "score": D("60"),
            "zone": "kuning",
        },
    ]
    new = [
        {
            "level": "unit",
            "code": "A",
            "name": "a",
            "region_code": "35",
            "score": D("52"),
            "zone": "kuning",
        },
        {
            "level": "unit",
            "code": "B",
            "name": "b",
            "region_code": "35",
            "score": D("60"),
            "zone": "kuning",
        },
        {
            "level": "unit",
            "code": "C",
            "name": "c",
            "region_code": "35",
            "score": D("90"),
            "zone": "hijau",
        },
    ]
    changes = diff(old, new, ["unit", "agency"])
    assert [(c.code, c.old_zone, c.new_zone, c.delta) for c in changes] == [
        ("A", "merah", "kuning", D("2")),
        ("C", None, "hijau", None),
    ]
    assert all(c.zone_changed for c in changes)


@given(
    st.lists(
        st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=2, allow_nan=False)),
        max_size=12,
    )
)
def test_unit_score_equals_the_integer_mean_the_zoning_sql_takes(scores) -> None:
    present = [int(s.scaleb(2)) for s in scores if s is not None]
    expected = None if not present else D(mean_scaled(present)).scaleb(-2)
    assert unit_score(scores) == expected


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12))
def test_mean_scaled_equals_the_exact_mean_in_hundredths(values) -> None:
    assert mean_scaled(values) == mean([D(v).scaleb(-2) for v in values]).scaleb(2)


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12))
def test_mean_scaled_total_equals_mean_scaled(values) -> None:
    assert mean_scaled_total(sum(values), len(values)) == mean_scaled(values)


unit_inputs = st.lists(
    st.builds(
        UnitInput,
        code=st.sampled_from([f"U{i}" for i in range(30)]),
        name=st.just("u"),
        agency_code=st.sampled_from(sorted(AGENCIES)),
        score=st.decimals(min_value=0, max_value=100, places=2, allow_nan=False),
        region_code=st.just("35.15"),
    ),
    max_size=25,
    unique_by=lambda u: u.code,
)


@given(unit_inputs)
def test_core_rank_equals_the_oracle_ranking(units) -> None:
    bands = METHODOLOGY.bands
    assert rank(unit_rows(units, bands)) == by_rank(unit_rows(units, bands))
    assert unit_rows(units, bands, ranked=True) == by_rank(unit_rows(units, bands))
    assert all(r.rank == 0 for r in unit_rows(units, bands))


@given(unit_inputs)
def test_roll_up_agencies_from_sql_style_totals_equals_the_oracle(units) -> None:
    # What an incremental run does: SUM/COUNT of stored unit scores per agency, then the core.
    totals: dict[str, tuple[int, int]] = {}
    for u in units:
        total, count = totals.get(u.agency_code, (0, 0))
        totals[u.agency_code] = (total + int(u.score.scaleb(2)), count + 1)
    full = roll_up(units, AGENCIES, {}, METHODOLOGY.bands)
    upper = roll_up_agencies(totals, AGENCIES, {}, METHODOLOGY.bands)
    assert {level: full[level] for level in upper} == upper


#: Where an agency's units may be: its location holds all of them (None: anywhere).
UNIT_REGIONS = {
    "PEMKAB-35.15": ["35.15"],
    "POLRESTA-35.15": ["35.15"],
    "PEMKAB-35.25": ["35.25"],
    "PEMPROV-35": ["35.15", "35.25", "35.78"],
    "KEMENAG": ["35.15", "31.71"],
}


@st.composite
def placed_units(draw) -> list[UnitInput]:
    units = draw(unit_inputs)
    return [
        UnitInput(
            u.code,
            u.name,
            u.agency_code,
            u.score,
            draw(st.sampled_from(UNIT_REGIONS[u.agency_code])),
        )
        for u in units
    ]


@given(placed_units(), st.sampled_from(["", "35", "35.15", "35.25", "31"]))
def test_complete_within_equals_the_oracle_for_a_regional_run(units, scope) -> None:
    # A regional run reads only the units inside its region, then keeps the complete rows.
    inside = [u for u in units if within(u.region_code, scope)]
    totals: dict[str, tuple[int, int]] = {}
    for u in inside:
        total, count = totals.get(u.agency_code, (0, 0))
        totals[u.agency_code] = (total + int(u.score.scaleb(2)), count + 1)
    upper = complete_within(roll_up_agencies(totals, AGENCIES, {}, METHODOLOGY.bands), scope)
    oracle = roll_up(units, AGENCIES, {}, METHODOLOGY.bands, scope=scope)
    assert {level: oracle[level] for level in upper} == upper
