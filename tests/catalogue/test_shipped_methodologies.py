"""The methodology files fieldcheck ships (issue 16): they load, and say what domain.md says."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from fieldcheck.catalogue import load_legal_catalogue
from fieldcheck.catalogue.methodology import load_methodology
from fieldcheck.catalogue.registry import (
    LEGAL_CATALOGUE_FILE,
    METHODOLOGY_DIR,
    METHODOLOGY_DRAFTS_DIR,
)
from fieldcheck.core.banding import band_for
from fieldcheck.core.dimensions import OBSERVATION, Record, interview_dimensions, score_subject
from fieldcheck.core.model import InspectionFacts, PostedStandard
from fieldcheck.core.scoring import score


def shipped(name: str):
    """A shipped methodology (published or draft), loaded with the legal catalogue (its
    obligations must exist)."""
    path = METHODOLOGY_DIR / f"{name}.toml"
    if not path.exists():
        path = METHODOLOGY_DRAFTS_DIR / f"{name}.toml"
    return load_methodology(path, load_legal_catalogue(LEGAL_CATALOGUE_FILE))


def test_ombudsman_2022_four_dimensions_with_interviews():
    m = shipped("ombudsman-2022")
    assert (m.status, m.aggregation, m.zoning_level) == ("published", "dimensions", "agency")
    assert {d.code: d.weight for d in m.dimensions} == {
        "input": Decimal("21.85"),
        "proses": Decimal("32.37"),
        "output": Decimal("24.24"),
        "pengaduan": Decimal("21.54"),
    }
    assert {d.confidence for d in m.dimensions} == {"secondary"}
    assert {(i.code, i.level, i.quota) for i in m.instruments} == {
        ("staf", "unit", 4),
        ("pengguna", "agency", 30),
        ("petugas_pengaduan", "agency", 2),
    }
    proses = [i for i in m.indicators if i.dimension == "proses"]
    assert len(proses) == 11 and all(i.instrument is None for i in proses)
    # Input: staff questions and observed facilities; Output and Pengaduan: interviews only.
    assert {i.instrument for i in m.indicators if i.dimension == "input"} == {"staf", None}
    assert {i.instrument for i in m.indicators if i.dimension == "output"} == {"pengguna"}
    assert {i.instrument for i in m.indicators if i.dimension == "pengaduan"} == {
        "petugas_pengaduan"
    }
    for ind in m.indicators:
        assert ind.legal_basis and ind.confidence, ind.code
        # Everything a surveyor or respondent grades is on 0..3; products are yes/no by nature.
        assert ind.answer == ("scale", 0, 3) or ind.scope == "service", ind.code
    assert [(b.grade, b.zone) for b in sorted(m.bands, key=lambda b: -b.min)] == [
        ("A", "hijau"),
        ("B", "hijau"),
        ("C", "kuning"),
        ("D", "merah"),
        ("E", "merah"),
    ]


@pytest.mark.parametrize(
    ("score", "grade", "zone"),
    [
        ("100.00", "A", "hijau"),
        ("88.00", "A", "hijau"),
        ("87.99", "B", "hijau"),
        ("78.00", "B", "hijau"),
        ("77.99", "C", "kuning"),
        ("56.00", "C", "kuning"),
        ("55.99", "D", "merah"),
        ("26.00", "D", "merah"),
        ("25.99", "E", "merah"),
        ("0.00", "E", "merah"),
    ],
)
def test_ombudsman_2022_band_edges(score, grade, zone):
    band = band_for(Decimal(score), shipped("ombudsman-2022").bands)
    assert (band.grade, band.zone) == (grade, zone)


def test_ombudsman_2025_draft_five_dimensions_four_zones():
    m = shipped("ombudsman-2025")
    assert m.status == "draft"
    weights = {d.code: d.weight for d in m.dimensions}
    assert weights == {
        "input": Decimal("15.295"),
        "proses": Decimal("22.659"),
        "output": Decimal("16.968"),
        "pengaduan": Decimal("15.078"),
        "kepercayaan_masyarakat": Decimal(30),
    }
    # The four 2022 dimensions keep their proportions at 70%.
    base = {d.code: d.weight for d in shipped("ombudsman-2022").dimensions}
    assert all(weights[code] == base[code] * Decimal("0.7") for code in base)
    assert {i.instrument for i in m.indicators if i.dimension == "kepercayaan_masyarakat"} == {
        "pengguna"
    }
    assert m.zones == ("hitam", "merah", "kuning", "hijau")
    top = max(m.bands, key=lambda b: b.min)
    assert top.label == "Opini Kualitas Tertinggi Tanpa Maladministrasi"
    assert all(b.confidence == "unverified" for b in m.bands)


@pytest.mark.parametrize(
    ("score", "grade", "zone"),
    [
        ("88.00", "A", "hijau"),
        ("87.99", "B", "hijau"),
        ("78.00", "B", "hijau"),
        ("77.99", "C", "kuning"),
        ("54.00", "C", "kuning"),
        ("53.99", "D", "merah"),
        ("32.00", "D", "merah"),
        ("31.99", "E", "hitam"),
        ("0.00", "E", "hitam"),
    ],
)
def test_ombudsman_2025_band_edges(score, grade, zone):
    band = band_for(Decimal(score), shipped("ombudsman-2025").bands)
    assert (band.grade, band.zone) == (grade, zone)


def test_the_shipped_drafts_load_as_an_extra_folder_and_not_by_default(tmp_path):
    from fieldcheck.catalogue.registry import load_registry

    default = load_registry(METHODOLOGY_DIR, LEGAL_CATALOGUE_FILE)
    assert "ombudsman-2025" not in default.methodologies
    assert "hitam" not in default.zones_in_use()
    tried = load_registry(METHODOLOGY_DIR, LEGAL_CATALOGUE_FILE, (METHODOLOGY_DRAFTS_DIR,))
    assert tried.methodology("ombudsman-2025").status == "draft"
    assert tried.zones_in_use() == ("hitam", "merah", "kuning", "hijau")


# --- KemenPANRB unit performance index (PermenPANRB 17/2017) --------------------------------------


@pytest.mark.parametrize(
    ("score", "grade", "zone"),
    [
        ("5.00", "A", "hijau"),
        ("4.51", "A", "hijau"),
        ("4.50", "A-", "hijau"),
        ("4.01", "A-", "hijau"),
        ("4.00", "B", "hijau"),
        ("3.51", "B", "hijau"),
        ("3.50", "B-", "kuning"),
        ("3.01", "B-", "kuning"),
        ("3.00", "C", "kuning"),
        ("2.51", "C", "kuning"),
        ("2.50", "C-", "merah"),
        ("2.01", "C-", "merah"),
        ("2.00", "D", "merah"),
        ("1.51", "D", "merah"),
        ("1.50", "E", "merah"),
        ("1.01", "E", "merah"),
        ("1.00", "F", "merah"),
    ],
)
def test_kemenpanrb_index_band_edges(score, grade, zone):
    band = band_for(Decimal(score), shipped("kemenpanrb-ipp-2017").bands)
    assert (band.grade, band.zone) == (grade, zone)


def test_kemenpanrb_index_hand_checked():
    m = shipped("kemenpanrb-ipp-2017")
    assert (m.scale_min, m.scale_max, m.zoning_level, m.instruments) == (1, 5, "unit", ())
    assert sum(d.weight for d in m.dimensions) == 100
    grades = {
        # kebijakan (30): (5 + 4 + 4) / 3 = 4.333.. -> 4.33
        "IPP-KB-SP": 5,
        "IPP-KB-MP": 4,
        "IPP-KB-SKM": 4,
        # sdm (18): (4 + 4 + 3) / 3 = 3.666.. -> 3.67
        "IPP-SDM-KODE": 4,
        "IPP-SDM-BUDAYA": 4,
        "IPP-SDM-KOMPETENSI": 3,
        # sarana (15): (5 + 3) / 2 = 4.00
        "IPP-SP-SARANA": 5,
        "IPP-SP-RENTAN": 3,
        # sipp (15): 4.00
        "IPP-SI-SIPP": 4,
        # pengaduan (15): (3 + 4) / 2 = 3.50
        "IPP-PG-SARANA": 3,
        "IPP-PG-TINDAK-LANJUT": 4,
        # inovasi (7): 2.00
        "IPP-IN-INOVASI": 2,
    }
    inspection = score(InspectionFacts(visit_date=date(2018, 5, 2), answers=grades), (), m)
    # One inspection alone: (30*13/3 + 18*11/3 + 15*4 + 15*4 + 15*3.5 + 7*2) / 100 = 3.825 -> 3.83.
    assert inspection.score == Decimal("3.83")
    dims = {d.code: d.score for d in inspection.dimensions}
    assert dims == {
        "kebijakan": Decimal("4.33"),
        "sdm": Decimal("3.67"),
        "sarana": Decimal("4.00"),
        "sipp": Decimal("4.00"),
        "pengaduan": Decimal("3.50"),
        "inovasi": Decimal("2.00"),
    }
    # The unit's result is recomputed from the shown aspect scores (core.dimensions' rule):
    # (30*4.33 + 18*3.67 + 15*4 + 15*4 + 15*3.5 + 7*2) / 100 = 382.46 / 100 = 3.8246 -> 3.82, B.
    result = score_subject(m, [Record(OBSERVATION, "13.71-DUKCAPIL", dims)])
    assert result.complete
    assert (result.score, result.grade, result.label, result.zone) == (
        Decimal("3.82"),
        "B",
        "Baik",
        "hijau",
    )


# --- SKM (PermenPANRB 14/2017) --------------------------------------------------------------------

#: Five respondents x nine elements (U1..U9), each 1..4.
SKM_ANSWERS = [
    [4, 4, 3, 4, 3, 4, 4, 3, 4],
    [3, 3, 3, 4, 3, 3, 4, 3, 3],
    [4, 3, 4, 4, 4, 4, 4, 4, 3],
    [3, 3, 2, 4, 3, 3, 3, 2, 3],
    [4, 4, 3, 4, 3, 4, 4, 3, 4],
]


def _skm_records(m, rows, unit="35.15-DUKCAPIL"):
    out = []
    for row in rows:
        answers = {f"U{i}": v for i, v in enumerate(row, 1)}
        dims = interview_dimensions(m, "responden", answers, date(2020, 9, 1))
        out.append(Record("responden", unit, dims))
    return out


def test_skm_hand_checked_index_and_letter():
    m = shipped("kemenpanrb-skm-2017")
    assert (m.scale_min, m.scale_max, m.aggregation) == (25, 100, "flat")
    # The file's quota (384) is for a real survey; the arithmetic is checked on five respondents.
    five = replace(m, instruments=(replace(m.instrument("responden"), quota=5),))
    result = score_subject(five, _skm_records(five, SKM_ANSWERS))
    assert result.complete, result.gaps
    # NRR per element = column sum / 5; converted = NRR * 25:
    # U1 18/5 = 3.6 -> 90; U2 17/5 = 3.4 -> 85; U3 15/5 = 3.0 -> 75; U4 20/5 = 4.0 -> 100;
    # U5 16/5 = 3.2 -> 80; U6 18/5 = 3.6 -> 90; U7 19/5 = 3.8 -> 95; U8 15/5 = 3.0 -> 75;
    # U9 17/5 = 3.4 -> 85.
    assert [d.score for d in result.dimensions] == [
        Decimal(v) for v in (90, 85, 75, 100, 80, 90, 95, 75, 85)
    ]
    # IKM = sum(NRR * 1/9) * 25 = 31.0 / 9 * 25 = 775 / 9 = 86.111.. -> 86.11: B "Baik".
    # (With the printed weight 0.111: 31.0 * 0.111 * 25 = 86.025 -> 86.03, still B.)
    assert (result.score, result.grade, result.label, result.zone) == (
        Decimal("86.11"),
        "B",
        "Baik",
        "hijau",
    )


def test_skm_all_fours_reach_100_with_exact_ninths():
    m = shipped("kemenpanrb-skm-2017")
    five = replace(m, instruments=(replace(m.instrument("responden"), quota=5),))
    result = score_subject(five, _skm_records(five, [[4] * 9] * 5))
    # 0.111 * 9 * 4 * 25 would be 99.90: exact 1/9 reaches the top of the table.
    assert (result.score, result.grade) == (Decimal("100.00"), "A")
    lowest = score_subject(five, _skm_records(five, [[1] * 9] * 5))
    assert (lowest.score, lowest.grade, lowest.zone) == (Decimal("25.00"), "D", "merah")


def test_skm_with_fewer_respondents_than_the_quota_is_incomplete():
    m = shipped("kemenpanrb-skm-2017")
    result = score_subject(m, _skm_records(m, SKM_ANSWERS))
    assert not result.complete and result.zone is None
    (gap,) = result.gaps
    assert (gap.source, gap.have, gap.need) == ("responden", 5, 384)


@pytest.mark.parametrize(
    ("score", "grade", "zone"),
    [
        ("100.00", "A", "hijau"),
        ("88.31", "A", "hijau"),
        ("88.30", "B", "hijau"),
        ("76.61", "B", "hijau"),
        ("76.60", "C", "kuning"),
        ("65.00", "C", "kuning"),
        ("64.99", "D", "merah"),
        ("25.00", "D", "merah"),
    ],
)
def test_skm_band_edges(score, grade, zone):
    band = band_for(Decimal(score), shipped("kemenpanrb-skm-2017").bands)
    assert (band.grade, band.zone) == (grade, zone)


# --- ombudsman-2022: one agency, hand-checked through the shipped file ---------------------------

ALL = ("persyaratan", "prosedur", "waktu", "biaya", "produk", "pengaduan")
STAF = [i.code for i in shipped("ombudsman-2022").questions("staf")]
USER = [i.code for i in shipped("ombudsman-2022").questions("pengguna")]
PENGADUAN = [i.code for i in shipped("ombudsman-2022").questions("petugas_pengaduan")]


def _visit(m, unit, answers, posted):
    facts = InspectionFacts(
        visit_date=date(2023, 6, 5),
        answers=answers,
        posted_standards=tuple(PostedStandard(s, frozenset(c)) for s, c in posted),
    )
    dims = {d.code: d.score for d in score(facts, (), m).dimensions if d.score is not None}
    return Record(OBSERVATION, unit, dims)


def _interview(m, instrument, unit, answers):
    return Record(instrument, unit, interview_dimensions(m, instrument, answers, date(2023, 6, 5)))


def _agency_records(m, users=30):
    records = [
        # Unit 1. Proses: components (1 + 1 + 1/2 + 1/2 + 1 + 1) = 5 over two products, unit
        # duties (3 + 3 + 2 + 3 + 1) / 3 = 4: 100 * 9 / 11 = 81.8181.. -> 81.82.
        # Facilities (Input, observed): (3 + 2 + 2) / 9 = 77.777.. -> 77.78.
        _visit(
            m,
            "U1",
            {"PR-SP": 3, "PR-MP": 3, "PR-SI": 2, "PR-PG": 3, "PR-KR": 1}
            | {"IN-SR-RUANG": 3, "IN-SR-TOILET": 2, "IN-SR-KESELAMATAN": 2},
            [("a", ALL), ("b", ("persyaratan", "prosedur", "produk", "pengaduan"))],
        ),
        # Unit 2. Proses: components 1 + 1 + 0 + 1 + 0 + 0 = 3, duties (2+1+1+2+0)/3 = 2:
        # 100 * 5 / 11 = 45.4545.. -> 45.45. Facilities (2 + 1 + 1) / 9 = 44.444.. -> 44.44.
        _visit(
            m,
            "U2",
            {"PR-SP": 2, "PR-MP": 1, "PR-SI": 1, "PR-PG": 2, "PR-KR": 0}
            | {"IN-SR-RUANG": 2, "IN-SR-TOILET": 1, "IN-SR-KESELAMATAN": 1},
            [("a", ("persyaratan", "prosedur", "biaya"))],
        ),
    ]
    # Staff: four in unit 1 answer 3 to everything (100), four in unit 2 answer 2 (66.67).
    records += [_interview(m, "staf", "U1", dict.fromkeys(STAF, 3)) for _ in range(4)]
    records += [_interview(m, "staf", "U2", dict.fromkeys(STAF, 2)) for _ in range(4)]
    # Users: two thirds answer 3 (100), a third 2 (66.67).
    records += [
        _interview(m, "pengguna", None, dict.fromkeys(USER, 3 if i % 3 else 2))
        for i in range(users)
    ]
    # Complaint officers: 100 and (3 + 2 + 1 + 2) / 12 = 66.67.
    records.append(_interview(m, "petugas_pengaduan", None, dict.fromkeys(PENGADUAN, 3)))
    records.append(
        _interview(m, "petugas_pengaduan", None, dict(zip(PENGADUAN, (3, 2, 1, 2), strict=True)))
    )
    return records


def test_ombudsman_2022_agency_hand_checked():
    m = shipped("ombudsman-2022")
    result = score_subject(m, _agency_records(m))
    assert result.complete, result.gaps
    dims = {d.code: d.score for d in result.dimensions}
    # Proses: observations only, mean of the unit means: (81.82 + 45.45) / 2 = 63.635 -> 63.64.
    # Input: staff (100 + 66.67) / 2 = 83.335 weighs 9, facilities (77.78 + 44.44) / 2 = 61.11
    # weighs 3: (9 * 83.335 + 3 * 61.11) / 12 = 77.77875 -> 77.78.
    # Output: (20 * 100 + 10 * 66.67) / 30 = 88.89. Pengaduan: (100 + 66.67) / 2 = 83.335 -> 83.34.
    assert dims == {
        "input": Decimal("77.78"),
        "proses": Decimal("63.64"),
        "output": Decimal("88.89"),
        "pengaduan": Decimal("83.34"),
    }
    # Total: (21.85 * 77.78 + 32.37 * 63.64 + 24.24 * 88.89 + 21.54 * 83.34) / 100
    #      = (1699.493 + 2060.0268 + 2154.6936 + 1795.1436) / 100 = 77.09357 -> 77.09: C, kuning.
    assert (result.score, result.grade, result.label, result.zone) == (
        Decimal("77.09"),
        "C",
        "Kualitas Sedang",
        "kuning",
    )


def test_ombudsman_2022_agency_with_29_users_is_incomplete():
    m = shipped("ombudsman-2022")
    result = score_subject(m, _agency_records(m, users=29))
    assert not result.complete and (result.score, result.zone) == (None, None)
    (gap,) = result.gaps
    assert (gap.source, gap.have, gap.need) == ("pengguna", 29, 30)
    assert gap.params["instrument"] == "Wawancara pengguna layanan"
    # The dimension scores are still shown, with what is missing.
    assert {d.code for d in result.dimensions if d.score is not None} == {
        "input",
        "proses",
        "output",
        "pengaduan",
    }
