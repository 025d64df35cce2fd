"""POST /api/v1/interviews: each instrument kind, idempotency, strict validation (no 500s),
personal data minimised, the audit entry and the webhook event."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select

from fieldcheck.extensions import db
from tests.interviews.conftest import AGENCY, UNIT, URL, M, record


@pytest.mark.parametrize(
    ("instrument", "level", "dimensions"),
    [
        # IN-01 3/3 and IN-02 yes: 100; OUT-01 3/3, OUT-02 2/3: 5/6 -> 83.33; PG-01 2/3: 66.67.
        ("staf", "unit", {"input": 100.0}),
        ("pengguna", "agency", {"output": 83.33}),
        ("petugas_pengaduan", "agency", {"pengaduan": 66.67}),
    ],
)
def test_each_instrument_kind_is_stored_and_scored(people, instrument, level, dimensions):
    body = record(instrument)
    stored = people.stored(body)
    assert stored["instrument"] == instrument
    assert stored["level"] == level
    assert stored["dimensions"] == dimensions
    assert stored["agency_code"] == AGENCY
    assert stored["unit_code"] == (UNIT if level == "unit" else None)
    assert stored["methodology"] == M and stored["methodology_version"] == 1
    assert stored["status"] == "received"
    # The surveyor's answer carries no respondent attributes; the supervisor reads them.
    assert "respondent" not in stored
    seen = people.get(f"{URL}/{stored['id']}").get_json()
    assert seen["respondent"] == body["respondent"]
    assert seen["dimensions"] == dimensions


def test_resend_is_idempotent_and_a_changed_body_conflicts(people, app):
    body = record()
    first = people.post(body)
    assert first.status_code == 201
    again = people.post(copy.deepcopy(body))
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    changed = dict(body, answers={"OUT-01": 0, "OUT-02": 0})
    conflict = people.post(changed)
    assert conflict.status_code == 409
    assert conflict.get_json()["error"]["code"] == "submission_conflict"
    # Someone else's resend of the same body: a conflict naming nothing.
    other = people.post(body, "surveyor_other")
    assert other.status_code == 409
    from fieldcheck.interviews.models import Interview

    with app.app_context():
        assert len(db.session.execute(select(Interview)).scalars().all()) == 1


def _fields(response):
    assert response.status_code == 422, (response.status_code, response.get_json())
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    return error["details"]["fields"]


BAD = [
    # (what is wrong, change to the pengguna record, the field named)
    ("unknown instrument", {"instrument": "kepala_dinas"}, "instrument"),
    ("unknown methodology", {"methodology": "tidak-ada"}, "methodology"),
    ("methodology without instruments", {"methodology": "ombudsman-2019"}, "instrument"),
    ("wrong methodology version", {"methodology_version": 7}, "methodology_version"),
    ("unit for an agency-level instrument", {"agency": None, "unit": UNIT}, "unit"),
    ("both unit and agency", {"unit": UNIT}, "unit"),
    ("neither unit nor agency", {"agency": None}, "unit"),
    ("unknown agency", {"agency": "PEMKAB-99.99"}, "agency"),
    (
        "question of another instrument",
        {"answers": {"OUT-01": 1, "OUT-02": 1, "PG-01": 1}},
        "answers.PG-01",
    ),
    ("observed indicator", {"answers": {"OUT-01": 1, "OUT-02": 1, "P-01": 1}}, "answers.P-01"),
    ("unknown question", {"answers": {"OUT-01": 1, "OUT-02": 1, "X-9": 1}}, "answers.X-9"),
    ("off-scale answer", {"answers": {"OUT-01": 4, "OUT-02": 1}}, "answers.OUT-01"),
    ("negative answer", {"answers": {"OUT-01": -1, "OUT-02": 1}}, "answers.OUT-01"),
    ("yes_no word on a scale", {"answers": {"OUT-01": "yes", "OUT-02": 1}}, "answers.OUT-01"),
    ("boolean answer", {"answers": {"OUT-01": True, "OUT-02": 1}}, "answers.OUT-01"),
    ("missing question", {"answers": {"OUT-01": 1}}, "answers.OUT-02"),
    ("nothing but na", {"answers": {"OUT-01": "na", "OUT-02": "na"}}, "answers"),
    ("empty answers", {"answers": {}}, "answers"),
    ("future date", {"interview_date": "2099-01-01"}, "interview_date"),
    ("no date", {"interview_date": None}, "interview_date"),
    ("bad date", {"interview_date": "10/03/2026"}, "interview_date"),
    ("date before the methodology", {"interview_date": "2010-01-01"}, "methodology"),
    ("role of another instrument", {"respondent": {"role": "pimpinan"}}, "respondent.role"),
    ("unknown role", {"respondent": {"role": "walikota"}}, "respondent.role"),
    ("unknown gender", {"respondent": {"gender": "X"}}, "respondent.gender"),
    ("exact age", {"respondent": {"age_band": 37}}, "respondent.age_band"),
    ("a name", {"respondent": {"nama": "Siti Aminah"}}, "respondent.nama"),
    ("an identity number", {"respondent": {"nik": "3515012345670001"}}, "respondent.nik"),
    ("a telephone", {"respondent": {"telepon": "08123456789"}}, "respondent.telepon"),
    ("a long note", {"note": "x" * 501}, "note"),
    ("unknown top-level field", {"nama_responden": "Budi"}, "nama_responden"),
    ("bad submission_id", {"submission_id": "abc"}, "submission_id"),
]


@pytest.mark.parametrize(("why", "change", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_refused_naming_the_field(people, why, change, field):
    body = record()
    for key, value in change.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    assert field in _fields(people.post(body))


def test_a_name_is_refused_saying_names_are_not_collected(people):
    body = record(respondent={"nama": "Siti", "role": "pengguna_langsung"})
    fields = _fields(
        people.client.post(
            URL,
            data=json.dumps(body),
            headers={
                "Authorization": f"Bearer {people.tokens['surveyor']}",
                "Accept-Language": "en",
            },
            content_type="application/json",
        )
    )
    assert "Not collected" in fields["respondent.nama"][0]
    assert "UU 27/2022" in fields["respondent.nama"][0]


def test_staff_record_needs_a_unit(people):
    body = record("staf", unit=None, agency=AGENCY)
    body.pop("unit")
    assert "agency" in _fields(people.post(body))


def test_started_at_gives_the_local_date(people):
    # 17:30 UTC on 9 March is 00:30 on 10 March in Sidoarjo (WIB, UTC+7).
    body = record(started_at="2026-03-09T17:30:00Z")
    body.pop("interview_date")
    assert people.stored(body)["interview_date"] == "2026-03-10"


def test_foreign_region_is_refused(people):
    response = people.post(record(), "surveyor_out")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "out_of_scope"
    response = people.post(record("staf"), "surveyor_out")
    assert response.status_code == 403


def test_supervisors_cannot_post(people):
    assert people.post(record(), "supervisor").status_code == 403


def test_audit_and_event_hold_no_respondent_data(people, app):
    from fieldcheck.audit.models import AuditEntry
    from fieldcheck.outbox.models import OutboxEvent

    stored = people.stored(record(note="Di ruang tunggu."))
    with app.app_context():
        entry = db.session.execute(
            select(AuditEntry).where(AuditEntry.object_type == "interview")
        ).scalar_one()
        event = db.session.execute(
            select(OutboxEvent).where(OutboxEvent.topic == "interview.received")
        ).scalar_one()
        for text_ in (json.dumps(entry.after), json.dumps(event.payload)):
            for word in ("respondent", "gender", "age_band", "pengguna_langsung", "ruang"):
                assert word not in text_
        assert event.payload["interview_id"] == stored["id"]
        assert entry.after["instrument"] == "pengguna"


def test_list_filters_and_reject(people):
    staff = people.stored(record("staf"))
    user = people.stored(record())
    people.stored(record(interview_date="2025-05-01"))
    page = people.get(f"{URL}?instrument=pengguna&period=2026").get_json()
    assert [i["id"] for i in page["items"]] == [user["id"]]
    assert page["items"][0]["respondent"]["gender"] == "P"
    assert people.get(f"{URL}?unit={UNIT}").get_json()["total"] == 1
    assert people.get(f"{URL}?agency={AGENCY}").get_json()["total"] == 3
    # Outside the supervisor's region: nothing, and one record is not found.
    assert people.get(URL, "supervisor_out").get_json()["total"] == 0
    assert people.get(f"{URL}/{staff['id']}", "supervisor_out").status_code == 404
    # Surveyors do not list (coverage and lists are for supervisors).
    assert people.get(URL, "surveyor").status_code == 403

    from tests.helpers import post_json

    reject = f"{URL}/{user['id']}/reject"
    assert post_json(people.client, reject, {}, people.tokens["supervisor"]).status_code == 422
    assert (
        post_json(
            people.client, reject, {"reason": "x"}, people.tokens["supervisor_out"]
        ).status_code
        == 404
    )
    done = post_json(
        people.client, reject, {"reason": "Bukan pengguna"}, people.tokens["supervisor"]
    )
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["status"], done.get_json()["status_reason"]) == (
        "rejected",
        "Bukan pengguna",
    )
    again = post_json(people.client, reject, {"reason": "lagi"}, people.tokens["supervisor"])
    assert again.status_code == 409
    assert people.get(f"{URL}?status=rejected").get_json()["total"] == 1


def test_the_documented_example_is_stored_under_the_shipped_ombudsman_2022(people):
    """docs/examples/interview-pengguna-sidoarjo.json against the real 2022 file."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "docs/examples/interview-pengguna-sidoarjo.json"
    body = json.loads(example.read_text(encoding="utf-8"))
    stored = people.stored(body)
    # Five answered 0..3 questions of weight 1: (3+3+2+3+3)/15 = 14/15 -> 93.33; "na" left out.
    assert stored["dimensions"] == {"output": 93.33}
    assert (stored["methodology"], stored["agency_code"]) == ("ombudsman-2022", AGENCY)
