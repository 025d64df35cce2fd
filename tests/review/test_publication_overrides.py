"""Publishing zoning runs and supervisors' overrides of a unit's final zone (issue 4)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from fieldcheck.extensions import db
from fieldcheck.inspections.models import FindingRow, Inspection
from fieldcheck.units.dirty import mark_unit_dirty
from fieldcheck.zoning.lifecycle import execute
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.results import level_rows
from fieldcheck.zoning.services import create_run
from tests.helpers import count_queries, post_json
from tests.world import make_world

PERIOD = 2026
UNITS = ("35.15-DUKCAPIL", "35.15-SAMSAT", "35.78-DUKCAPIL")


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def _approve_all(app) -> None:
    with app.app_context():
        db.session.execute(update(Inspection).values(status="approved"))
        for unit_id in db.session.execute(select(Inspection.unit_id)).scalars():
            mark_unit_dirty(unit_id, "review")
        db.session.commit()


def _run(app, region: str | None = None, dry_run: bool = False, **kw) -> int:
    with app.app_context():
        run = create_run(region=region, period=PERIOD, dry_run=dry_run, full=True)
        db.session.commit()
        run_id = run.id
        assert execute(run_id, **kw).state == "succeeded"
        return run_id


def _publish(world, run_id: int, who: str):
    return post_json(world.client, f"/api/v1/zoning-runs/{run_id}/publish", {}, world.token(who))


def _units(world) -> list[str]:
    codes = [c for c in UNITS if world.get(f"/api/v1/units/{c}", "admin").status_code == 200]
    for code in codes:
        world.post(who="admin", unit=code)
    return codes


def test_publish_replaces_the_official_run_and_is_audited(world, app):
    world.post()
    _approve_all(app)
    first, second = _run(app, "35.15"), _run(app, "35.15")
    assert _publish(world, first, "supervisor").get_json()["is_published"] is True
    response = _publish(world, second, "supervisor")
    assert response.status_code == 200 and response.get_json()["changed"] is True
    assert world.get(f"/api/v1/zoning-runs/{first}", "admin").get_json()["is_published"] is False
    entries = world.get("/api/v1/audit?action=zoning_run.publish", "supervisor").get_json()
    latest = entries["items"][0]
    assert (latest["before"], latest["after"]["official_run_id"]) == (
        {"official_run_id": first},
        second,
    )
    assert latest["region_code"] == "35.15"
    # Re-publishing the official run: a no-op 200, nothing audited.
    again = _publish(world, second, "supervisor")
    assert again.status_code == 200 and again.get_json()["changed"] is False
    assert world.get("/api/v1/audit?action=zoning_run.publish", "admin").get_json()["total"] == 2


def test_publish_refuses_dry_and_national_runs_for_a_regional_supervisor(world, app):
    world.post()
    _approve_all(app)
    national = _run(app)
    assert _publish(world, national, "supervisor").status_code == 403
    assert _publish(world, national, "admin_out").status_code == 403
    assert _publish(world, national, "admin").status_code == 200
    dry = _run(app, "35.15", dry_run=True)
    response = _publish(world, dry, "supervisor")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "conflict"
    assert _publish(world, 999_999, "admin").status_code == 404


def _override(world, code="35.15-DUKCAPIL", zone="merah", who="supervisor", **over):
    # The runs here are of PERIOD: their overrides name it (the default is the current year).
    body = {"zone": zone, "reason": "Pengaduan masyarakat terverifikasi", "period": PERIOD, **over}
    return post_json(world.client, f"/api/v1/units/{code}/override", body, world.token(who))


def _withdraw(world, code="35.15-DUKCAPIL", who="supervisor", reason="Sudah diperbaiki", **over):
    return post_json(
        world.client,
        f"/api/v1/units/{code}/override/withdraw",
        {"reason": reason, "period": PERIOD, **over},
        world.token(who),
    )


def test_override_lifecycle_is_audited(world):
    created = _override(world)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["unit"], body["zone"], body["is_active"]) == ("35.15-DUKCAPIL", "merah", True)
    assert body["by"]["id"] == world.ids["supervisor"] and body["at"].endswith("+07:00")
    conflict = _override(world, zone="hijau", who="admin")
    assert (
        conflict.status_code == 409 and conflict.get_json()["error"]["details"]["zone"] == "merah"
    )
    withdrawn = _withdraw(world)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["is_active"] is False
    assert withdrawn.get_json()["withdraw_reason"] == "Sudah diperbaiki"
    assert withdrawn.get_json()["withdrawn_by"]["name"]  # who withdrew it, by name
    assert _withdraw(world).status_code == 409
    assert _override(world, zone="hijau").status_code == 201  # a new one after withdrawal
    items = world.get("/api/v1/audit?object=unit:35.15-DUKCAPIL", "supervisor").get_json()["items"]
    assert [(i["action"], i["region_code"]) for i in reversed(items)] == [
        ("unit.override", "35.15"),
        ("unit.override_withdraw", "35.15"),
        ("unit.override", "35.15"),
    ]
    assert items[1]["before"]["withdrawn_at"] is None and items[1]["after"]["withdrawn_at"]
    # Times inside before/after are ISO-8601 (UTC), not Python's str() of a datetime.
    assert "T" in items[1]["after"]["withdrawn_at"]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"zone": "ungu", "reason": "x"}, "zone"),
        ({"zone": "merah"}, "reason"),
        ({"zone": "merah", "reason": "   "}, "reason"),
        ({"zone": "merah", "reason": "x", "extra": 1}, "extra"),
        ({"zone": "merah", "reason": "x", "period": "2026"}, "period"),
        ({"zone": "merah", "reason": "x", "period": 1999}, "period"),
    ],
)
def test_bad_override_bodies_are_422(world, body, path):
    response = post_json(
        world.client, "/api/v1/units/35.15-DUKCAPIL/override", body, world.token("supervisor")
    )
    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == [path]
    assert _withdraw(world, reason="").status_code == 422


def test_out_of_scope_and_unknown_units_are_404(world):
    assert _override(world, who="supervisor_out").status_code == 404
    assert _override(world, code="NOPE").status_code == 404
    assert _withdraw(world, who="admin_out").status_code == 404


def test_results_show_override_beside_computed_zone_without_n_plus_one(world, app):
    codes = _units(world)
    assert len(codes) >= 2
    _approve_all(app)
    run = _run(app)
    url = f"/api/v1/results?run={run}&per_page=50"
    with count_queries(app) as none:
        rows = world.get(url, "admin").get_json()["items"]
    assert {r["code"]: (r["override"], r["final_zone"] == r["zone"]) for r in rows} == {
        c: (None, True) for c in codes
    }
    for code in codes:
        zone = "merah" if code.endswith("DUKCAPIL") else "kuning"
        assert _override(world, code=code, zone=zone, who="admin").status_code == 201
    with count_queries(app) as some:
        rows = world.get(url, "admin").get_json()["items"]
    assert len(some) == len(none)  # one query for the page's overrides, however many there are
    for row in rows:
        assert row["final_zone"] == row["override"]["zone"]
        assert row["override"]["reason"] and row["override"]["by"]["id"] == world.ids["admin"]
    agencies = world.get(f"/api/v1/results?run={run}&level=agency", "admin").get_json()["items"]
    assert all("final_zone" not in a for a in agencies)  # roll-ups stay computed from scores


def test_override_survives_later_runs_until_withdrawn(world, app):
    world.post()
    _approve_all(app)
    _run(app)
    assert _override(world, zone="kuning").status_code == 201
    later = _run(app)
    shown = world.get(f"/api/v1/units/35.15-DUKCAPIL/result?run={later}", "supervisor").get_json()
    assert (shown["zone"], shown["override"]["zone"], shown["final_zone"]) == (
        "hijau",
        "kuning",
        "kuning",
    )
    assert _withdraw(world).status_code == 200
    shown = world.get(f"/api/v1/units/35.15-DUKCAPIL/result?run={later}", "supervisor").get_json()
    assert (shown["override"], shown["final_zone"]) == (None, "hijau")


def test_rescoring_from_answers_keeps_withdrawn_findings_out(world, app):
    inspection = world.post_with_findings(who="admin")
    _approve_all(app)
    baseline = _run(app, from_answers=True)
    # The unlawful KTP-el fee: a violation that zeroes the fee component of the score.
    violation = next(f for f in inspection["findings"] if f["rule"] == "fee.above_legal")
    objection = post_json(
        world.client,
        f"/api/v1/findings/{violation['id']}/objections",
        {"text": "Keberatan"},
        world.token("admin"),
    ).get_json()
    decided = post_json(
        world.client,
        f"/api/v1/objections/{objection['id']}/decision",
        {"decision": "upheld", "reason": "Bukti sah"},
        world.token("admin"),
    )
    assert decided.status_code == 200
    full = _run(app, from_answers=True)
    with app.app_context():
        stored = db.session.get(Inspection, inspection["id"]).score
        withdrawn = db.session.execute(
            select(FindingRow.id).where(FindingRow.withdrawn_at.is_not(None))
        ).scalars()
        assert list(withdrawn) == [violation["id"]]

        def unit_score(run_id):
            run = db.session.get(ZoningRun, run_id)
            return db.session.execute(level_rows(run, "unit")).one().score

        assert unit_score(full) == stored > unit_score(baseline)


def test_database_allows_one_active_override_per_unit_and_period(world, app):
    from sqlalchemy.exc import IntegrityError

    from fieldcheck.units.models import Unit
    from fieldcheck.zoning.overrides import UnitOverride

    with app.app_context():
        unit_id = db.session.execute(
            select(Unit.id).where(Unit.code == "35.15-DUKCAPIL")
        ).scalar_one()
        user = world.ids["admin"]

        def override(period: int, zone: str) -> UnitOverride:
            return UnitOverride(
                unit_id=unit_id, period=period, zone=zone, reason="a", created_by=user
            )

        db.session.add_all([override(PERIOD, "merah"), override(PERIOD - 1, "merah")])
        db.session.commit()  # one per period
        db.session.add(override(PERIOD, "hijau"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_overrides_belong_to_one_period(world, app):
    """An override judges one year's results: runs of another period never show it, and a unit
    may have one in force per period."""
    world.post()
    _approve_all(app)
    run = _run(app)
    url = f"/api/v1/units/35.15-DUKCAPIL/result?run={run}"
    earlier = _override(world, zone="merah", period=PERIOD - 1)
    assert earlier.status_code == 201 and earlier.get_json()["period"] == PERIOD - 1
    shown = world.get(url, "supervisor").get_json()
    assert (shown["override"], shown["final_zone"]) == (None, shown["zone"])
    assert _override(world, zone="kuning").status_code == 201  # PERIOD: no conflict
    shown = world.get(url, "supervisor").get_json()
    assert (shown["override"]["period"], shown["final_zone"]) == (PERIOD, "kuning")
    rows = world.get(f"/api/v1/results?run={run}", "supervisor").get_json()["items"]
    assert [r["final_zone"] for r in rows if r["code"] == "35.15-DUKCAPIL"] == ["kuning"]
    conflict = _override(world, zone="hijau", period=PERIOD - 1)
    assert conflict.status_code == 409
    assert conflict.get_json()["error"]["details"]["period"] == PERIOD - 1
    # Withdrawing one period's override leaves the other's in force.
    assert _withdraw(world, period=PERIOD - 1).status_code == 200
    assert _withdraw(world, period=PERIOD - 1).status_code == 409
    assert world.get(url, "supervisor").get_json()["final_zone"] == "kuning"
    history = world.get("/api/v1/units/35.15-DUKCAPIL/overrides", "supervisor").get_json()
    assert [(o["period"], o["is_active"]) for o in history["items"]] == [
        (PERIOD, True),
        (PERIOD - 1, False),
    ]
    only = world.get(f"/api/v1/units/35.15-DUKCAPIL/overrides?period={PERIOD}", "admin")
    assert [o["period"] for o in only.get_json()["items"]] == [PERIOD]
    audit = world.get("/api/v1/audit?action=unit.override", "supervisor").get_json()["items"]
    assert {entry["after"]["period"] for entry in audit} == {PERIOD, PERIOD - 1}


def test_override_period_defaults_to_the_current_year_and_refuses_future_ones(world, app):
    from fieldcheck.zoning.services import current_period

    with app.app_context():
        now = current_period()
    body = {"zone": "merah", "reason": "Temuan berat"}
    url = "/api/v1/units/35.15-DUKCAPIL/override"
    created = post_json(world.client, url, body, world.token("supervisor"))
    assert created.status_code == 201 and created.get_json()["period"] == now
    future = post_json(world.client, url, {**body, "period": now + 1}, world.token("supervisor"))
    assert future.status_code == 422
    assert list(future.get_json()["error"]["details"]["fields"]) == ["period"]
    withdrawn = post_json(
        world.client, url + "/withdraw", {"reason": "Keliru"}, world.token("supervisor")
    )
    assert withdrawn.status_code == 200 and withdrawn.get_json()["period"] == now
