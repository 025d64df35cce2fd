"""Legal checks, table-driven: each case names the article it exercises."""

from __future__ import annotations

import random
from datetime import date

import pytest

from fieldcheck.core.checks import check, match_requirement
from fieldcheck.core.model import (
    Component,
    LegalCatalogue,
    LegalValue,
    Requirement,
    Service,
)
from fieldcheck.i18n import format_param, render

from .helpers import ALL, CATALOGUE, VISIT_2026, facts, posted

KTP = "adminduk.ktp-el"
SIM_C = "polri.sim-c-baru"
PROCEDURE = "penyimpangan prosedur"


def summary(findings):
    """(rule, severity, category, citation, component) for each finding, in order."""
    return [(f.rule, f.severity, f.category, f.citation, f.component) for f in findings]


FEE_ABOVE = ("fee.above_legal", "violation", "permintaan imbalan")

SERVICE_CASES = [
    # --- fee: UU 24/2013 Pasal 79A (adminduk free) --------------------------------------------
    pytest.param(
        posted(KTP, fee=25000),
        VISIT_2026,
        [(*FEE_ABOVE, "UU 24/2013 Pasal 79A", "biaya")],
        id="UU24/2013-Ps79A-ktp-el-Rp25000-violation",
    ),
    pytest.param(posted(KTP, fee=0), VISIT_2026, [], id="UU24/2013-Ps79A-ktp-el-free-lawful"),
    pytest.param(
        posted("adminduk.akta-kelahiran", fee=10000),
        VISIT_2026,
        [(*FEE_ABOVE, "UU 24/2013 Pasal 79A", "biaya")],
        id="UU24/2013-Ps79A-akta-kelahiran-fee-violation",
    ),
    pytest.param(
        posted(KTP, fee=25000),
        date(2013, 12, 23),
        [],
        id="UU24/2013-Ps79A-before-in-force-no-value",
    ),
    # --- fee: PP 76/2020 (SIM/SKCK ceilings) and PP 60/2016 before it --------------------------
    pytest.param(
        posted(SIM_C, fee=150000),
        VISIT_2026,
        [(*FEE_ABOVE, "PP 76/2020 Lampiran I", "biaya")],
        id="PP76/2020-LampI-sim-c-Rp150000-2026-violation",
    ),
    pytest.param(
        posted(SIM_C, fee=100000), VISIT_2026, [], id="PP76/2020-LampI-sim-c-exactly-ceiling-lawful"
    ),
    pytest.param(
        posted(SIM_C, fee=90000), VISIT_2026, [], id="PP76/2020-LampI-sim-c-below-ceiling-lawful"
    ),
    pytest.param(
        posted("polri.sim-a-perpanjangan", fee=80001),
        VISIT_2026,
        [(*FEE_ABOVE, "PP 76/2020 Lampiran II", "biaya")],
        id="PP76/2020-LampII-sim-a-perpanjangan-one-rupiah-over",
    ),
    pytest.param(
        posted("polri.skck", fee=30000), VISIT_2026, [], id="PP76/2020-skck-at-ceiling-lawful"
    ),
    pytest.param(
        posted(SIM_C, fee=150000),
        date(2021, 1, 21),
        [(*FEE_ABOVE, "PP 76/2020 Lampiran I", "biaya")],
        id="PP76/2020-first-day-in-force",
    ),
    pytest.param(
        posted(SIM_C, fee=150000),
        date(2021, 1, 20),
        [(*FEE_ABOVE, "PP 60/2016 Lampiran", "biaya")],
        id="PP60/2016-last-day-older-value-used",
    ),
    pytest.param(
        posted(SIM_C, fee=150000),
        date(2019, 6, 1),
        [(*FEE_ABOVE, "PP 60/2016 Lampiran", "biaya")],
        id="PP60/2016-visit-2019-uses-older-value",
    ),
    pytest.param(
        posted("polri.skck", fee=50000),
        date(2016, 6, 1),
        [],
        id="PP60/2016-visit-before-valid-from-no-value",
    ),
    # --- fee: PP 28/2019, PP 45/2024 (paspor), PP 48/2014 (nikah) -----------------------------
    pytest.param(
        posted("imigrasi.paspor-biasa", fee=400000),
        date(2020, 1, 1),
        [(*FEE_ABOVE, "PP 28/2019 Lampiran III.A", "biaya")],
        id="PP28/2019-LampIII.A-paspor-biasa-above",
    ),
    pytest.param(
        posted("imigrasi.paspor-elektronik", fee=650000),
        VISIT_2026,
        [],
        id="PP45/2024-paspor-elektronik-at-ceiling-lawful",
    ),
    pytest.param(
        posted("kua.nikah-kantor", fee=100000),
        VISIT_2026,
        [(*FEE_ABOVE, "PP 48/2014", "biaya")],
        id="PP48/2014-nikah-kantor-not-free",
    ),
    pytest.param(
        posted("kua.nikah-luar-kantor", fee=600000),
        VISIT_2026,
        [],
        id="PP48/2014-nikah-luar-kantor-at-ceiling-lawful",
    ),
    pytest.param(
        posted("dpmptsp.pbg", fee=5000000), VISIT_2026, [], id="no-legal-value-any-fee-no-finding"
    ),
    pytest.param(posted(KTP, fee=None), VISIT_2026, [], id="UU24/2013-Ps79A-fee-not-recorded"),
    # --- requirements: Perpres 96/2018 Pasal 15 ------------------------------------------------
    pytest.param(
        posted(KTP, reqs=("kk", "usia-17-atau-kawin", "Surat pengantar RT/RW")),
        VISIT_2026,
        [("requirements.extra", "violation", PROCEDURE, "Perpres 96/2018 Pasal 15", "persyaratan")],
        id="Perpres96/2018-Ps15-ktp-el-pengantar-rt-rw-extra",
    ),
    pytest.param(
        posted(KTP, reqs=("usia-17-atau-kawin", "kk")),
        VISIT_2026,
        [],
        id="Perpres96/2018-Ps15-ktp-el-exact-list-lawful",
    ),
    pytest.param(
        posted(KTP, reqs=("  Fotokopi   KK ", "SUDAH MENIKAH", "Kartu Keluarga")),
        VISIT_2026,
        [],
        id="Perpres96/2018-Ps15-aliases-case-and-whitespace-lawful",
    ),
    pytest.param(
        posted(KTP, reqs=("pengantar RT/RW", "surat pengantar  rt rw", "Pas foto")),
        VISIT_2026,
        [("requirements.extra", "violation", PROCEDURE, "Perpres 96/2018 Pasal 15", "persyaratan")]
        * 2,
        id="Perpres96/2018-Ps15-one-finding-per-distinct-extra",
    ),
    pytest.param(
        posted(KTP, reqs=("kk", "surat keterangan dari pak lurah")),
        VISIT_2026,
        [
            (
                "requirements.unrecognised",
                "warning",
                PROCEDURE,
                "Perpres 96/2018 Pasal 15",
                "persyaratan",
            )
        ],
        id="Perpres96/2018-Ps15-unrecognised-free-text-warning",
    ),
    pytest.param(
        posted(KTP, reqs=("Surat pengantar RT/RW",)),
        date(2018, 11, 28),
        [],
        id="Perpres96/2018-Ps15-visit-before-valid-from-no-value",
    ),
    pytest.param(
        posted("polri.skck", fee=0, reqs=("pengantar RT/RW",)),
        VISIT_2026,
        [],
        id="no-requirements-value-any-requirement-lawful",
    ),
    # --- components: UU 25/2009 Pasal 15 a / 20(1) / 21 ---------------------------------------
    pytest.param(
        posted(KTP, components=ALL - {"biaya"}),
        VISIT_2026,
        [("component.missing", "violation", PROCEDURE, "UU 25/2009 Pasal 21 huruf e", "biaya")],
        id="UU25/2009-Ps21e-biaya-missing",
    ),
    pytest.param(
        posted(KTP, components=ALL - {"persyaratan", "pengaduan"}),
        VISIT_2026,
        [
            (
                "component.missing",
                "violation",
                PROCEDURE,
                "UU 25/2009 Pasal 21 huruf b",
                "persyaratan",
            ),
            (
                "component.missing",
                "violation",
                PROCEDURE,
                "UU 25/2009 Pasal 21 huruf j",
                "pengaduan",
            ),
        ],
        id="UU25/2009-Ps21b-j-two-missing-in-component-order",
    ),
    pytest.param(
        posted(KTP, components=ALL - {"prosedur", "produk"}),
        VISIT_2026,
        [
            (
                "component.missing",
                "violation",
                PROCEDURE,
                "UU 25/2009 Pasal 21 huruf c",
                "prosedur",
            ),
            ("component.missing", "violation", PROCEDURE, "UU 25/2009 Pasal 21 huruf f", "produk"),
        ],
        id="UU25/2009-Ps21c-f-prosedur-produk-missing",
    ),
    pytest.param(
        posted(KTP, components=set(), fee=25000),
        VISIT_2026,
        [
            (
                "standard.absent",
                "violation",
                PROCEDURE,
                "UU 25/2009 Pasal 15 huruf a dan Pasal 20 ayat (1)",
                None,
            )
        ],
        id="UU25/2009-Ps15a-Ps20(1)-no-standard-at-all",
    ),
    pytest.param(posted(KTP), VISIT_2026, [], id="UU25/2009-Ps21-all-six-posted-lawful"),
    # --- time: UU 25/2009 Pasal 21 huruf d ----------------------------------------------------
    pytest.param(
        posted(KTP, days=None),
        VISIT_2026,
        [("time.indefinite", "violation", PROCEDURE, "UU 25/2009 Pasal 21 huruf d", "waktu")],
        id="UU25/2009-Ps21d-waktu-without-days",
    ),
    pytest.param(
        posted(KTP, components=ALL - {"waktu"}, days=None),
        VISIT_2026,
        [("component.missing", "violation", PROCEDURE, "UU 25/2009 Pasal 21 huruf d", "waktu")],
        id="UU25/2009-Ps21d-waktu-missing-reported-once",
    ),
    # --- unknown service: intake's business; here no legal value, no crash --------------------
    pytest.param(
        posted("xx.tidak-dikenal", fee=999999, reqs=("apa saja",)),
        VISIT_2026,
        [],
        id="unknown-service-no-legal-value",
    ),
    pytest.param(
        posted("xx.tidak-dikenal", components=set()),
        VISIT_2026,
        [
            (
                "standard.absent",
                "violation",
                PROCEDURE,
                "UU 25/2009 Pasal 15 huruf a dan Pasal 20 ayat (1)",
                None,
            )
        ],
        id="unknown-service-still-needs-a-standard",
    ),
]


@pytest.mark.parametrize(("standard", "on", "expected"), SERVICE_CASES)
def test_service_rules(standard, on, expected):
    assert summary(check(facts(standard, on=on), CATALOGUE)) == expected


def test_fee_finding_fields_and_message():
    (finding,) = check(facts(posted(KTP, fee=25000)), CATALOGUE)
    assert finding.expected == 0
    assert finding.observed == 25000
    assert finding.service == KTP
    # The core stores a msgid and its values; the reader's language is chosen when it is read.
    assert finding.params["fee_idr"] == 25000
    indonesian = render(finding.message, finding.params, "id")
    assert "Rp25.000" in indonesian
    assert "gratis" in indonesian
    assert "IDR25,000" in render(finding.message, finding.params, "en")


def test_fee_ceiling_message_names_both_amounts():
    (finding,) = check(facts(posted(SIM_C, fee=150000)), CATALOGUE)
    assert (finding.expected, finding.observed) == (100000, 150000)
    indonesian = render(finding.message, finding.params, "id")
    assert "Rp150.000" in indonesian and "Rp100.000" in indonesian


def test_extra_requirement_names_the_code_and_the_legal_list():
    (finding,) = check(facts(posted(KTP, reqs=("Pengantar RT/RW",))), CATALOGUE)
    assert finding.observed == "surat-pengantar-rt-rw"
    assert finding.expected == ("usia-17-atau-kawin", "kk")
    assert "Pengantar RT/RW" in render(finding.message, finding.params, "id")


def test_every_finding_message_is_a_msgid_its_params_fill():
    """Each rule's text renders in both languages with no placeholder left over."""
    findings = [
        *check(facts(posted(KTP, fee=25000, reqs=("Pengantar RT/RW", "surat sakti"))), CATALOGUE),
        *check(facts(posted(SIM_C, fee=150000, days=30)), CATALOGUE),
        *check(facts(posted(KTP, components={"waktu"}, days=None)), CATALOGUE),
        *check(facts(posted(KTP, components=set())), CATALOGUE),
        *check(facts(obligations={"maklumat": "no", "standar_pelayanan": "partial"}), CATALOGUE),
    ]
    assert len({f.rule for f in findings}) >= 8
    for finding in findings:
        indonesian = render(finding.message, finding.params, "id")
        english = render(finding.message, finding.params, "en")
        assert "%(" not in indonesian and "%(" not in english, finding.rule
        assert indonesian != english, f"{finding.rule} has no Indonesian text"


def test_standard_absent_carries_pasal_54_ayat_8_sanction():
    (finding,) = check(facts(posted(KTP, components=set())), CATALOGUE)
    assert finding.sanction.startswith("UU 25/2009 Pasal 54 ayat (8)")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("KK", "kk", id="code-upper-case"),
        pytest.param(" fotokopi\tkk ", "kk", id="alias-tab-and-spaces"),
        pytest.param("Kartu Keluarga", "kk", id="name"),
        pytest.param("SURAT PENGANTAR RT/RW", "surat-pengantar-rt-rw", id="alias-upper-case"),
        pytest.param("e-KTP", "ktp-el", id="alias-e-ktp"),
        pytest.param("surat dari lurah", None, id="unrecognised"),
    ],
)
def test_match_requirement(text, code):
    assert match_requirement(text, CATALOGUE) == code


# --- max_days: no shipped value yet, so a catalogue built here ---------------------------------


def _time_catalogue() -> LegalCatalogue:
    value = LegalValue(
        kind="max_days",
        value=14,
        citation="Perda 1/2020 Pasal 5",
        valid_from=date(2020, 1, 1),
        valid_to=None,
        confidence="unverified",
    )
    return LegalCatalogue(
        version="test",
        services={"test.izin": Service("test.izin", "Izin uji", "test", (value,))},
        requirements={"kk": Requirement("kk", "Kartu Keluarga")},
        obligations={},
        components={
            "waktu": Component(
                "waktu", "d", "Jangka waktu penyelesaian", "UU 25/2009 Pasal 21 huruf d"
            )
        },
    )


VISIT = date(2026, 1, 5)


@pytest.mark.parametrize(
    ("days", "on", "expected"),
    [
        pytest.param(
            20,
            VISIT,
            [
                (
                    "time.above_legal",
                    "violation",
                    "penundaan berlarut",
                    "Perda 1/2020 Pasal 5",
                    "waktu",
                )
            ],
            id="max_days-above-legal-value",
        ),
        pytest.param(14, VISIT, [], id="max_days-exactly-legal-value-lawful"),
        pytest.param(3, VISIT, [], id="max_days-below-legal-value-lawful"),
        pytest.param(20, date(2019, 12, 31), [], id="max_days-before-valid-from-no-value"),
    ],
)
def test_time_above_legal(days, on, expected):
    found = check(facts(posted("test.izin", days=days), on=on), _time_catalogue())
    assert summary(found) == expected


def test_catalogue_without_components_or_obligations_still_cites():
    bare = LegalCatalogue("bare", {}, {}, {}, {})
    found = check(
        facts(posted(KTP, components={"waktu"}, days=None), posted("x", components=set())), bare
    )
    assert [f.citation for f in found] == [
        "UU 25/2009 Pasal 21 huruf b",
        "UU 25/2009 Pasal 21 huruf c",
        "UU 25/2009 Pasal 21 huruf e",
        "UU 25/2009 Pasal 21 huruf f",
        "UU 25/2009 Pasal 21 huruf j",
        "UU 25/2009 Pasal 21 huruf d",
        "UU 25/2009 Pasal 15 huruf a dan Pasal 20 ayat (1)",
    ]


# --- unit obligations --------------------------------------------------------------------------

OBLIGATION_CASES = [
    (
        "standar_pelayanan",
        "UU 25/2009 Pasal 15 huruf a dan Pasal 20 ayat (1)",
        PROCEDURE,
        "UU 25/2009 Pasal 54 ayat (8)",
    ),
    (
        "maklumat",
        "UU 25/2009 Pasal 15 huruf b dan Pasal 22 ayat (2)",
        PROCEDURE,
        "UU 25/2009 Pasal 54 ayat (7)",
    ),
    ("sistem_informasi", "UU 25/2009 Pasal 23 ayat (4)", PROCEDURE, "UU 25/2009 Pasal 54 ayat (5)"),
    ("sarana_pengaduan", "UU 25/2009 Pasal 36 ayat (1)", PROCEDURE, "UU 25/2009 Pasal 54 ayat (4)"),
    (
        "petugas_pengaduan",
        "UU 25/2009 Pasal 36 ayat (4)",
        PROCEDURE,
        "UU 25/2009 Pasal 54 ayat (4)",
    ),
    (
        "pelayanan_khusus",
        "UU 25/2009 Pasal 29 ayat (1)",
        "diskriminasi",
        "UU 25/2009 Pasal 54 ayat (5)",
    ),
    (
        "tanpa_biaya_tambahan_rentan",
        "UU 25/2009 Penjelasan Pasal 29 ayat (1)",
        "permintaan imbalan",
        "UU 25/2009 Pasal 54 ayat (5)",
    ),
]


@pytest.mark.parametrize(
    ("obligation", "citation", "category", "sanction"),
    [pytest.param(*case, id=f"{case[1]}-{case[0]}-no-violation") for case in OBLIGATION_CASES],
)
def test_obligation_no_is_violation(obligation, citation, category, sanction):
    (finding,) = check(facts(obligations={obligation: "no"}), CATALOGUE)
    assert (finding.rule, finding.severity, finding.category, finding.citation) == (
        "obligation.unmet",
        "violation",
        category,
        citation,
    )
    assert finding.sanction.startswith(sanction + ": ")
    assert (finding.expected, finding.observed) == ("yes", "no")
    assert finding.service is None


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        pytest.param(
            "partial",
            [("obligation.partial", "warning")],
            id="UU25/2009-Ps22(2)-maklumat-partial-warning",
        ),
        pytest.param("yes", [], id="UU25/2009-Ps22(2)-maklumat-yes-lawful"),
        pytest.param("na", [], id="UU25/2009-Ps22(2)-maklumat-na-nothing"),
    ],
)
def test_obligation_partial_yes_na(answer, expected):
    found = check(facts(obligations={"maklumat": answer}), CATALOGUE)
    assert [(f.rule, f.severity) for f in found] == expected


def test_unknown_obligation_is_ignored_not_a_crash():
    assert check(facts(obligations={"tidak_ada": "no"}), CATALOGUE) == []


def test_order_is_deterministic_whatever_the_input_order():
    standards = [
        posted(KTP, fee=25000),
        posted(SIM_C, components=ALL - {"biaya"}, fee=150000),
        posted("imigrasi.paspor-biasa", components=set()),
        posted("polri.skck", days=None),
    ]
    obligations = {"pelayanan_khusus": "no", "maklumat": "partial", "standar_pelayanan": "no"}
    expected = check(facts(*standards, obligations=obligations), CATALOGUE)
    rng = random.Random(7)
    for _ in range(10):
        rng.shuffle(standards)
        shuffled = dict(rng.sample(sorted(obligations.items()), len(obligations)))
        assert check(facts(*standards, obligations=shuffled), CATALOGUE) == expected
    assert [f.service for f in expected[:4]] == [KTP, "imigrasi.paspor-biasa", SIM_C, SIM_C]
    assert [f.rule for f in expected[-3:]] == [
        "obligation.unmet",
        "obligation.partial",
        "obligation.unmet",
    ]


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "Rp0"), (25000, "Rp25.000"), (1500000, "Rp1.500.000"), (999, "Rp999")],
)
def test_rupiah(amount, text):
    assert format_param("fee_idr", amount, "id") == text
