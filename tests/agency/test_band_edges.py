"""Category edges of the 2022 method: the agency total banded through ``score_subject`` with
crafted records (every edge), and two edges through real runs (issue 16)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from fieldcheck.catalogue.methodology import load_methodology
from fieldcheck.core.dimensions import OBSERVATION, Record, score_subject
from tests.agency.conftest import EDGES, METHODOLOGIES

M = load_methodology(METHODOLOGIES / "uji-2022.toml")


def records(input_, proses, output, pengaduan, users=30):
    """One unit observed and with its 4 staff, 30 users and 2 officers, every record of a
    source scoring the same: each dimension then scores exactly the value given."""
    out = [Record(OBSERVATION, "U", {"input": D(input_), "proses": D(proses)})]
    out += [Record("staf", "U", {"input": D(input_)}) for _ in range(4)]
    out += [Record("pengguna", None, {"output": D(output)}) for _ in range(users)]
    out += [Record("petugas_pengaduan", None, {"pengaduan": D(pengaduan)}) for _ in range(2)]
    return out


@pytest.mark.parametrize(
    ("value", "grade", "label", "zone"),
    [
        ("100.00", "A", "Kualitas Tertinggi", "hijau"),
        ("88.00", "A", "Kualitas Tertinggi", "hijau"),
        ("87.99", "B", "Kualitas Tinggi", "hijau"),
        ("78.00", "B", "Kualitas Tinggi", "hijau"),
        ("77.99", "C", "Kualitas Sedang", "kuning"),
        ("56.00", "C", "Kualitas Sedang", "kuning"),
        ("55.99", "D", "Kualitas Rendah", "merah"),
        ("26.00", "D", "Kualitas Rendah", "merah"),
        ("25.99", "E", "Kualitas Terendah", "merah"),
        ("0.00", "E", "Kualitas Terendah", "merah"),
    ],
)
def test_every_edge_when_all_dimensions_equal(value, grade, label, zone):
    # Weights sum to 100: equal dimension scores give that score as the total.
    result = score_subject(M, records(value, value, value, value))
    assert (result.score, result.grade, result.label, result.zone) == (D(value), grade, label, zone)


@pytest.mark.parametrize(
    ("dims", "total", "grade"),
    [
        # (21.85 * 80 + 32.37 * 76.30 + 24.24 * 80 + 21.54 * 75.22) / 100
        # = (1748 + 2469.831 + 1939.2 + 1620.2388) / 100 = 77.772698 -> 77.77 -> C
        (("80.00", "76.30", "80.00", "75.22"), "77.77", "C"),
        # (21.85 * 78 + 32.37 * 78 + 24.24 * 78 + 21.54 * 78.05) / 100
        # = 78 + 21.54 * 0.05 / 100 = 78.010770 -> 78.01 -> B
        (("78.00", "78.00", "78.00", "78.05"), "78.01", "B"),
        # (21.85 * 88 + 32.37 * 87.98 + 24.24 * 88 + 21.54 * 88) / 100
        # = 88 - 32.37 * 0.02 / 100 = 87.993526 -> 87.99 -> B
        (("88.00", "87.98", "88.00", "88.00"), "87.99", "B"),
        # (21.85 * 56 + 32.37 * 56 + 24.24 * 55.98 + 21.54 * 56) / 100
        # = 56 - 24.24 * 0.02 / 100 = 55.995152 -> 56.00 (half up) -> C
        (("56.00", "56.00", "55.98", "56.00"), "56.00", "C"),
        # 26 - 21.85 * 0.03 / 100 = 25.993445 -> 25.99 -> E
        (("25.97", "26.00", "26.00", "26.00"), "25.99", "E"),
    ],
)
def test_weighted_totals_near_the_edges(dims, total, grade):
    result = score_subject(M, records(*dims))
    assert (result.score, result.grade) == (D(total), grade)


def test_29_users_leave_the_total_unbanded():
    result = score_subject(M, records("90", "90", "90", "90", users=29))
    assert (result.score, result.zone, result.grade) == (None, None, None)
    assert [(g.source, g.have, g.need) for g in result.gaps] == [("pengguna", 29, 30)]


def test_edges_through_a_real_run(field):
    # uji-tepi: answers on 0-10000, a record scores answer / 100; every source of one agency
    # answers the same, so each dimension and the total are that value.
    for agency, unit, answer in (
        ("PEMKOT-35.78", "35.78-DUKCAPIL", 7799),  # 77.99 -> C kuning
        ("PEMKOT-73.71", "73.71-DUKCAPIL", 7800),  # 78.00 -> B hijau
        ("KANIM-21.71", "21.71-KANIM", 2599),  # 25.99 -> E merah
        ("POLRESTA-35.15", "35.15-SATPAS", 2600),  # 26.00 -> D merah
    ):
        field.inspect(EDGES, unit, {"IN-FAS": answer, "PR-STD": answer})
        field.interview(EDGES, "staf", agency, {"IN-STAF": answer}, unit=unit)
        field.interview(EDGES, "pengguna", agency, {"OUT-MAL": answer})
        field.interview(EDGES, "petugas_pengaduan", agency, {"PG-TL": answer})
    run_id = field.run(EDGES)
    body = field.get(f"/api/v1/results?run={run_id}&level=agency").get_json()
    got = {r["code"]: (r["score"], r["grade"], r["zone"]) for r in body["items"]}
    assert got == {
        "PEMKOT-73.71": (78.00, "B", "hijau"),
        "PEMKOT-35.78": (77.99, "C", "kuning"),
        "POLRESTA-35.15": (26.00, "D", "merah"),
        "KANIM-21.71": (25.99, "E", "merah"),
    }
    # Province 35: the mean of its complete agencies, (77.99 + 26.00) / 2 = 51.995 -> 52.00.
    provinces = field.get(f"/api/v1/results?run={run_id}&level=province").get_json()["items"]
    assert {p["code"]: (p["score"], p["members"]) for p in provinces}["35"] == (52.00, 2)
