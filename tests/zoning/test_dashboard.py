"""The supervisors' dashboard and the province map, through HTTP, against stored results."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.units.dirty import mark_unit_dirty
from fieldcheck.units.models import Unit
from fieldcheck.zoning.lifecycle import execute
from fieldcheck.zoning.services import create_run, current_period
from tests.helpers import auth, post_json
from tests.world import make_world


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def _approve_and_publish(world, app, codes: list[str]) -> int:
    """Approve the inspections of ``codes``, run nationally for this period, publish."""
    with app.app_context():
        ids = select(Unit.id).where(Unit.code.in_(codes))
        db.session.execute(
            update(Inspection).where(Inspection.unit_id.in_(ids)).values(status="approved")
        )
        for unit_id in db.session.execute(ids).scalars():
            mark_unit_dirty(unit_id, "review")
        run = create_run(period=current_period(), full=True)
        db.session.commit()
        run_id = run.id
        assert execute(run_id).state == "succeeded"
    published = post_json(
        world.client, f"/api/v1/zoning-runs/{run_id}/publish", {}, world.token("admin")
    )
    assert published.status_code == 200
    return run_id


def test_dashboard_counts_the_queue_the_zones_and_coverage(world, app):
    world.post(unit="35.15-DUKCAPIL")
    world.post(unit="35.15-DPMPTSP")
    waiting = world.post_with_findings()  # 35.15-DUKCAPIL again, stays in the queue
    run_id = _approve_and_publish(world, app, ["35.15-DPMPTSP"])
    # The approved DPMPTSP inspection counts; DUKCAPIL's two stay received (not in the run).
    body = world.get("/api/v1/dashboard", "supervisor").get_json()
    assert body["region"] == {"code": "35", "name": body["region"]["name"], "level": "province"}
    queue = body["review_queue"]
    assert queue["received"] == 2 and queue["objections_pending"] == 0
    assert queue["oldest_received_at"].endswith("+07:00")
    assert body["inspections"]["by_status"] == {
        "received": 2,
        "approved": 1,
        "rejected": 0,
        "returned": 0,
    }
    assert body["inspections"]["total"] == body["inspections"]["last_7_days"] == 3
    results = body["results"]
    assert (results["run_id"], results["is_published"]) == (run_id, True)
    # The zone counts agree with the results the same supervisor reads row by row.
    for level in ("unit", "agency", "regency", "province"):
        rows = world.get(f"/api/v1/results?level={level}&per_page=200", "supervisor").get_json()
        expected = {"merah": 0, "kuning": 0, "hijau": 0}
        for row in rows["items"]:
            expected[row["zone"]] += 1
        assert results["zones"][level] == expected, level
    regencies = world.get("/api/v1/results?level=regency", "supervisor").get_json()["items"]
    lowest = sorted(regencies, key=lambda r: (r["score"], r["code"]))[:5]
    assert [(r["code"], r["score"]) for r in results["lowest_regencies"]] == [
        (r["code"], r["score"]) for r in lowest
    ]
    with app.app_context():
        in_35 = db.session.execute(
            select(func.count()).select_from(Unit).where(Unit.region_code.like("35%"))
        ).scalar_one()
    assert results["units"] == {
        "total": in_35,
        "with_result": 1,
        "without_result": in_35 - 1,
        "overrides_in_force": 0,
    }
    assert body["latest_run"]["id"] == run_id and body["latest_run"]["state"] == "succeeded"
    assert results["final_zones"]["unit"] == results["zones"]["unit"]  # no override yet
    # An override for the run's period moves the unit's final zone, not the computed counts.
    computed = world.get("/api/v1/units/35.15-DPMPTSP/result", "supervisor").get_json()["zone"]
    other = "merah" if computed != "merah" else "hijau"
    overridden = post_json(
        world.client,
        "/api/v1/units/35.15-DPMPTSP/override",
        {"zone": other, "reason": "Temuan lapangan", "period": results["period"]},
        world.token("supervisor"),
    )
    assert overridden.status_code == 201
    after = world.get("/api/v1/dashboard", "supervisor").get_json()["results"]
    assert after["zones"] == results["zones"]
    moved = dict(results["zones"]["unit"])
    moved[computed] -= 1
    moved[other] += 1
    assert after["final_zones"]["unit"] == moved
    assert after["units"]["overrides_in_force"] == 1
    # An objection waiting for a decision shows in the queue.
    finding = waiting["findings"][0]["id"]
    objected = post_json(
        world.client,
        f"/api/v1/findings/{finding}/objections",
        {"text": "Unit keberatan"},
        world.token("supervisor"),
    )
    assert objected.status_code == 201
    again = world.get("/api/v1/dashboard", "supervisor").get_json()
    assert again["review_queue"]["objections_pending"] == 1


def test_dashboard_is_limited_to_the_callers_region(world, app):
    world.post(unit="35.15-DUKCAPIL")
    outside = world.get("/api/v1/dashboard", "supervisor_out").get_json()
    assert outside["region"]["code"] == "13"
    assert outside["review_queue"]["received"] == 0
    assert outside["inspections"]["total"] == 0
    national = world.get("/api/v1/dashboard", "admin").get_json()
    assert national["region"] is None and national["review_queue"]["received"] == 1
    narrowed = world.get("/api/v1/dashboard?region=35.78", "supervisor").get_json()
    assert narrowed["region"]["code"] == "35.78" and narrowed["review_queue"]["received"] == 0
    # No results yet: the dashboard still answers, with an empty results header, the period it
    # looked at, and every unit counted as without a result.
    assert narrowed["results"]["run_id"] is None and narrowed["latest_run"] is None
    assert narrowed["results"]["period"] == current_period()
    assert narrowed["results"]["units"]["with_result"] == 0
    assert narrowed["results"]["units"]["without_result"] == narrowed["results"]["units"]["total"]
    earlier = world.get("/api/v1/dashboard?period=2024", "supervisor").get_json()["results"]
    assert (earlier["run_id"], earlier["period"]) == (None, 2024)
    wider = world.get("/api/v1/dashboard?region=13", "supervisor")
    assert wider.status_code == 403 and wider.get_json()["error"]["code"] == "out_of_scope"
    assert world.get("/api/v1/dashboard?region=99", "admin").status_code == 404
    assert world.get("/api/v1/dashboard?region=jatim", "admin").status_code == 422
    assert world.get("/api/v1/dashboard", "surveyor").status_code == 403


def test_province_map_carries_the_published_zones(world, app):
    world.post(unit="35.15-DPMPTSP")
    run_id = _approve_and_publish(world, app, ["35.15-DPMPTSP"])
    response = world.get("/api/v1/map/provinces", "admin")
    assert response.status_code == 200
    body = response.get_json()
    assert body["type"] == "FeatureCollection" and body["run"]["run_id"] == run_id
    assert len(body["features"]) == 38
    by_code = {f["properties"]["code"]: f for f in body["features"]}
    province = world.get("/api/v1/results?level=province", "admin").get_json()["items"]
    assert [p["code"] for p in province] == ["35"]
    jatim = by_code["35"]["properties"]
    assert (jatim["score"], jatim["zone"], jatim["rank"]) == (
        province[0]["score"],
        province[0]["zone"],
        1,
    )
    assert by_code["35"]["geometry"]["type"] == "MultiPolygon"
    assert by_code["11"]["properties"]["zone"] is None  # no result there: outline only
    # Conditional: the same run and scope answer 304 to the ETag the client holds.
    etag = response.headers["ETag"]
    again = world.client.get(
        "/api/v1/map/provinces",
        headers={**auth(world.token("admin")), "If-None-Match": etag},
    )
    assert again.status_code == 304
    # Once another run is published, the same run's map says it is no longer the official one:
    # the tag held for it no longer matches.
    pinned = world.client.get(
        f"/api/v1/map/provinces?run={run_id}", headers=auth(world.token("admin"))
    )
    newer = _approve_and_publish(world, app, ["35.15-DPMPTSP"])
    assert newer != run_id
    stale = world.client.get(
        f"/api/v1/map/provinces?run={run_id}",
        headers={**auth(world.token("admin")), "If-None-Match": pinned.headers["ETag"]},
    )
    assert stale.status_code == 200 and stale.get_json()["run"]["is_published"] is False
    # A regional supervisor gets their province only; a regency-level user sees its outline
    # but not the province's score, which lies outside their scope.
    mine = world.get("/api/v1/map/provinces", "supervisor").get_json()["features"]
    assert [(f["properties"]["code"], f["properties"]["zone"]) for f in mine] == [
        ("35", jatim["zone"])
    ]
    _, token = world.factory.user("supervisor", "35.15", name="sidoarjo")
    regency = world.client.get("/api/v1/map/provinces", headers=auth(token)).get_json()
    assert [(f["properties"]["code"], f["properties"]["zone"]) for f in regency["features"]] == [
        ("35", None)
    ]
    assert world.get("/api/v1/map/provinces", "surveyor").status_code == 403
