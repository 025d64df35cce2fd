"""A methodology an admin writes is refused with a message that names the problem (issue 16):
English for start-up errors and logs (``str``), a msgid with parameters for pages in Indonesian."""

from __future__ import annotations

import pytest

from fieldcheck.catalogue import CatalogueError
from fieldcheck.catalogue.methodology import load_methodology
from fieldcheck.catalogue.registry import METHODOLOGY_DIR, METHODOLOGY_DRAFTS_DIR
from fieldcheck.i18n import render

#: A small valid agency-level methodology in the strict (upload) form.
VALID = """
id = "uji-unggah"
version = 1
title = "Uji unggah"
status = "draft"
effective_from = 2026-01-01
aggregation = "dimensions"
zoning_level = "agency"

[answer_values]
yes = 1
partial = 0.5
no = 0

[[instruments]]
code = "pengguna"
name = "Wawancara pengguna"
level = "agency"
quota = 30

[[dimensions]]
code = "proses"
name = "Proses"
weight = 60
confidence = "secondary"

[[dimensions]]
code = "output"
name = "Output"
weight = 40
confidence = "secondary"

[[indicators]]
code = "PR-01"
dimension = "proses"
question = "Standar pelayanan dipublikasikan?"
answer = {scale = [0, 3]}
weight = 1
legal_basis = ["UU 25/2009 Pasal 15 huruf a"]
photo_required = true
confidence = "fieldcheck_default"

[[indicators]]
code = "OU-01"
dimension = "output"
instrument = "pengguna"
question = "Apakah Anda diminta imbalan?"
answer = {scale = [0, 3]}
weight = 1
legal_basis = ["UU 37/2008 Pasal 1 angka 3"]
confidence = "fieldcheck_default"

[[bands]]
min = "80.00"
max = "100.00"
grade = "A"
label = "Tinggi"
zone = "hijau"
confidence = "unverified"

[[bands]]
min = "50.00"
max = "79.99"
grade = "B"
label = "Sedang"
zone = "kuning"
confidence = "unverified"

[[bands]]
min = "0.00"
max = "49.99"
grade = "C"
label = "Rendah"
zone = "merah"
confidence = "unverified"
"""


def _load(tmp_path, text, strict=True):
    path = tmp_path / "uji-unggah.toml"
    path.write_text(text, encoding="utf-8")
    return load_methodology(path, strict=strict)


def _refused(tmp_path, old, new, strict=True) -> CatalogueError:
    assert old in VALID, f"test fixture out of date: {old!r}"
    with pytest.raises(CatalogueError) as caught:
        _load(tmp_path, VALID.replace(old, new, 1), strict)
    err = caught.value
    # str() names the file and the field, for start-up errors and logs.
    assert str(err).startswith(f"{tmp_path / 'uji-unggah.toml'}: {err.where}: ")
    assert err.file == str(tmp_path / "uji-unggah.toml")
    return err


def test_the_valid_file_loads_strictly(tmp_path):
    m = _load(tmp_path, VALID)
    assert m.id == "uji-unggah" and m.zones == ("merah", "kuning", "hijau")


def test_weights_not_summing_to_100_name_the_sum(tmp_path):
    err = _refused(tmp_path, "weight = 40", "weight = 39.99")
    assert err.where == "dimensions"
    assert err.message == (
        "the dimension weights sum to %(total)s; they must sum to %(expected)s "
        "(aggregation is by dimensions)"
    )
    assert err.params == {"total": "99.99", "expected": "100"}
    assert "the dimension weights sum to 99.99; they must sum to 100" in str(err)
    assert render(err.message, err.params, "id") == (
        "jumlah bobot dimensi 99.99; seharusnya 100 (agregasinya per dimensi)"
    )


def test_overlapping_bands_name_both(tmp_path):
    err = _refused(tmp_path, 'max = "79.99"', 'max = "80.00"')
    assert err.where == "bands"
    assert "overlap: 50.00-80.00 (B) and 80.00-100.00 (A)" in str(err)
    assert render(err.message, err.params, "id") == (
        "tumpang tindih: 50.00-80.00 (B) dan 80.00-100.00 (A)"
    )


def test_a_gap_between_bands_names_its_edges(tmp_path):
    err = _refused(tmp_path, 'min = "50.00"', 'min = "50.50"')
    assert "gap between 49.99 (C) and 50.50 (B)" in str(err)
    assert err.params["step"] == "0.01"


@pytest.mark.parametrize(
    ("old", "new", "low", "high"),
    [
        ('min = "0.00"', 'min = "1.00"', "0", "1.00"),
        ('max = "100.00"', 'max = "99.00"', "99.00", "100"),
    ],
)
def test_a_gap_at_either_end_names_what_is_uncovered(tmp_path, old, new, low, high):
    err = _refused(tmp_path, old, new)
    assert err.where == "bands"
    assert (err.params["low"], err.params["high"]) == (low, high)
    assert f"gap: nothing covers {low} up to {high} (the scale is 0..100)" in str(err)


def test_an_unknown_zone_lists_the_known_ones(tmp_path):
    err = _refused(tmp_path, 'zone = "kuning"', 'zone = "oranye"')
    assert err.where == "bands[1].zone"
    assert "'oranye'" in str(err) and "hitam, merah, kuning, hijau" in str(err)
    assert render(err.message, err.params, "id").startswith("harus zona yang ada di katalog")


def test_an_unknown_instrument_is_named(tmp_path):
    err = _refused(tmp_path, 'instrument = "pengguna"', 'instrument = "warga"')
    assert err.where == "indicators[1] (OU-01).instrument"
    assert "unknown instrument 'warga'" in str(err)


def test_a_quota_below_one_is_refused(tmp_path):
    err = _refused(tmp_path, "quota = 30", "quota = 0")
    assert err.where == "instruments[0].quota"
    assert err.params == {"value": 0}
    assert "must be at least 1, got 0" in str(err)


def test_an_interview_question_cannot_ask_for_a_photo(tmp_path):
    err = _refused(
        tmp_path,
        'instrument = "pengguna"\n',
        'instrument = "pengguna"\nphoto_required = true\n',
    )
    assert err.where == "indicators[1] (OU-01).instrument"
    assert "an interview question is unit-scope, with no obligation or photo" in str(err)


def test_an_agency_instrument_in_a_unit_level_methodology_is_refused(tmp_path):
    err = _refused(tmp_path, 'zoning_level = "agency"', 'zoning_level = "unit"')
    assert err.where == "instruments"
    assert err.params == {"instruments": "pengguna"}
    assert "a unit-level result cannot use an agency-level instrument (pengguna)" in str(err)
    assert render(err.message, err.params, "id").startswith(
        "hasil tingkat unit tidak dapat memakai instrumen tingkat instansi (pengguna)"
    )


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (
            'confidence = "fieldcheck_default"\n\n[[indicators]]',
            "\n[[indicators]]",
            "indicators[0] (PR-01).confidence",
        ),
        ('weight = 60\nconfidence = "secondary"', "weight = 60", "dimensions[0].confidence"),
        ('zone = "merah"\nconfidence = "unverified"', 'zone = "merah"', "bands[2].confidence"),
    ],
)
def test_strict_mode_needs_a_confidence(tmp_path, old, new, where):
    err = _refused(tmp_path, old, new)
    assert err.where == where
    assert "an uploaded methodology says how sure each figure is" in str(err)
    assert "verified, secondary, unverified, fieldcheck_default" in str(err)
    # The same file loads when not strict (files published before issue 16).
    assert _load(tmp_path, VALID.replace(old, new, 1), strict=False).id == "uji-unggah"


def test_strict_mode_needs_a_legal_basis(tmp_path):
    err = _refused(tmp_path, 'legal_basis = ["UU 37/2008 Pasal 1 angka 3"]', "legal_basis = []")
    assert err.where == "indicators[1] (OU-01).legal_basis"
    assert render(err.message, err.params, "id") == (
        "belum diisi: metodologi yang diunggah wajib mencantumkan dasar hukum setiap indikator"
    )


def test_reader_problems_are_msgids_too(tmp_path):
    err = _refused(tmp_path, "weight = 60", 'weight = "enam puluh"')
    assert err.where == "dimensions[0].weight"
    assert err.message == "expected a number, got %(value)s"
    assert render(err.message, err.params, "id") == "seharusnya bilangan, tertulis 'enam puluh'"
    typo = _refused(tmp_path, "photo_required = true", "foto_required = true")
    assert typo.params == {"fields": "foto_required"}


@pytest.mark.parametrize(
    "path",
    [
        METHODOLOGY_DIR / "ombudsman-2022.toml",
        METHODOLOGY_DIR / "kemenpanrb-ipp-2017.toml",
        METHODOLOGY_DIR / "kemenpanrb-skm-2017.toml",
        METHODOLOGY_DRAFTS_DIR / "ombudsman-2025.toml",
    ],
    ids=lambda p: p.stem,
)
def test_every_file_shipped_since_issue_16_passes_strict(path):
    assert load_methodology(path, strict=True).content_hash


def test_the_locked_2019_file_predates_the_marks_and_loads_non_strict():
    path = METHODOLOGY_DIR / "ombudsman-2019.toml"
    assert load_methodology(path).id == "ombudsman-2019"
    with pytest.raises(CatalogueError) as caught:
        load_methodology(path, strict=True)
    assert caught.value.where == "indicators[0] (SP-01).confidence"


def test_the_documented_example_loads_strictly(tmp_path):
    doc = (METHODOLOGY_DIR.parents[3] / "docs" / "methodologies.md").read_text(encoding="utf-8")
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    m = _load(tmp_path, example)
    assert (m.id, m.zoning_level, [i.code for i in m.instruments]) == (
        "contoh-instansi",
        "agency",
        ["pengguna"],
    )
