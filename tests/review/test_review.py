"""Review decisions: the state machine, reasons, scope, history, and the hooks."""

from __future__ import annotations

import pytest

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


def test_missing_photo_evidence_blocks_approval_until_waived(world):
    # "yes" to photo-required items with no photo: the real issue 5 rule blocks approval.
    body = world.factory.all_yes_submission("35.15-DUKCAPIL")
    inspection = post_json(world.client, INSPECTIONS, body, world.token("surveyor")).get_json()
    response = world.review(inspection["id"], "approve")
    assert response.status_code == 409
    blockers = response.get_json()["error"]["details"]["blockers"]
    assert blockers and all(isinstance(b, str) and b for b in blockers)
    for code in ("SP-01", "MP-01", "PG-01", "PG-02", "SR-01", "VM-01", "SK-01"):
        waived = post_json(
            world.client,
            f"{INSPECTIONS}/{inspection['id']}/evidence-waivers",
            {"indicator": code, "reason": "Foto terhapus dari ponsel; disaksikan dua surveyor"},
            world.token("supervisor"),
        )
        assert waived.status_code == 201, waived.get_json()
    assert world.review(inspection["id"], "approve").status_code == 200


def test_decisions_mark_the_unit_for_the_next_zoning_run(world, app):
    from sqlalchemy import select

    from fieldcheck.extensions import db
    from fieldcheck.units.dirty import DirtyUnit
    from fieldcheck.units.models import Unit

    inspection = world.post()
    with app.app_context():
        before = db.session.execute(select(DirtyUnit.reason)).scalars().all()
    world.review(inspection["id"], "approve")
    with app.app_context():
        unit_id = db.session.execute(
            select(Unit.id).where(Unit.code == inspection["unit_code"])
        ).scalar_one()
        after = db.session.execute(
            select(DirtyUnit.unit_id, DirtyUnit.reason).order_by(DirtyUnit.id)
        ).all()
    assert after[len(before) :] == [(unit_id, "review")]


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
    for blank in ("", "   "):
        empty = post_json(world.client, url, {"body": blank}, world.token("surveyor"))
        assert empty.status_code == 422
