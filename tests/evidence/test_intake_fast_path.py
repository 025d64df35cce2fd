"""Intake's write path (issue 14): the answer is made from what was stored, one INSERT per table,
the impossible-travel check against the nearest visits, a submission raced by its resends."""

from __future__ import annotations

import threading
import uuid

import requests
from sqlalchemy import event, func, select

from fieldcheck.extensions import db
from fieldcheck.inspections.models import Answer, FindingRow, Inspection, PostedStandardRow
from tests.helpers import auth, post_json

from . import images
from .conftest import sha, upload

URL = "/api/v1/inspections"
PADANG = {"lat": -0.9471, "lon": 100.4172, "accuracy_m": 15}
#: 2 km north of the Sidoarjo unit: far enough for a gps_far flag.
FAR = {"lat": -7.4298, "lon": 112.7183, "accuracy_m": 10}


def codes(body):
    return [f["code"] for f in body["flags"]]


def test_the_answer_is_what_a_get_and_a_resend_show(client, factory, world):
    """Photos received and awaited, flags, findings with ids, the score breakdown: the 201 made
    from the data just stored is byte for byte what a later GET reads back, and a resend's 200."""
    uploaded, awaited = images.jpeg(seed=41), images.jpeg(seed=42)
    assert upload(client, "/api/v1/photos", uploaded, world.surveyor).status_code == 201
    body = factory.submission(location=FAR)  # findings (fee above the law) and gps_far
    body["answers"]["MP-01"] = {"value": "yes", "photos": [sha(uploaded), sha(awaited)]}
    created = post_json(client, URL, body, world.surveyor)
    assert created.status_code == 201, created.json
    assert created.json["findings"] and all(f["id"] for f in created.json["findings"])
    assert "gps_far" in codes(created.json)
    assert created.json["photos"]["received"] == [sha(uploaded)]
    assert created.json["photos"]["missing"] == [sha(awaited)]
    read = client.get(f"{URL}/{created.json['id']}", headers=auth(world.surveyor))
    assert read.status_code == 200
    assert read.json == created.json
    resent = post_json(client, URL, body, world.surveyor)
    assert resent.status_code == 200
    assert resent.json == created.json


def test_one_checklist_costs_a_bounded_number_of_statements(app, client, factory, world):
    """No per-row INSERTs, no read-back, no UPDATE of the row just written: a checklist with
    11 answers, posted standards, findings and flags takes one INSERT per table."""
    # The token's last-use touch (at most every TOKEN_TOUCH_SECONDS) happens on this one.
    assert post_json(client, URL, factory.submission(), world.surveyor).status_code == 201
    body = factory.submission(location=FAR)
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()).upper())

    event.listen(engine, "before_cursor_execute", before)
    try:
        response = post_json(client, URL, body, world.surveyor)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert response.status_code == 201, response.json
    inserts = [s.split(" (")[0] for s in statements if s.startswith("INSERT")]
    assert len(inserts) == len(set(inserts)), inserts  # one INSERT per table
    assert not [s for s in statements if s.startswith(("UPDATE", "DELETE", "SAVEPOINT"))]
    # token, resend check, unit, neighbours, 7 INSERTs, the audit chain's head and lock: 16 at
    # most, where it was 46.
    assert len(statements) <= 16, statements
    with app.app_context():
        iid = response.json["id"]
        for model, expected in (
            (Answer, len(body["answers"])),
            (PostedStandardRow, len(body["posted_standards"])),
            (FindingRow, len(response.json["findings"])),
        ):
            stored = db.session.execute(
                select(func.count()).select_from(model).where(model.inspection_id == iid)
            ).scalar_one()
            assert stored == expected, model


def test_travel_is_checked_against_the_nearest_visit_on_each_side(client, factory, world):
    """Sidoarjo 07:00, Sidoarjo 08:00, then Padang at 10:00 (1,543 km): the trip that cannot be
    made is from the 08:00 visit, the nearest earlier one, and the flag names it."""
    ids = []
    for start, end in (("07:00", "07:30"), ("08:00", "08:40")):
        response = post_json(
            client,
            URL,
            factory.all_yes_submission(
                started_at=f"2026-11-20T{start}:00+07:00", finished_at=f"2026-11-20T{end}:00+07:00"
            ),
            world.surveyor,
        )
        assert response.status_code == 201, response.json
        ids.append(response.json["id"])
    padang = post_json(
        client,
        URL,
        factory.all_yes_submission(
            "13.71-DUKCAPIL",
            started_at="2026-11-20T10:00:00+07:00",
            finished_at="2026-11-20T10:30:00+07:00",
            location=PADANG,
        ),
        world.surveyor,
    )
    travel = [f for f in padang.json["flags"] if f["code"] == "impossible_travel"]
    assert [f["details"]["other_inspection_id"] for f in travel] == [ids[1]]
    # The other end of the trip shows it too; the earlier Sidoarjo visit has nothing to explain.
    second = client.get(f"{URL}/{ids[1]}", headers=auth(world.surveyor)).json
    first = client.get(f"{URL}/{ids[0]}", headers=auth(world.surveyor)).json
    assert "impossible_travel" in codes(second)
    assert "impossible_travel" not in codes(first)


def test_a_checklist_sent_many_times_at_once_is_stored_once(app, factory, world, gunicorn):
    """Eight resends of one checklist at the same moment, through real gunicorn: one 201, seven
    200s with the same answer, one inspection (the insert that loses the race finds the winner's
    row instead of failing)."""
    server = gunicorn()
    body = factory.all_yes_submission()
    results: list[requests.Response] = []
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        results.append(
            requests.post(f"{server.url}{URL}", json=body, headers=auth(world.surveyor), timeout=60)
        )

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in results) == [200] * 7 + [201], [r.text for r in results]
    assert len({r.json()["id"] for r in results}) == 1
    with app.app_context():
        stored = db.session.execute(
            select(func.count())
            .select_from(Inspection)
            .where(Inspection.submission_id == uuid.UUID(body["submission_id"]))
        ).scalar_one()
    assert stored == 1
