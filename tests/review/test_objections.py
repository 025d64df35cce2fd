"""Right of reply (sanggahan): objections to findings, decided upheld or dismissed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fieldcheck.extensions import db
from fieldcheck.inspections.models import FindingRow
from fieldcheck.review.counting import active_findings_condition
from tests.helpers import auth, post_json, upload
from tests.world import INSPECTIONS, make_world


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def _evidence(world, who="supervisor") -> str:
    """A counter-evidence photo uploaded by ``who`` (the supervisor recording the objection)."""
    from tests.evidence.images import jpeg

    response = upload(
        world.client, "/api/v1/photos", jpeg(size=(64, 48), seed=77), world.token(who)
    )
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()["sha256"]


def _object(world, finding_id, who="supervisor", **over):
    if "photos" not in over:
        over["photos"] = [_evidence(world)]
    body = {"text": "Papan biaya sudah diganti sebelum kunjungan", **over}
    return post_json(
        world.client, f"/api/v1/findings/{finding_id}/objections", body, world.token(who)
    )


def _decide(world, objection_id, decision, reason="Bukti kuitansi sah", who="supervisor"):
    return post_json(
        world.client,
        f"/api/v1/objections/{objection_id}/decision",
        {"decision": decision, "reason": reason},
        world.token(who),
    )


def test_upheld_objection_withdraws_the_finding(world, app):
    inspection = world.post_with_findings()
    finding = inspection["findings"][0]
    created = _object(world, finding["id"])
    assert created.status_code == 201, created.get_json()
    objection = created.get_json()
    assert objection["status"] == "pending" and len(objection["photos"]) == 1
    # The counter-evidence is readable by whoever sees the inspection, not beyond.
    photo = f"/api/v1/photos/{objection['photos'][0]}"
    for who, status in (("surveyor", 200), ("supervisor_out", 404)):
        with world.client.get(photo, headers=auth(world.token(who))) as response:
            assert response.status_code == status, who
    decided = _decide(world, objection["id"], "upheld")
    assert decided.status_code == 200
    assert decided.get_json()["status"] == "upheld"
    shown = world.get(f"{INSPECTIONS}/{inspection['id']}", "surveyor").get_json()
    withdrawn = [f for f in shown["findings"] if f["id"] == finding["id"]][0]
    assert withdrawn["is_withdrawn"] is True and withdrawn["withdrawn_at"]
    with app.app_context():
        row = db.session.get(FindingRow, finding["id"])
        assert row.is_withdrawn and row.withdrawn_by_objection_id == objection["id"]
        active = db.session.execute(
            select(FindingRow.id).where(
                FindingRow.inspection_id == inspection["id"], active_findings_condition()
            )
        ).scalars()
        assert finding["id"] not in set(active)
    listing = world.get(f"{INSPECTIONS}/{inspection['id']}/objections", "surveyor").get_json()
    assert [o["id"] for o in listing["items"]] == [objection["id"]]
    # Decided once; a withdrawn finding takes no new objection.
    assert _decide(world, objection["id"], "dismissed").status_code == 409
    assert _object(world, finding["id"]).status_code == 409


def test_dismissed_objection_keeps_the_finding(world):
    inspection = world.post_with_findings()
    finding = inspection["findings"][0]
    objection = _object(world, finding["id"]).get_json()
    assert _decide(world, objection["id"], "dismissed").status_code == 200
    shown = world.get(f"{INSPECTIONS}/{inspection['id']}", "admin").get_json()
    assert not [f for f in shown["findings"] if f["id"] == finding["id"]][0]["is_withdrawn"]


def test_roles_scope_and_validation(world):
    inspection = world.post_with_findings()
    finding_id = inspection["findings"][0]["id"]
    assert _object(world, finding_id, who="surveyor").status_code == 403
    assert _object(world, finding_id, who="supervisor_out").status_code == 404
    assert _object(world, 999_999).status_code == 404
    assert _object(world, finding_id, text="").status_code == 422
    assert _object(world, finding_id, text="   ").status_code == 422
    assert _object(world, finding_id, photos=["nothex"]).status_code == 422
    # A digest naming no stored photo (or one the recorder may not see) is no evidence.
    unknown = _object(world, finding_id, photos=["a" * 64])
    assert unknown.status_code == 422
    assert "photos.0" in unknown.get_json()["error"]["details"]["fields"]
    objection = _object(world, finding_id).get_json()
    assert _decide(world, objection["id"], "upheld", who="supervisor_out").status_code == 404
    assert _decide(world, objection["id"], "upheld", reason=" ").status_code == 422
    assert _decide(world, objection["id"], "maybe").status_code == 422
    assert _decide(world, 999_999, "upheld").status_code == 404
