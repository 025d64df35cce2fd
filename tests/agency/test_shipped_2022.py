"""The shipped ombudsman-2022 file through a real run (issue 16): an agency with complete
observations and interviews, checked against a hand-computed total, and with 29 users."""

from __future__ import annotations

from fieldcheck.catalogue.methodology import load_methodology
from fieldcheck.catalogue.registry import METHODOLOGY_DIR
from tests.helpers import post_json

M = load_methodology(METHODOLOGY_DIR / "ombudsman-2022.toml")
AGENCY, UNIT = "PEMKOT-35.78", "35.78-DUKCAPIL"


def _questions(instrument, answer):
    return {q.code: answer for q in M.questions(instrument)}


def _inputs(field, users):
    from sqlalchemy import update

    from fieldcheck.extensions import db
    from fieldcheck.inspections.models import Inspection

    body = field.factory.all_yes_submission(UNIT, methodology=M.id)
    # Every observed unit-wide duty at the top of its 0-3 scale; the products' components come
    # from the posted standards (all six shown, lawful: each component 1).
    body["answers"] = {i.code: {"value": 3} for i in M.observed_indicators if i.scope == "unit"}
    body = field.factory.with_evidence(body, field.admin)
    response = post_json(field.client, "/api/v1/inspections", body, field.admin)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["score"] == 100.0
    with field.app.app_context():
        db.session.execute(
            update(Inspection)
            .where(Inspection.id == response.get_json()["id"])
            .values(status="approved")
        )
        db.session.commit()
    for _ in range(4):
        field.interview(M.id, "staf", AGENCY, _questions("staf", 3), unit=UNIT)
    for i in range(users):
        field.interview(M.id, "pengguna", AGENCY, _questions("pengguna", 2 if i % 2 else 3))
    for _ in range(2):
        field.interview(M.id, "petugas_pengaduan", AGENCY, _questions("petugas_pengaduan", 3))


def test_an_agency_under_the_shipped_2022_method(field):
    _inputs(field, users=30)
    run_id = field.run(M.id)
    body = field.get(f"/api/v1/results?run={run_id}&level=agency").get_json()
    (row,) = body["items"]
    # Input: staff all 3 and observed facilities all 3 -> 100.00; Proses: duties all 3 and every
    # component posted lawfully -> 100.00; Pengaduan: all 3 -> 100.00.
    # Output: 15 users answering 3 (100.00) and 15 answering 2 (66.67 each record):
    #   (15 * 100 + 15 * 66.67) / 30 = 83.335 -> 83.34
    # Total: (21.85 * 100 + 32.37 * 100 + 24.24 * 83.34 + 21.54 * 100) / 100
    #      = (7576 + 2020.1616) / 100 = 95.961616 -> 95.96 -> A "Kualitas Tertinggi", hijau.
    assert {d["code"]: d["score"] for d in row["dimensions"]} == {
        "input": 100.0,
        "proses": 100.0,
        "output": 83.34,
        "pengaduan": 100.0,
    }
    assert (row["score"], row["grade"], row["label"], row["zone"]) == (
        95.96,
        "A",
        "Kualitas Tertinggi",
        "hijau",
    )


def test_29_users_under_the_shipped_method_is_incomplete(field):
    _inputs(field, users=29)
    run_id = field.run(M.id)
    body = field.get(f"/api/v1/results?run={run_id}&level=agency", language="id").get_json()
    assert body["items"] == []
    (short,) = body["incomplete"]
    assert short["code"] == AGENCY
    assert len(short["reasons"]) == 1 and short["reasons"][0].startswith("29 dari 30 ")
