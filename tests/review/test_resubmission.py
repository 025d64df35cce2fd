"""Corrected resubmission: a returned inspection is superseded by its surveyor's correction."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.review.counting import counted_inspections_condition
from tests.helpers import post_json
from tests.world import INSPECTIONS, make_world


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def _correct(world, target, who="surveyor", unit="35.15-DUKCAPIL"):
    body = world.factory.with_evidence(
        world.factory.all_yes_submission(unit, supersedes=target), world.token(who)
    )
    return post_json(world.client, INSPECTIONS, body, world.token(who)), body


def _counted(app) -> list[int]:
    with app.app_context():
        query = select(Inspection.id).where(counted_inspections_condition()).order_by(Inspection.id)
        return list(db.session.execute(query).scalars())


@pytest.mark.parametrize("by", ["id", "submission_id"])
def test_correction_links_both_versions_and_only_the_approved_one_counts(world, app, by):
    original = world.post()
    world.review(original["id"], "return", "Papan maklumat tidak terfoto")
    response, body = _correct(world, original[by])
    assert response.status_code == 201, response.get_json()
    correction = response.get_json()
    assert correction["supersedes_id"] == original["id"]
    refreshed = world.get(f"{INSPECTIONS}/{original['id']}", "surveyor").get_json()
    assert refreshed["superseded_by_id"] == correction["id"]
    assert refreshed["status"] == "returned"
    assert _counted(app) == []
    assert world.review(correction["id"], "approve").status_code == 200
    assert _counted(app) == [correction["id"]]
    # The identical resend of the correction is the same resource, not a second correction.
    again = post_json(world.client, INSPECTIONS, body, world.token("surveyor"))
    assert (again.status_code, again.get_json()["id"]) == (200, correction["id"])


def test_only_a_returned_inspection_can_be_corrected(world):
    received = world.post()
    response, _ = _correct(world, received["id"])
    assert response.status_code == 422
    assert "supersedes" in response.get_json()["error"]["details"]["fields"]


def test_a_returned_inspection_is_corrected_once(world):
    original = world.post()
    world.review(original["id"], "return", "ulang")
    assert _correct(world, original["id"])[0].status_code == 201
    second, _ = _correct(world, original["id"])
    assert (second.status_code, second.get_json()["error"]["code"]) == (409, "already_superseded")


def test_someone_elses_or_another_units_inspection_cannot_be_corrected(world):
    original = world.post()
    world.review(original["id"], "return", "ulang")
    other, _ = _correct(world, original["id"], who="surveyor_other")
    assert other.status_code == 422  # reported as unknown: existence is not revealed
    unit, _ = _correct(world, original["id"], unit="35.15-RSUD")
    assert unit.status_code == 422
    unknown, _ = _correct(world, 999_999)
    assert unknown.status_code == 422
    bad, _ = _correct(world, "not-a-uuid")
    assert bad.status_code == 422
    by_admin, _ = _correct(world, original["id"], who="admin")
    assert by_admin.status_code == 201


def test_a_correction_reusing_its_returned_versions_photos_is_not_photo_fraud(world):
    """The correction of a returned visit carries that visit's photos: the same evidence, not a
    photo passed off as another visit's (photo_reused stays for genuinely other visits)."""
    first = world.factory.with_evidence(world.factory.all_yes_submission(), world.token("surveyor"))
    original = post_json(world.client, INSPECTIONS, first, world.token("surveyor")).get_json()
    world.review(original["id"], "return", "Papan maklumat tidak terfoto")
    again = world.factory.all_yes_submission(supersedes=original["id"])
    again["answers"] = first["answers"]  # the same photos, named by sha256
    correction = post_json(world.client, INSPECTIONS, again, world.token("surveyor")).get_json()
    assert correction["supersedes_id"] == original["id"]
    for inspection_id in (original["id"], correction["id"]):
        shown = world.get(f"{INSPECTIONS}/{inspection_id}", "surveyor").get_json()
        assert "photo_reused" not in {f["code"] for f in shown["flags"]}, inspection_id
    # Another visit naming the same photos is still flagged.
    other = world.factory.all_yes_submission(started_at="2026-11-27T09:00:00+07:00")
    other["finished_at"] = "2026-11-27T09:40:00+07:00"
    other["answers"] = first["answers"]
    flagged = post_json(world.client, INSPECTIONS, other, world.token("surveyor")).get_json()
    assert "photo_reused" in {f["code"] for f in flagged["flags"]}
