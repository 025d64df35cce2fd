"""A unit-level methodology with unit-level questionnaires (the shape of SKM) through a real run:
units zoned from their respondents, the agency the mean of its complete units, a unit short of
respondents incomplete (issue 16)."""

from __future__ import annotations

SKM = "uji-skm"
AGENCY = "PEMKAB-35.15"


def test_units_zoned_from_questionnaires(field):
    # A 1-4 answer scores 25 * answer (25 + 75 * (answer - 1) / 3) on the 25-100 scale; a
    # record is the mean of its two answers.
    for unit, answers in (
        ("35.15-DUKCAPIL", [(4, 4), (3, 3)]),  # 100, 75 -> 87.50 -> B, hijau
        ("35.15-RSUD", [(2, 2), (2, 3)]),  # 50, 62.50 -> 56.25 -> D, merah
        ("35.15-DPMPTSP", [(4, 4)]),  # 1 of 2 respondents: incomplete
    ):
        for u1, u2 in answers:
            field.interview(SKM, "responden", AGENCY, {"U1": u1, "U2": u2}, unit=unit)
    run_id = field.run(SKM)
    units = field.get(f"/api/v1/results?run={run_id}&level=unit").get_json()
    got = {r["code"]: (r["score"], r["grade"], r["zone"], r["rank"]) for r in units["items"]}
    assert got == {
        "35.15-DUKCAPIL": (87.5, "B", "hijau", 1),
        "35.15-RSUD": (56.25, "D", "merah", 2),
    }
    dims = {r["code"]: r["dimensions"] for r in units["items"]}
    assert dims["35.15-DUKCAPIL"][0]["sources"][0]["records"] == 2
    (short,) = units["incomplete"]
    assert short["code"] == "35.15-DPMPTSP"
    assert short["reasons"] == [
        "Unit 35.15-DPMPTSP has 1 of the 2 kuesioner responden records needed."
    ]
    # The agency: the mean of its complete units, (87.50 + 56.25) / 2 = 71.875 -> 71.88 -> C.
    agencies = field.get(f"/api/v1/results?run={run_id}&level=agency").get_json()["items"]
    assert [(a["code"], a["score"], a["grade"], a["members"]) for a in agencies] == [
        (AGENCY, 71.88, "C", 2)
    ]
    run = field.get(f"/api/v1/zoning-runs/{run_id}").get_json()
    assert run["counts"]["incomplete"] == 1 and run["counts"]["units"] == 2
    assert run["counts"]["zones"]["unit"] == {"merah": 1, "kuning": 0, "hijau": 1}


def test_a_questionnaire_unit_result(field):
    for u1, u2 in ((4, 4), (3, 3)):
        field.interview(SKM, "responden", AGENCY, {"U1": u1, "U2": u2}, unit="35.15-DUKCAPIL")
    run_id = field.run(SKM)
    body = field.get(f"/api/v1/units/35.15-DUKCAPIL/result?run={run_id}").get_json()
    assert (body["score"], body["grade"], body["is_reproducible"]) == (87.5, "B", True)
    (dim,) = body["dimensions"]
    assert (dim["code"], dim["score"], dim["sources"][0]["records"]) == ("kepuasan", 87.5, 2)
