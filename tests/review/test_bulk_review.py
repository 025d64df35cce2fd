"""Bulk review by filter: one request, per-item results, scope, set-based queries."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from fieldcheck.audit.models import AuditEntry
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.review.models import Review
from tests.helpers import count_queries, count_rows, post_json
from tests.world import INSPECTIONS, make_world

URL = f"{INSPECTIONS}/bulk-review"


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def test_filter_applies_within_scope_with_per_item_results(world, app):
    mine = [world.post() for _ in range(3)]
    gresik = world.post(unit="35.25-DUKCAPIL")
    padang = world.post(who="admin", unit="13.71-DUKCAPIL")
    world.review(mine[0]["id"], "reject", "palsu")
    response = post_json(
        world.client,
        URL,
        {"filter": {"region": "35.15"}, "decision": "approve"},
        world.token("supervisor"),
    )
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert (data["matched"], data["applied"], data["failed"]) == (3, 2, 1)
    by_id = {item["id"]: item for item in data["items"]}
    assert by_id[mine[0]["id"]]["error"]["code"] == "invalid_transition"
    assert by_id[mine[1]["id"]] == {
        "id": mine[1]["id"],
        "ok": True,
        "status": "approved",
        "error": None,
    }
    assert gresik["id"] not in by_id and padang["id"] not in by_id
    assert world.get(f"{INSPECTIONS}/{mine[2]['id']}", "surveyor").get_json()["status"] == (
        "approved"
    )
    assert count_rows(app, Review) == 3
    # A supervisor of another region matches nothing of Jawa Timur.
    other = post_json(
        world.client,
        URL,
        {"filter": {"region": "35"}, "decision": "approve"},
        world.token("supervisor_out"),
    )
    assert other.get_json()["matched"] == 0


def test_ids_outside_scope_or_unknown_are_reported_not_applied(world):
    mine = world.post()
    padang = world.post(who="admin", unit="13.71-DUKCAPIL")
    response = post_json(
        world.client,
        URL,
        {"ids": [mine["id"], padang["id"], 424242], "decision": "return", "reason": "cek"},
        world.token("supervisor"),
    )
    items = {i["id"]: i for i in response.get_json()["items"]}
    assert items[mine["id"]]["ok"] is True
    assert items[padang["id"]]["error"]["code"] == "not_found"
    assert items[424242]["error"]["code"] == "not_found"
    assert world.get(f"{INSPECTIONS}/{padang['id']}", "admin").get_json()["status"] == "received"


def test_flag_status_surveyor_and_time_filters(world, app):
    flagged, plain = world.post(), world.post()
    with app.app_context():
        db.session.execute(
            update(Inspection)
            .where(Inspection.id == flagged["id"])
            .values(flags=[{"code": "gps_far", "message": "Lokasi jauh dari unit"}])
        )
        db.session.commit()
    body = {
        "filter": {"flag": "gps_far", "status": "received"},
        "decision": "return",
        "reason": "lokasi meragukan",
    }
    data = post_json(world.client, URL, body, world.token("admin")).get_json()
    assert [i["id"] for i in data["items"]] == [flagged["id"]]
    body = {
        "filter": {
            "surveyor": world.ids["surveyor"],
            "since": "2000-01-01T00:00:00+07:00",
            "until": "2999-01-01T00:00:00+07:00",
            "unit": "35.15-DUKCAPIL",
        },
        "decision": "approve",
    }
    data = post_json(world.client, URL, body, world.token("admin")).get_json()
    assert {i["id"]: i["ok"] for i in data["items"]} == {flagged["id"]: False, plain["id"]: True}


def test_queue_criteria_blockers_unit_type_and_visit_dates(world, app, factory):
    # The review queue page's filters, through the API: the same rows (review.bulk.matching).
    body = factory.all_yes_submission("35.25-DUKCAPIL")  # no photos: approval is blocked
    blocked = post_json(world.client, INSPECTIONS, body, world.token("surveyor")).get_json()
    clean = world.post(unit="35.15-RSUD")
    common = {"status": "received", "visited_from": "2000-01-01", "visited_to": "2999-12-31"}
    cases = [
        ({"has_blockers": True}, {blocked["id"]: False}),
        ({"visited_to": "2000-01-01"}, {}),
        ({"unit_type": "disdukcapil", "has_blockers": False}, {}),
        ({"unit_type": "rsud", "has_blockers": False}, {clean["id"]: True}),
    ]
    for criteria, expected in cases:
        response = post_json(
            world.client,
            URL,
            {"filter": {**common, **criteria}, "decision": "approve"},
            world.token("admin"),
        )
        assert response.status_code == 200, response.get_json()
        assert {i["id"]: i["ok"] for i in response.get_json()["items"]} == expected, criteria


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"decision": "approve"}, "filter"),
        ({"filter": {}, "decision": "approve"}, "filter"),
        ({"filter": {"region": "35"}, "decision": "reject"}, "reason"),
        ({"filter": {"colour": "red"}, "decision": "approve"}, "filter.colour"),
        # An unknown flag would match nothing: refused rather than silently empty.
        ({"filter": {"flag": "nope"}, "decision": "approve"}, "filter.flag"),
        ({"ids": [], "decision": "approve"}, "ids"),
        ({"ids": ["1"], "decision": "approve"}, "ids.0"),
    ],
)
def test_bad_bulk_bodies_are_422(world, body, path):
    response = post_json(world.client, URL, body, world.token("supervisor"))
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["error"]["details"]["fields"]) == [path]


def test_too_many_matches_is_refused(world, app):
    app.config["BULK_REVIEW_MAX"] = 2
    for _ in range(3):
        world.post()
    response = post_json(
        world.client,
        URL,
        {"filter": {"region": "35"}, "decision": "approve"},
        world.token("supervisor"),
    )
    assert response.status_code == 422
    assert count_rows(app, Review) == 0


def test_query_count_does_not_grow_with_the_number_of_items(world, app):
    def run(n: int) -> tuple[int, int]:
        ids = [world.post()["id"] for _ in range(n)]
        before = count_rows(app, AuditEntry)
        with count_queries(app) as statements:
            response = post_json(
                world.client, URL, {"ids": ids, "decision": "approve"}, world.token("admin")
            )
        assert response.get_json()["applied"] == n
        assert count_rows(app, AuditEntry) - before == n
        return len(statements), n

    small, _ = run(2)
    large, _ = run(12)
    assert small == large
