"""GET /api/v1/interviews/coverage: records per instrument against the quotas, per agency and per
sampled unit, counted as core.dimensions counts them (rejected records do not count)."""

from __future__ import annotations

import pytest

from tests.interviews.conftest import URL, M

COVERAGE = f"{URL}/coverage?methodology={M}&period=2026"


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


def test_default_methodology_is_the_newest_with_interviews(people):
    # ombudsman-2022 (from 2022) is newer than the test methodology (from 2014).
    response = people.get(f"{URL}/coverage?period=2026")
    assert response.status_code == 200
    assert response.get_json()["methodology"] == "ombudsman-2022"
    # In 2020 the SKM survey (from 2017) is the newest in force with interviews, newer than the
    # test methodology (from 2014).
    assert people.get(f"{URL}/coverage?period=2020").get_json()["methodology"] == (
        "kemenpanrb-skm-2017"
    )


def _auth(people):
    return {"Authorization": f"Bearer {people.tokens['supervisor']}"}


def test_coverage_counts_the_visits_and_interviews_a_run_reads(world, app):
    """Trial of issue 16: coverage said "0 of 1 units visited" where the run scored Proses from
    a visit made under another methodology. Both now count every approved visit of the period
    and the interviews the methodology's instruments ask, whatever methodology they were made
    under; a run then samples the same units coverage lists."""
    from tests.conftest import Factory
    from tests.helpers import post_json

    body = Factory.submission(
        unit_code="35.15-DPMPTSP",
        methodology="ombudsman-2019",
        posted_standards=[
            {
                "service": "dpmptsp.nib",
                "components": ["persyaratan", "prosedur", "waktu", "biaya", "produk", "pengaduan"],
            }
        ],
    )
    posted = post_json(world.client, "/api/v1/inspections", body, world.tokens["surveyor"])
    assert posted.status_code == 201, posted.get_json()
    with app.app_context():
        from sqlalchemy import update

        from fieldcheck.extensions import db
        from fieldcheck.inspections.models import Inspection
        from fieldcheck.zoning.lifecycle import execute
        from fieldcheck.zoning.models import ZoningSubject
        from fieldcheck.zoning.services import create_run

        db.session.execute(
            update(Inspection)
            .where(Inspection.id == posted.get_json()["id"])
            .values(status="approved")
        )
        run_id = create_run(methodology_id=M, period=2026, dry_run=True).id
        db.session.commit()
        assert execute(run_id).state == "succeeded"
        subject = db.session.execute(
            db.select(ZoningSubject).where(
                ZoningSubject.run_id == run_id, ZoningSubject.code == "PEMKAB-35.15"
            )
        ).scalar_one()
        run_gaps = {(g["source"], g.get("unit")) for g in subject.gaps}
    short = _agencies(world.client.get(COVERAGE, headers=_auth(world)))["PEMKAB-35.15"]
    units = {u["unit_code"]: u for u in short["units"]}
    assert units["35.15-DPMPTSP"]["inspections"] == 1
    coverage_gaps = {(g["source"], g["unit"]) for g in short["gaps"]}
    assert ("observation", "35.15-DPMPTSP") not in coverage_gaps
    assert coverage_gaps == run_gaps
