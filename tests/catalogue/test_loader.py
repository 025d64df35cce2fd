"""Loading and validating the data files: the shipped ones load, broken ones fail readably."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest

from fieldcheck.catalogue import (
    CatalogueError,
    default_paths,
    load_legal_catalogue,
    load_methodologies,
    load_methodology,
)
from fieldcheck.core.model import ALL_COMPONENTS, DELIVERY_COMPONENTS

PATHS = default_paths()
METHODOLOGY_FILE = PATHS.methodologies / "ombudsman-2019.toml"
METHODOLOGY_TEXT = METHODOLOGY_FILE.read_text(encoding="utf-8")
CATALOGUE_TEXT = PATHS.legal_catalogue.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def catalogue():
    return load_legal_catalogue(PATHS.legal_catalogue)


# --- shipped files -----------------------------------------------------------------------------


def test_shipped_methodology_loads(catalogue):
    methodologies = load_methodologies(PATHS.methodologies, catalogue)
    m = methodologies["ombudsman-2019"]
    assert (m.version, m.status, m.aggregation, m.rounding_places) == (1, "published", "flat", 2)
    assert m.effective_from == date(2015, 1, 1) and m.effective_to is None
    assert sum(i.weight for i in m.indicators) == Decimal(100)
    assert m.answer_values == {"yes": 1, "partial": Decimal("0.5"), "no": 0}
    assert {i.component for i in m.indicators if i.scope == "service"} == set(DELIVERY_COMPONENTS)
    assert {b.zone: (b.min, b.max) for b in m.bands} == {
        "hijau": (Decimal("81.00"), Decimal("100.00")),
        "kuning": (Decimal("51.00"), Decimal("80.99")),
        "merah": (Decimal("0.00"), Decimal("50.99")),
    }
    assert set(m.roll_up) == {"unit", "agency", "region"}
    assert m.content_hash == hashlib.sha256(METHODOLOGY_FILE.read_bytes()).hexdigest()
    assert m.indicator("MP-01").photo_required and m.indicator("MP-01").obligation == "maklumat"


def test_shipped_catalogue_loads(catalogue):
    assert list(catalogue.components) == list(ALL_COMPONENTS)
    assert catalogue.components["biaya"].citation == "UU 25/2009 Pasal 21 huruf e"
    assert set(catalogue.obligations) == {
        "standar_pelayanan",
        "maklumat",
        "sistem_informasi",
        "sarana_pengaduan",
        "petugas_pengaduan",
        "pelayanan_khusus",
        "tanpa_biaya_tambahan_rentan",
    }
    for code in (
        "adminduk.ktp-el",
        "adminduk.kk",
        "adminduk.akta-kelahiran",
        "adminduk.akta-kematian",
        "polri.sim-a-baru",
        "polri.sim-c-baru",
        "polri.sim-d-baru",
        "polri.sim-a-perpanjangan",
        "polri.sim-c-perpanjangan",
        "polri.skck",
        "imigrasi.paspor-biasa",
        "imigrasi.paspor-elektronik",
        "kua.nikah-kantor",
        "kua.nikah-luar-kantor",
        "dpmptsp.pbg",
        "dpmptsp.nib",
        "rsud.rawat-jalan",
        "puskesmas.rawat-jalan",
        "samsat.pkb",
        "adminduk.pindah-datang",
    ):
        assert code in catalogue.services, code
    ktp = catalogue.services["adminduk.ktp-el"]
    reqs = next(v for v in ktp.legal_values if v.kind == "requirements_only")
    assert reqs.value == ("usia-17-atau-kawin", "kk")
    assert (reqs.citation, reqs.confidence) == ("Perpres 96/2018 Pasal 15", "secondary")
    assert catalogue.content_hash == hashlib.sha256(PATHS.legal_catalogue.read_bytes()).hexdigest()


# --- broken files ------------------------------------------------------------------------------


def _write(tmp_path, text, name="broken.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _replace(text, old, new, count=1):
    assert old in text, f"test fixture out of date: {old!r} not in the shipped file"
    return text.replace(old, new, count)


METHODOLOGY_BREAKS = [
    pytest.param('min = "51.00"', 'min = "51.50"', "gap between 50.99", id="band-gap"),
    pytest.param('max = "50.99"', 'max = "51.00"', "overlap", id="band-overlap"),
    pytest.param('min = "0.00"', 'min = "1.00"', "gap: nothing covers 0", id="band-not-from-0"),
    pytest.param('max = "100.00"', 'max = "99.99"', "up to 100", id="band-not-to-100"),
    pytest.param(
        'min = "51.00"', 'min = "51.005"', "more than 2 decimal places", id="band-too-many-decimals"
    ),
    pytest.param(
        'code = "SK-01"',
        'code = "PT-01"',
        "duplicate indicator code 'PT-01'",
        id="duplicate-indicator-code",
    ),
    pytest.param(
        'code = "pengaduan"\nname',
        'code = "pelayanan_terpadu"\nname',
        "duplicate dimension code",
        id="duplicate-dimension-code",
    ),
    pytest.param('zone = "kuning"', 'zone = "oranye"', "bands[1].zone", id="bad-zone"),
    pytest.param(
        "effective_from = 2015-01-01",
        'effective_from = "2015-02-30"',
        "effective_from: expected a date",
        id="bad-date-string",
    ),
    pytest.param(
        "effective_from = 2015-01-01",
        "effective_from = 2015-13-01",
        "not valid TOML",
        id="bad-date-toml",
    ),
    pytest.param(
        "effective_from = 2015-01-01",
        "effective_from = 2015-01-01\neffective_to = 2014-12-31",
        "effective_to: 2014-12-31 is before effective_from",
        id="effective-to-before",
    ),
    pytest.param(
        'component = "biaya"\n', "", "(SV-BIAYA).component", id="service-without-component"
    ),
    pytest.param(
        'component = "biaya"',
        'component = "sarana"',
        "must name one of",
        id="service-component-not-delivery",
    ),
    pytest.param("weight = 4\n", "weight = 0\n", "(SP-01).weight: must be > 0", id="zero-weight"),
    pytest.param(
        "weight = 4\n",
        'weight = "empat"\n',
        "(SP-01).weight: expected a number",
        id="weight-not-number",
    ),
    pytest.param(
        'dimension = "pengaduan"',
        'dimension = "tidak_ada"',
        "unknown dimension",
        id="unknown-dimension",
    ),
    pytest.param('status = "published"', 'status = "final"', "status: must be", id="bad-status"),
    pytest.param(
        'answer = "yes_no"\nweight = 4',
        "answer = {scale = [3, 0]}\nweight = 4",
        "(SP-01).answer",
        id="bad-scale",
    ),
    pytest.param(
        "photo_required = true",
        "foto_required = true",
        "unknown field(s) foto_required",
        id="typo-field",
    ),
    pytest.param(
        'aggregation = "flat"',
        'aggregation = "dimensions"',
        "dimensions[0].weight: missing",
        id="dimensions-aggregation-needs-weights",
    ),
    pytest.param(
        "\npartial = 0.5\n", "\npartial = 1.5\n", "answer_values.partial", id="answer-value-range"
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), METHODOLOGY_BREAKS)
def test_broken_methodology(tmp_path, catalogue, old, new, message):
    path = _write(tmp_path, _replace(METHODOLOGY_TEXT, old, new))
    with pytest.raises(CatalogueError) as err:
        load_methodology(path, catalogue)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_unknown_obligation_needs_the_catalogue(tmp_path, catalogue):
    path = _write(
        tmp_path,
        _replace(METHODOLOGY_TEXT, 'obligation = "maklumat"', 'obligation = "maklumat_palsu"'),
    )
    with pytest.raises(
        CatalogueError,
        match=r"\(MP-01\)\.obligation: unknown obligation "
        r"'maklumat_palsu'",
    ):
        load_methodology(path, catalogue)
    # Without a catalogue there is nothing to check the reference against.
    assert load_methodology(path).indicator("MP-01").obligation == "maklumat_palsu"


def test_duplicate_methodology_id_in_directory(tmp_path):
    _write(tmp_path, METHODOLOGY_TEXT, "a.toml")
    _write(tmp_path, METHODOLOGY_TEXT, "b.toml")
    with pytest.raises(CatalogueError, match="duplicate methodology id 'ombudsman-2019'"):
        load_methodologies(tmp_path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CatalogueError, match="cannot read"):
        load_methodology(tmp_path / "absent.toml")
    with pytest.raises(CatalogueError, match="not a directory"):
        load_methodologies(tmp_path / "absent")


CATALOGUE_BREAKS = [
    pytest.param(
        "valid_to = 2021-01-20",
        "valid_to = 2021-01-25",
        "overlapping validity for fee_max",
        id="overlapping-validity",
    ),
    pytest.param(
        "valid_to = 2021-01-20",
        "valid_to = 2016-01-01",
        "is before valid_from",
        id="valid-to-before-valid-from",
    ),
    pytest.param(
        "valid_from = 2013-12-24",
        'valid_from = "24-12-2013"',
        "valid_from: expected a date",
        id="bad-date",
    ),
    pytest.param(
        'code = "adminduk.kk"',
        'code = "adminduk.ktp-el"',
        "duplicate service code 'adminduk.ktp-el'",
        id="duplicate-service",
    ),
    pytest.param(
        'code = "pas-foto"',
        'code = "kk"',
        "duplicate requirement code 'kk'",
        id="duplicate-requirement",
    ),
    pytest.param(
        '"ktp", "e-ktp"',
        '"fotokopi kk", "e-ktp"',
        "already names requirement 'kk'",
        id="alias-names-two-requirements",
    ),
    pytest.param(
        'value = ["usia-17-atau-kawin", "kk"]',
        'value = ["usia-17-atau-kawin", "kk2"]',
        "unknown requirement code(s) kk2",
        id="unknown-requirement-in-list",
    ),
    pytest.param(
        'category = "diskriminasi"',
        'category = "pungli"',
        "not a maladministration kind",
        id="bad-category",
    ),
    pytest.param(
        'id = "maklumat"',
        'id = "standar_pelayanan"',
        "duplicate obligation id",
        id="duplicate-obligation",
    ),
    pytest.param(
        'confidence = "verified"',
        'confidence = "pasti"',
        "confidence: must be",
        id="bad-confidence",
    ),
    pytest.param('kind = "fee_max"', 'kind = "fee"', "kind: must be", id="bad-kind"),
    pytest.param('letter = "e"', 'letter = "f"', "biaya is huruf e", id="wrong-letter"),
    pytest.param(
        'code = "evaluasi"',
        'code = "jaminan_keamanan"',
        "duplicate component",
        id="duplicate-component",
    ),
    pytest.param("value = 120000", "value = -1", "out of range for fee_max", id="negative-fee"),
    pytest.param("value = 120000", 'value = "120000"', "expected an integer", id="fee-not-integer"),
]


@pytest.mark.parametrize(("old", "new", "message"), CATALOGUE_BREAKS)
def test_broken_catalogue(tmp_path, old, new, message):
    path = _write(tmp_path, _replace(CATALOGUE_TEXT, old, new))
    with pytest.raises(CatalogueError) as err:
        load_legal_catalogue(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_missing_component_is_reported(tmp_path):
    start = CATALOGUE_TEXT.index('[[components]]\ncode = "evaluasi"')
    end = CATALOGUE_TEXT.index("[[obligations]]")
    path = _write(tmp_path, CATALOGUE_TEXT[:start] + CATALOGUE_TEXT[end:])
    with pytest.raises(CatalogueError, match="components: missing evaluasi"):
        load_legal_catalogue(path)
