"""The 2025 draft structure (five dimensions, kepercayaan masyarakat 30%, four zones) end to
end: a what-if (dry) run of the draft zones agencies into hitam, merah, kuning and hijau, and
the map, the dashboard and the exports show all four (issue 16)."""

from __future__ import annotations

import csv
import io

import pytest

from tests.agency.conftest import M2022, M2025

ORDER = ["hitam", "merah", "kuning", "hijau"]
#: Agency, its one sampled unit, the answer every one of its records gives, the zone expected:
#: 0-3 answers score 0 / 33.33 / 66.67 / 100; each dimension is that value, and so is the total
#: (weights sum to 100): 0 -> hitam (0-31.99), 33.33 -> merah (32-53.99), 66.67 -> kuning
#: (54-77.99), 100 -> hijau (88-100).
AGENCIES = [
    ("KANIM-21.71", "21.71-KANIM", 0, "hitam"),
    ("PEMKOT-73.71", "73.71-DUKCAPIL", 1, "merah"),
    ("PEMKOT-13.71", "13.71-DUKCAPIL", 2, "kuning"),
    ("PEMKOT-35.78", "35.78-DUKCAPIL", 3, "hijau"),
]


@pytest.fixture
def what_if(field):
    """The four agencies' inputs and a dry run of the draft; returns the run id.

    A draft takes no inspections (intake refuses it): visits and staff and complaint-officer
    interviews were recorded under the published 2022 structure and are re-scored by the draft
    in the run; the service users answered the draft's questionnaire (with its trust question)
    in a pilot, so their records carry the draft's hash and keep their stored scores.
    """
    for agency, unit, answer, _zone in AGENCIES:
        field.inspect(M2022, unit, {"IN-FAS": answer, "PR-STD": answer})
        for _ in range(4):
            field.interview(M2022, "staf", agency, {"IN-STAF": answer}, unit=unit)
        for _ in range(30):
            field.interview(M2025, "pengguna", agency, {"OUT-MAL": answer, "KP-PERCAYA": answer})
        for _ in range(2):
            field.interview(M2022, "petugas_pengaduan", agency, {"PG-TL": answer})
    return field.run(M2025, dry_run=True)


def test_a_draft_is_refused_outside_a_dry_run(field):
    from fieldcheck.errors import ApiError
    from fieldcheck.zoning.services import create_run

    with field.app.app_context(), pytest.raises(ApiError):
        create_run(methodology_id=M2025, period=2026, dry_run=False)


def test_the_what_if_zones_agencies_into_four_zones(field, what_if):
    body = field.get(f"/api/v1/results?run={what_if}&level=agency").get_json()
    assert body["dry_run"] is True
    got = {r["code"]: (r["zone"], r["grade"]) for r in body["items"]}
    assert {code: zone for code, (zone, _g) in got.items()} == {
        agency: zone for agency, _u, _a, zone in AGENCIES
    }
    assert got["PEMKOT-35.78"][1] == "Opini A"
    row = next(r for r in body["items"] if r["code"] == "PEMKOT-73.71")
    dims = {d["code"]: (d["weight"], d["score"]) for d in row["dimensions"]}
    assert dims["kepercayaan"] == (30.0, 33.33) and dims["input"] == (15.295, 33.33)
    run = field.get(f"/api/v1/zoning-runs/{what_if}").get_json()
    assert run["counts"]["zones"]["agency"] == dict.fromkeys(ORDER, 1)


def test_the_map_shows_the_four_zones(field, what_if):
    body = field.get(f"/api/v1/map/provinces?run={what_if}").get_json()
    zones = {f["properties"]["code"]: f["properties"].get("zone") for f in body["features"]}
    assert (zones["21"], zones["73"], zones["13"], zones["35"]) == tuple(ORDER)
    assert [z["code"] for z in body["zones"]] == ORDER


def test_the_dashboard_counts_four_zones(field, what_if):
    body = field.get(f"/api/v1/dashboard?run={what_if}").get_json()
    zones = body["results"]["zones"]
    assert zones["agency"] == dict.fromkeys(ORDER, 1)
    assert list(zones["province"]) == ORDER and sum(zones["province"].values()) == 4


def test_the_export_filters_hitam(field, what_if):
    response = field.get(f"/api/v1/exports/results?run={what_if}&level=agency&zone=hitam")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 2, rows
    assert "KANIM-21.71" in rows[1] and "hitam" in rows[1]


def test_the_run_page_writes_the_weights_as_they_are(app, field, what_if):
    """Trial of issue 16: the run page rounded the weight 15.295 to "bobot 15,30" while the
    methodology page and the API say 15.295."""
    from fieldcheck.auth.models import User
    from fieldcheck.auth.passwords import set_password, set_username
    from fieldcheck.extensions import db
    from tests.web.pages import Pages

    with app.app_context():
        user = db.session.get(User, field.admin_id)
        set_username(user, "admin-bobot", actor=None)
        set_password(user, "bobot-apa-adanya", actor=None, must_change=False)
        db.session.commit()
    pages = Pages(app.test_client())
    pages.login("admin-bobot", "bobot-apa-adanya")
    html = pages.get(f"/runs/{what_if}").get_data(as_text=True)
    assert "bobot 15,295" in html and "bobot 30<" in html and "15,30" not in html
    agency = pages.get(f"/agencies/PEMKOT-73.71?run={what_if}").get_data(as_text=True)
    assert ">15,295<" in agency
