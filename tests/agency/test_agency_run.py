"""An agency zoned from four dimensions by a real run, checked against hand-computed values,
and an agency short of one service-user interview left incomplete with its reason (issue 16)."""

from __future__ import annotations

from tests.agency.conftest import M2022

AGENCY = "PEMKOT-35.78"  # one unit: 35.78-DUKCAPIL (Surabaya)
UNIT = "35.78-DUKCAPIL"
SHORT = "PEMKOT-73.71"  # one unit: 73.71-DUKCAPIL (Makassar), 29 user interviews
SHORT_UNIT = "73.71-DUKCAPIL"


def complete_agency(field, agency=AGENCY, unit=UNIT, users=30):
    """The inputs of the hand-computed example (see test_four_dimensions_by_hand)."""
    field.inspect(M2022, unit, {"IN-FAS": 3, "PR-STD": 2})
    for answer in (3, 3, 2, 2):
        field.interview(M2022, "staf", agency, {"IN-STAF": answer}, unit=unit)
    for i in range(users):
        field.interview(M2022, "pengguna", agency, {"OUT-MAL": 3 if i < 20 else 2})
    for answer in (3, 1):
        field.interview(M2022, "petugas_pengaduan", agency, {"PG-TL": answer})


def test_four_dimensions_by_hand(field):
    complete_agency(field)
    # Noise that must not count: a rejected user interview scoring 0.
    field.interview(M2022, "pengguna", AGENCY, {"OUT-MAL": 0}, status="rejected")
    run_id = field.run(M2022)
    body = field.get(f"/api/v1/results?run={run_id}&level=agency").get_json()
    (row,) = body["items"]
    # Answers on 0-3 score 100 * answer / 3, two decimals, half up: 3 -> 100, 2 -> 66.67,
    # 1 -> 33.33.
    # Input: observed facility 3 -> 100.00 (weight 1); 4 staff 3, 3, 2, 2 -> mean 83.335
    #   (weight 3): (1 * 100 + 3 * 83.335) / 4 = 87.50125 -> 87.50
    # Proses: observed 2 -> 66.67
    # Output: 20 users x 100 + 10 x 66.67 = 2666.70 / 30 = 88.89
    # Pengaduan: officers 3, 1 -> (100 + 33.33) / 2 = 66.665 -> 66.67
    # Total: (21.85 * 87.50 + 32.37 * 66.67 + 24.24 * 88.89 + 21.54 * 66.67) / 100
    #      = (1911.875 + 2158.1079 + 2154.6936 + 1436.0718) / 100 = 76.607483 -> 76.61
    #   -> C "Kualitas Sedang" (56.00-77.99), kuning.
    dims = {d["code"]: d for d in row["dimensions"]}
    assert {k: d["score"] for k, d in dims.items()} == {
        "input": 87.50,
        "proses": 66.67,
        "output": 88.89,
        "pengaduan": 66.67,
    }
    assert {k: d["weight"] for k, d in dims.items()} == {
        "input": 21.85,
        "proses": 32.37,
        "output": 24.24,
        "pengaduan": 21.54,
    }
    sources = {s["source"]: s for s in dims["input"]["sources"]}
    assert sources["observation"]["score"] == 100.0 and sources["observation"]["units"] == 1
    assert sources["staf"]["score"] == 83.34 and sources["staf"]["records"] == 4
    assert dims["output"]["sources"][0]["records"] == 30  # the rejected one is not read
    assert (row["code"], row["score"], row["grade"], row["label"], row["zone"], row["rank"]) == (
        AGENCY,
        76.61,
        "C",
        "Kualitas Sedang",
        "kuning",
        1,
    )
    assert row["members"] == 1
    assert body["incomplete"] == []
    run = field.get(f"/api/v1/zoning-runs/{run_id}").get_json()
    assert run["counts"]["incomplete"] == 0
    assert run["counts"]["agencies"] == 1 and run["counts"]["units"] == 0
    # The regency and province are the mean of the complete agencies located there: this one.
    regency = field.get(f"/api/v1/results?run={run_id}&level=regency").get_json()["items"]
    assert [(r["code"], r["score"], r["zone"]) for r in regency] == [("35.78", 76.61, "kuning")]


def test_29_user_interviews_is_incomplete_with_the_reason(field):
    complete_agency(field)
    complete_agency(field, SHORT, SHORT_UNIT, users=29)
    run_id = field.run(M2022)
    body = field.get(f"/api/v1/results?run={run_id}&level=agency").get_json()
    assert [r["code"] for r in body["items"]] == [AGENCY]  # never zoned
    (short,) = body["incomplete"]
    assert short["code"] == SHORT
    assert "zone" not in short and short["score"] is None
    assert short["reasons"] == ["29 of the 30 wawancara pengguna layanan records needed."]
    (gap,) = short["gaps"]
    assert (gap["source"], gap["have"], gap["need"]) == ("pengguna", 29, 30)
    # Its dimension scores are still shown: Output from 20 x 100 + 9 x 66.67 = 2600.03 / 29.
    assert {d["code"]: d["score"] for d in short["dimensions"]}["output"] == 89.66
    in_id = field.get(f"/api/v1/results?run={run_id}&level=agency", language="id").get_json()
    assert in_id["incomplete"][0]["reasons"] == [
        "29 dari 30 catatan wawancara pengguna layanan yang diperlukan."
    ]
    run = field.get(f"/api/v1/zoning-runs/{run_id}").get_json()
    assert run["counts"]["incomplete"] == 1 and run["counts"]["agencies"] == 1
    # Makassar's province has no complete agency: no row, rather than a zone from nothing.
    provinces = field.get(f"/api/v1/results?run={run_id}&level=province").get_json()["items"]
    assert [p["code"] for p in provinces] == ["35"]


def test_rerunning_gives_identical_numbers(field):
    complete_agency(field)
    complete_agency(field, SHORT, SHORT_UNIT, users=29)
    first, second = field.run(M2022), field.run(M2022)

    def numbers(run_id):
        body = field.get(f"/api/v1/results?run={run_id}&level=agency").get_json()
        return [(r["code"], r["score"], r["zone"], r["dimensions"]) for r in body["items"]], body[
            "incomplete"
        ]

    assert numbers(first) == numbers(second)


def test_units_are_not_zoned_and_their_result_points_to_the_agency(field):
    complete_agency(field)
    run_id = field.run(M2022)
    units = field.get(f"/api/v1/results?run={run_id}&level=unit").get_json()
    assert units["items"] == [] and units["total"] == 0
    response = field.get(f"/api/v1/units/{UNIT}/result?run={run_id}")
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["details"]["agency"] == AGENCY and error["details"]["zoned_level"] == "agency"
    assert AGENCY in error["message"]


def test_agency_result_endpoint(field):
    complete_agency(field)
    complete_agency(field, SHORT, SHORT_UNIT, users=29)
    run_id = field.run(M2022)
    body = field.get(f"/api/v1/agencies/{AGENCY}/result?run={run_id}").get_json()
    assert body["run_id"] == run_id and body["agency"]["code"] == AGENCY
    assert (body["result"]["score"], body["result"]["grade"]) == (76.61, "C")
    assert body["subject"]["is_complete"] and body["subject"]["units"] == [UNIT]
    assert body["subject"]["counts"] == {
        "observation": 1,
        "staf": 4,
        "pengguna": 30,
        "petugas_pengaduan": 2,
    }
    # The unit drill-down: the unit's own mean per source (the unit itself is not zoned).
    assert body["subject"]["unit_inputs"] == [
        {
            "unit": UNIT,
            "sources": [
                {
                    "source": "observation",
                    "name": "observations at visits",
                    "records": 1,
                    "dimensions": [
                        {"code": "input", "name": "Input", "score": 100.0},
                        {"code": "proses", "name": "Proses", "score": 66.67},
                    ],
                },
                {
                    "source": "staf",
                    "name": "wawancara petugas layanan",
                    "records": 4,
                    "dimensions": [{"code": "input", "name": "Input", "score": 83.34}],
                },
            ],
        }
    ]
    short = field.get(f"/api/v1/agencies/{SHORT}/result?run={run_id}").get_json()
    assert short["result"] is None and not short["subject"]["is_complete"]
    assert short["subject"]["reasons"] == [
        "29 of the 30 wawancara pengguna layanan records needed."
    ]
    none = field.get(f"/api/v1/agencies/KANIM-21.71/result?run={run_id}")
    assert none.status_code == 404
    unknown = field.get(f"/api/v1/agencies/NOPE/result?run={run_id}")
    assert unknown.status_code == 404


def test_a_regional_run_reads_only_agencies_located_there(field):
    complete_agency(field)
    complete_agency(field, SHORT, SHORT_UNIT)
    run_id = field.run(M2022, region="35")
    body = field.get(f"/api/v1/results?run={run_id}&level=agency").get_json()
    assert [r["code"] for r in body["items"]] == [AGENCY]
    assert body["incomplete"] == []


def test_an_inspection_may_not_answer_an_interview_question(field):
    body = field.factory.submission(
        unit_code=UNIT,
        methodology=M2022,
        answers={"IN-FAS": {"value": 3}, "PR-STD": {"value": 3}, "OUT-MAL": {"value": 3}},
        posted_standards=[],
    )
    from tests.helpers import post_json

    response = post_json(field.client, "/api/v1/inspections", body, field.admin)
    assert response.status_code == 422
    fields = response.get_json()["error"]["details"]["fields"]
    assert list(fields) == ["answers.OUT-MAL"]


def test_the_cli_runs_and_reports_the_incomplete(field):
    complete_agency(field)
    complete_agency(field, SHORT, SHORT_UNIT, users=29)
    runner = field.app.test_cli_runner()
    result = runner.invoke(args=["rescore", "--methodology", M2022, "--full", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "agency        1: merah 0, kuning 1, hijau 0" in result.output
    assert "1 agency(s) incomplete, not zoned" in result.output
