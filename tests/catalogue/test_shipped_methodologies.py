"""The methodology files fieldcheck ships (issue 16): they load, and say what domain.md says."""

from __future__ import annotations

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
