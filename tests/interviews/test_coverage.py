"""GET /api/v1/interviews/coverage: records per instrument against the quotas, per agency and per
sampled unit, counted as core.dimensions counts them (rejected records do not count)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from fieldcheck.extensions import db
from tests.helpers import post_json
from tests.interviews.conftest import URL, M, record

COVERAGE = f"{URL}/coverage?methodology={M}&period=2026"


def visit(people, app, unit: str, approve: bool = True) -> int:
    """An inspection of ``unit`` under the test methodology (its one observed indicator),
    approved as a supervisor would."""
    from fieldcheck.inspections.models import Inspection
    from tests.conftest import Factory

    body = Factory.submission(
        unit_code=unit,
        methodology=M,
        answers={"P-01": {"value": 2}},
        posted_standards=[],
        started_at="2026-03-10T02:00:00Z",
        finished_at="2026-03-10T03:00:00Z",
    )
    response = post_json(people.client, "/api/v1/inspections", body, people.tokens["surveyor"])
    assert response.status_code == 201, response.get_json()
    inspection_id = response.get_json()["id"]
    if approve:
        with app.app_context():
            db.session.execute(
                update(Inspection).where(Inspection.id == inspection_id).values(status="approved")
            )
            db.session.commit()
    return inspection_id


@pytest.fixture
def world(people, app):
    """Sidoarjo's agency short: 29 counted users (a 30th rejected), Dukcapil complete, DPMPTSP
    3 of 4 staff and never visited; Surabaya's agency complete."""
    # Sidoarjo (PEMKAB-35.15)
    visit(people, app, "35.15-DUKCAPIL")
    visit(people, app, "35.15-RSUD", approve=False)  # received, not approved: does not count
    for _ in range(4):
        people.stored(record("staf", unit="35.15-DUKCAPIL"))
    for _ in range(3):
        people.stored(record("staf", unit="35.15-DPMPTSP"))
    users = [people.stored(record()) for _ in range(30)]
    for _ in range(2):
        people.stored(record("petugas_pengaduan"))
    rejected = post_json(
        people.client,
        f"{URL}/{users[0]['id']}/reject",
        {"reason": "Responden bukan pengguna layanan"},
        people.tokens["supervisor"],
    )
    assert rejected.status_code == 200
    # Surabaya (PEMKOT-35.78): complete.
    visit(people, app, "35.78-DUKCAPIL")
    for _ in range(4):
        people.stored(record("staf", unit="35.78-DUKCAPIL"))
    for _ in range(30):
        people.stored(record(agency="PEMKOT-35.78"))
    for _ in range(2):
        people.stored(record("petugas_pengaduan", agency="PEMKOT-35.78"))
    # Another year and another region do not count here.
    people.stored(record(interview_date="2025-06-01"))
    return people


def _agencies(response):
    assert response.status_code == 200, response.get_json()
    return {a["agency_code"]: a for a in response.get_json()["agencies"]}


def test_coverage_counts_like_the_core(world):
    body = world.client.get(COVERAGE, headers={**_auth(world), "Accept-Language": "id"})
    agencies = _agencies(body)
    short = agencies["PEMKAB-35.15"]
    assert not short["complete"]
    by = {i["code"]: i for i in short["instruments"]}
    assert (by["pengguna"]["have"], by["pengguna"]["need"]) == (29, 30)
    assert by["pengguna"]["summary"] == "29 dari 30 wawancara pengguna layanan"
    assert (by["petugas_pengaduan"]["have"], by["petugas_pengaduan"]["complete"]) == (2, True)
    # Staff per sampled unit: Dukcapil 4 of 4, DPMPTSP 3 of 4 -> 7 of 8, one unit short.
    assert (by["staf"]["have"], by["staf"]["need"], by["staf"]["units_short"]) == (7, 8, 1)
    units = {u["unit_code"]: u for u in short["units"]}
    assert set(units) == {"35.15-DUKCAPIL", "35.15-DPMPTSP"}
    assert units["35.15-DUKCAPIL"]["complete"] and units["35.15-DUKCAPIL"]["inspections"] == 1
    assert units["35.15-DPMPTSP"]["instruments"]["staf"] == {"have": 3, "need": 4}
    assert (short["units_total"], short["units_sampled"], short["units_visited"]) == (4, 2, 1)
    gaps = {(g["source"], g["unit"], g["have"], g["need"]) for g in short["gaps"]}
    assert gaps == {
        ("pengguna", None, 29, 30),
        ("staf", "35.15-DPMPTSP", 3, 4),
        ("observation", "35.15-DPMPTSP", 0, 1),
    }
    assert all(g["message"] for g in short["gaps"])
    complete = agencies["PEMKOT-35.78"]
    assert complete["complete"] and complete["gaps"] == []
    assert all(i["complete"] for i in complete["instruments"])
    # An agency of the region with no record at all: listed, incomplete.
    assert not agencies["POLRESTA-35.15"]["complete"]
    # Outside the supervisor's region: not listed.
    assert "PEMKOT-13.71" not in agencies


def test_coverage_agrees_with_the_core_result(world, app):
    """The same records through score_subject: incomplete with the same quota gaps."""
    from fieldcheck.catalogue.registry import get_registry
    from fieldcheck.zoning.interview_coverage import coverage

    with app.test_request_context():
        from fieldcheck.auth.models import User

        admin = db.session.get(User, world.ids["admin"])
        result = coverage(admin, methodology_id=M, period=2026)
        by = {a.code: a for a in result.agencies}
        assert get_registry().methodology(M).instrument("pengguna").quota == 30
        assert not by["PEMKAB-35.15"].complete
        assert by["PEMKOT-35.78"].complete


def test_region_filter_and_scope(world):
    agencies = _agencies(world.get(f"{COVERAGE}&region=35.78", "admin"))
    assert set(agencies) == {"PEMKOT-35.78"}
    response = world.get(f"{COVERAGE}&region=13", "supervisor")
    assert response.status_code == 403
    assert world.get(COVERAGE, "surveyor").status_code == 403
    # The supervisor out of region sees their own agencies, with nothing counted.
    out = _agencies(world.get(COVERAGE, "supervisor_out"))
    assert "PEMKAB-35.15" not in out and "PEMKOT-13.71" in out


@pytest.mark.parametrize(
    "query",
    [
        "methodology=ombudsman-2019",
        "methodology=tidak-ada",
        "period=1999",
        "period=abc",
        "region=" + "9" * 40,
        "nama=1",
    ],
)
def test_bad_coverage_queries(people, query):
    response = people.get(f"{URL}/coverage?{query}")
    assert response.status_code == 422, response.get_json()


def test_default_methodology_is_the_one_with_interviews(people):
    response = people.get(f"{URL}/coverage?period=2026")
    assert response.status_code == 200
    assert response.get_json()["methodology"] == M


def _auth(people):
    return {"Authorization": f"Bearer {people.tokens['supervisor']}"}
