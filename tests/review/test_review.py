"""Review decisions: the state machine, reasons, scope, history, and the hooks."""

from __future__ import annotations

import pytest

from fieldcheck.review import services
from tests.helpers import auth, post_json
from tests.world import INSPECTIONS, make_world


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def test_approve_records_reviewer_time_and_history(world, app):
    inspection = world.post()
    response = world.review(inspection["id"], "approve")
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["status"] == "approved"
    assert data["reviewed_by_id"] == world.ids["supervisor"]
    assert data["reviewed_at"].endswith("+07:00")
    history = world.get(f"{INSPECTIONS}/{inspection['id']}/reviews", "surveyor").get_json()
    assert [(h["decision"], h["from_status"], h["to_status"]) for h in history["items"]] == [
        ("approve", "received", "approved")
    ]


@pytest.mark.parametrize("decision", ["reject", "return"])
def test_reject_and_return_need_a_reason(world, decision):
    inspection = world.post()
    for body in ({"decision": decision}, {"decision": decision, "reason": "   "}):
        response = post_json(
            world.client, f"{INSPECTIONS}/{inspection['id']}/review", body, world.token("admin")
        )
        assert response.status_code == 422
        assert "reason" in response.get_json()["error"]["details"]["fields"]
    response = world.review(inspection["id"], decision, "Foto papan maklumat buram")
    assert response.status_code == 200
    assert response.get_json()["review_reason"] == "Foto papan maklumat buram"


def test_state_machine(world):
    approved, rejected, returned = world.post(), world.post(), world.post()
    assert world.review(approved["id"], "approve").status_code == 200
    assert world.review(rejected["id"], "reject", "palsu").status_code == 200
    assert world.review(returned["id"], "return", "lengkapi").status_code == 200
    # approved -> approved is not a decision; approved can be returned/rejected with a reason.
    again = world.review(approved["id"], "approve")
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "invalid_transition")
    # rejected and returned are final for that version.
    for inspection_id in (rejected["id"], returned["id"]):
        for decision in ("approve", "reject", "return"):
            response = world.review(inspection_id, decision, "x")
            assert response.status_code == 409
    reopened = world.review(approved["id"], "return", "Ditemukan foto lama")
    assert reopened.get_json()["status"] == "returned"


def test_bad_decision_and_body(world):
    inspection = world.post()
    url = f"{INSPECTIONS}/{inspection['id']}/review"
    bad = post_json(world.client, url, {"decision": "maybe"}, world.token("supervisor"))
    assert bad.status_code == 422
    extra = post_json(world.client, url, {"decision": "approve", "x": 1}, world.token("supervisor"))
    assert extra.status_code == 422
    broken = world.client.post(
        url, data="{", content_type="application/json", headers=auth(world.token("supervisor"))
    )
    assert broken.status_code == 400


def test_scope_and_roles(world):
    inspection = world.post()
    assert world.review(inspection["id"], "approve", who="surveyor").status_code == 403
    assert world.review(inspection["id"], "approve", who="supervisor_out").status_code == 404
    assert world.review(inspection["id"], "approve", who="admin_out").status_code == 404
    assert world.review(inspection["id"], "approve", who="admin").status_code == 200


def test_blockers_stop_approval(world, monkeypatch):
    # The hook issue 5 fills; replaced here with a real function, not a mock of a running part.
    inspection = world.post()
    monkeypatch.setattr(
        services, "review_blockers_for_ids", lambda ids: {i: ["bukti foto kurang"] for i in ids}
    )
    response = world.review(inspection["id"], "approve")
    assert response.status_code == 409
    assert response.get_json()["error"]["details"]["blockers"] == ["bukti foto kurang"]
    assert world.review(inspection["id"], "return", "lengkapi foto").status_code == 200


def test_decision_calls_the_mark_dirty_hook(world, monkeypatch):
    marked: list[set[int]] = []
    monkeypatch.setattr(services, "_mark_units_dirty", lambda ids: marked.append(set(ids)))
    inspection = world.post()
    world.review(inspection["id"], "approve")
    assert len(marked) == 1 and len(marked[0]) == 1


def test_comments_are_visible_to_whoever_sees_the_inspection(world):
    inspection = world.post()
    url = f"{INSPECTIONS}/{inspection['id']}/comments"
    first = post_json(world.client, url, {"body": "Mohon cek foto"}, world.token("supervisor"))
    assert first.status_code == 201
    reply = post_json(world.client, url, {"body": "Sudah diunggah"}, world.token("surveyor"))
    assert reply.status_code == 201
    listing = world.get(url, "surveyor").get_json()
    assert [c["body"] for c in listing["items"]] == ["Mohon cek foto", "Sudah diunggah"]
    assert listing["items"][0]["author"]["id"] == world.ids["supervisor"]
    assert world.get(url, "surveyor_other").status_code == 404
    assert world.get(url, "supervisor_out").status_code == 404
    empty = post_json(world.client, url, {"body": ""}, world.token("surveyor"))
    assert empty.status_code == 422
