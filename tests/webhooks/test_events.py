"""Events emitted by real actions (intake, review, bulk review, objections, overrides, zoning
runs and publication) reach a local receiver; regional endpoints get their region only."""

from __future__ import annotations

import pytest

from tests.helpers import auth, post_json
from tests.webhooks.conftest import WEBHOOKS, Receiver, register, work
from tests.world import INSPECTIONS, make_world

ALL = [
    "inspection.received",
    "inspection.reviewed",
    "zoning_run.succeeded",
    "zoning_run.published",
    "zoning_run.zone_changes",
    "unit_override.set",
    "unit_override.withdrawn",
    "objection.decided",
]


@pytest.fixture
def world(hooks_app, client, factory):
    return make_world(client, factory)


def assert_documented(client, requests) -> None:
    """Every body is valid against the OpenAPI document's ``x-webhooks`` entry of its type,
    and its ``data`` has exactly the documented fields."""
    from openapi_schema_validator import OAS30Validator

    from tests.openapi.test_document import _inline

    document = client.get("/api/v1/openapi.json").get_json()
    components = document["components"]["schemas"]
    assert requests
    for request in requests:
        body = request.json
        entry = document["x-webhooks"][body["type"]]["post"]
        schema = _inline(entry["requestBody"]["content"]["application/json"]["schema"], components)
        OAS30Validator(schema).validate(body)
        assert set(body["data"]) == set(schema["properties"]["data"]["properties"]), body["type"]
        headers = {p["name"] for p in entry["parameters"]}
        assert headers <= set(request.headers)


def _only(receiver, event_type):
    return [r.json["data"] for r in receiver.of_type(event_type)]


def test_intake_review_objection_and_override_events_arrive(world, hooks_app, receiver):
    national = register(world.client, world.token("admin"), receiver.url, ALL)
    assert national["region_code"] is None
    padang = Receiver().start()
    try:
        # admin_out is limited to region 13: its endpoint is in 13 and hears only of 13.
        regional = register(world.client, world.token("admin_out"), padang.url, ALL)
        assert regional["region_code"] == "13"

        first = world.post()
        second = world.post()
        third = world.post()
        with_findings = world.post_with_findings()
        world.post(who="admin", unit="13.71-DUKCAPIL")
        assert world.review(first["id"], "approve").status_code == 200
        bulk = post_json(
            world.client,
            f"{INSPECTIONS}/bulk-review",
            {"ids": [second["id"], third["id"]], "decision": "return", "reason": "foto buram"},
            world.token("supervisor"),
        )
        assert bulk.status_code == 200 and bulk.get_json()["applied"] == 2, bulk.get_json()

        finding = with_findings["findings"][0]
        objection = post_json(
            world.client,
            f"/api/v1/findings/{finding['id']}/objections",
            {"text": "Papan biaya sudah diganti"},
            world.token("supervisor"),
        )
        assert objection.status_code == 201, objection.get_json()
        decided = post_json(
            world.client,
            f"/api/v1/objections/{objection.get_json()['id']}/decision",
            {"decision": "upheld", "reason": "Bukti sah"},
            world.token("supervisor"),
        )
        assert decided.status_code == 200, decided.get_json()

        override = {"zone": "merah", "reason": "Pengaduan terverifikasi", "period": 2026}
        assert (
            post_json(
                world.client,
                "/api/v1/units/35.15-DUKCAPIL/override",
                override,
                world.token("supervisor"),
            ).status_code
            == 201
        )
        assert (
            post_json(
                world.client,
                "/api/v1/units/35.15-DUKCAPIL/override/withdraw",
                {"reason": "Sudah diperbaiki", "period": 2026},
                world.token("supervisor"),
            ).status_code
            == 200
        )

        work(hooks_app)

        received = _only(receiver, "inspection.received")
        assert [d["inspection_id"] for d in received] == [
            first["id"],
            second["id"],
            third["id"],
            with_findings["id"],
            with_findings["id"] + 1,
        ]
        assert received[0] == {
            "inspection_id": first["id"],
            "submission_id": first["submission_id"],
            "unit_code": "35.15-DUKCAPIL",
            "region_code": "35.15",
            "methodology": first["methodology"],
            "methodology_version": first["methodology_version"],
            "visit_date": received[0]["visit_date"],
            "score": received[0]["score"],
            "zone": first["zone"],
            "supersedes_id": None,
        }
        reviewed = _only(receiver, "inspection.reviewed")
        assert sorted((d["inspection_id"], d["decision"], d["to_status"]) for d in reviewed) == [
            (first["id"], "approve", "approved"),
            (second["id"], "return", "returned"),
            (third["id"], "return", "returned"),
        ]
        assert _only(receiver, "objection.decided") == [
            {
                "objection_id": objection.get_json()["id"],
                "inspection_id": with_findings["id"],
                "finding_id": finding["id"],
                "unit_code": "35.15-DUKCAPIL",
                "decision": "upheld",
                "finding_withdrawn": True,
            }
        ]
        overrides = _only(receiver, "unit_override.set") + _only(
            receiver, "unit_override.withdrawn"
        )
        assert [(d["unit_code"], d["zone"], d["withdrawn"]) for d in overrides] == [
            ("35.15-DUKCAPIL", "merah", False),
            ("35.15-DUKCAPIL", "merah", True),
        ]
        assert_documented(world.client, receiver.requests)
        # Nothing personal: no names, reasons or free text in any payload.
        for request in receiver.requests:
            text = request.body.decode()
            for word in ("Bukti sah", "foto buram", "Pengaduan", "Papan biaya", "surveyor"):
                assert word not in text

        # The regional endpoint heard only of the Padang inspection.
        assert [r.json["type"] for r in padang.requests] == ["inspection.received"]
        assert padang.requests[0].json["data"]["unit_code"] == "13.71-DUKCAPIL"
    finally:
        padang.stop()


def test_zoning_run_events_and_zone_changes_per_region(hooks_app, client, runner, factory):
    from tests.zoning.conftest import Zoning

    zoning = Zoning(hooks_app, client, runner, factory)
    everything = Receiver().start()
    java = Receiver().start()
    try:
        register(client, zoning.admin, everything.url, ALL)
        register(client, zoning.admin, java.url, ["zoning_run.zone_changes"], region_code="35")
        for code in ("35.15-SATPAS", "13.71-KANIM"):
            zoning.inspect(code, 0)
        assert zoning.rescore("--publish").exit_code == 0
        first_run = zoning.last_run_id()
        for code in ("35.15-SATPAS", "13.71-KANIM"):
            zoning.inspect(code, 11)
            zoning.inspect(code, 11)
        assert zoning.rescore("--publish").exit_code == 0
        second_run = zoning.last_run_id()

        work(hooks_app)

        succeeded = _only(everything, "zoning_run.succeeded")
        assert [d["run_id"] for d in succeeded] == [first_run, second_run]
        published = _only(everything, "zoning_run.published")
        assert [d["run_id"] for d in published] == [first_run, second_run]
        changes = _only(everything, "zoning_run.zone_changes")
        assert [d["run_id"] for d in changes] == [second_run]
        moved = {c["code"] for c in changes[0]["changes"]}
        assert {"35.15-SATPAS", "13.71-KANIM"} <= moved
        # The Jawa Timur endpoint: the same event id, only the moves inside region 35.
        assert len(java.requests) == 1
        mine = java.requests[0].json
        assert mine["id"] == everything.of_type("zoning_run.zone_changes")[0].json["id"]
        assert mine["data"]["changes"] and all(
            c["region_code"].startswith("35") for c in mine["data"]["changes"]
        )
        assert "35.15-SATPAS" in {c["code"] for c in mine["data"]["changes"]}
        assert_documented(client, everything.requests + java.requests)
    finally:
        everything.stop()
        java.stop()


def test_endpoints_are_scoped_to_the_admins_region(world, hooks_app, receiver):
    national = register(world.client, world.token("admin"), receiver.url, ALL)
    regional = register(world.client, world.token("admin_out"), receiver.url, ALL)
    as_regional = world.get(WEBHOOKS, "admin_out").get_json()
    assert [e["id"] for e in as_regional["items"]] == [regional["id"]]
    assert "secret" not in as_regional["items"][0]
    assert world.get(f"{WEBHOOKS}/{national['id']}", "admin_out").status_code == 404
    as_national = world.get(WEBHOOKS, "admin").get_json()
    assert [e["id"] for e in as_national["items"]] == [national["id"], regional["id"]]
    outside = world.client.post(
        WEBHOOKS,
        json={"url": receiver.url, "event_types": ALL, "region_code": "35"},
        headers=auth(world.token("admin_out")),
    )
    assert outside.status_code == 422
    assert "region_code" in outside.get_json()["error"]["details"]["fields"]
    # Supervisors do not manage webhooks.
    assert world.get(WEBHOOKS, "supervisor").status_code == 403


def test_intake_writes_its_event_with_one_insert_and_no_read(hooks_app, client, factory):
    """Intake speed: the event costs one INSERT in intake's transaction, nothing else."""
    from sqlalchemy import event

    from fieldcheck.extensions import db

    factory.units()
    _id, surveyor = factory.user("surveyor", "35")
    statements: list[str] = []
    with hooks_app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        response = post_json(client, INSPECTIONS, factory.all_yes_submission(), surveyor)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert response.status_code == 201, response.get_json()
    touching = [s for s in statements if "outbox_events" in s]
    assert len(touching) == 1 and touching[0].lstrip().upper().startswith("INSERT")
    assert not any("webhook_" in s for s in statements)
