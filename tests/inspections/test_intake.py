"""POST /api/v1/inspections end to end: idempotency, validation, findings, scores, durability."""

from __future__ import annotations

import json

import pytest

from fieldcheck.inspections.models import Answer, FindingRow, Inspection
from tests.helpers import auth, count_rows, post_json

URL = "/api/v1/inspections"


@pytest.fixture
def surveyor(factory):
    """Demo units plus a surveyor scoped to Jawa Timur; returns the token."""
    factory.units()
    return factory.user("surveyor", "35")[1]


def test_sample_checklist_is_scored_with_cited_findings(client, factory, surveyor):
    body = factory.submission()
    response = post_json(client, URL, body, surveyor)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["status"] == "received"
    assert data["submission_id"] == body["submission_id"]
    assert response.headers["Location"].endswith(f"/api/v1/inspections/{data['id']}")
    assert 0 <= data["score"] <= 100
    assert data["zone"] in {"merah", "kuning", "hijau"}
    fee = [f for f in data["findings"] if f["rule"] == "fee.above_legal"]
    assert fee == [
        {
            "rule": "fee.above_legal",
            "severity": "violation",
            "category": "permintaan imbalan",
            "citation": "UU 24/2013 Pasal 79A",
            "message": fee[0]["message"],
            "expected": 0,
            "observed": 25000,
            "service": "adminduk.ktp-el",
            "component": "biaya",
            "sanction": fee[0]["sanction"],
            "id": fee[0]["id"],
            "is_withdrawn": False,
            "withdrawn_at": None,
        }
    ]
    assert fee[0]["sanction"].startswith("UU 24/2013 Pasal 95B")  # charging for it is a crime
    extra = [f for f in data["findings"] if f["rule"] == "requirements.extra"]
    assert extra and extra[0]["citation"] == "Perpres 96/2018 Pasal 15"
    assert all(f["citation"] for f in data["findings"])


def test_fee_finding_names_the_amount(client, factory, surveyor):
    data = post_json(client, URL, factory.submission(), surveyor).get_json()
    (fee,) = [f for f in data["findings"] if f["rule"] == "fee.above_legal"]
    assert "Rp25.000" in fee["message"]  # in Indonesian, the default for findings


def test_identical_resend_returns_200_and_the_same_resource(client, factory, surveyor, app):
    body = factory.submission()
    first = post_json(client, URL, body, surveyor)
    # Same content, other key order and whitespace: still the same submission.
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    second = client.post(
        URL, data=reordered, headers=auth(surveyor), content_type="application/json"
    )
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.get_json() == first.get_json()
    assert count_rows(app, Inspection) == 1


def test_same_submission_id_with_another_body_is_409_and_changes_nothing(
    client, factory, surveyor, app
):
    body = factory.submission()
    stored = post_json(client, URL, body, surveyor).get_json()
    changed = dict(body, notes="diubah")
    response = post_json(client, URL, changed, surveyor)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "submission_conflict"
    assert error["details"]["inspection_id"] == stored["id"]
    again = client.get(f"{URL}/{stored['id']}", headers=auth(surveyor)).get_json()
    assert again["notes"] == body["notes"]
    assert count_rows(app, Inspection) == 1


def test_another_surveyor_reusing_a_submission_id_learns_nothing(client, factory, surveyor, app):
    """The idempotent resend answers the surveyor who sent the checklist, no one else: not with
    the stored inspection, not with its id."""
    body = factory.submission()
    stored = post_json(client, URL, body, surveyor).get_json()
    other = factory.user("surveyor", "35")[1]
    for attempt in (body, dict(body, notes="diubah")):
        response = post_json(client, URL, attempt, other)
        assert response.status_code == 409
        error = response.get_json()["error"]
        assert error["code"] == "submission_conflict"
        assert "inspection_id" not in error["details"]
        assert str(stored["id"]) not in response.get_data(as_text=True).replace(
            body["submission_id"], ""
        )
    assert client.get(f"{URL}/{stored['id']}", headers=auth(other)).status_code == 404
    resend = post_json(client, URL, body, surveyor)
    assert (resend.status_code, resend.get_json()["id"]) == (200, stored["id"])
    assert count_rows(app, Inspection) == 1


def test_every_item_present_and_lawful_scores_100_hijau(client, factory, surveyor):
    response = post_json(client, URL, factory.all_yes_submission(), surveyor)
    data = response.get_json()
    assert response.status_code == 201, data
    assert (data["score"], data["zone"], data["findings"]) == (100.0, "hijau", [])


def test_all_na_has_no_score(client, factory, surveyor):
    body = factory.all_yes_submission(posted_standards=[])
    body["answers"] = {code: {"value": "na"} for code in body["answers"]}
    data = post_json(client, URL, body, surveyor).get_json()
    assert (data["score"], data["zone"]) == (None, None)


def test_sim_c_above_pp_76_2020_ceiling_on_a_2026_visit(client, factory, surveyor):
    body = factory.all_yes_submission(
        unit_code="35.15-SATPAS",
        posted_standards=[
            {
                "service": "polri.sim-c-baru",
                "components": ["persyaratan", "prosedur", "waktu", "biaya", "produk", "pengaduan"],
                "fee_idr": 150000,
                "max_days": 1,
                "requirements": [],
            }
        ],
    )
    data = post_json(client, URL, body, surveyor).get_json()
    (finding,) = [f for f in data["findings"] if f["rule"] == "fee.above_legal"]
    assert finding["citation"].startswith("PP 76/2020")
    assert (finding["expected"], finding["observed"]) == (100000, 150000)
    assert finding["category"] == "permintaan imbalan"
    assert data["score"] < 100


def _mutate(body, path, value):
    target = body
    *parents, last = path
    for key in parents:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return body


BAD_BODIES = [
    # (case id, path to change, new value, expected field path in details.fields)
    ("missing-submission-id", ["submission_id"], KeyError, "submission_id"),
    ("submission-id-not-uuid", ["submission_id"], "abc", "submission_id"),
    ("unknown-unit", ["unit_code"], "99.99-NOPE", "unit_code"),
    ("unit-code-wrong-type", ["unit_code"], 35, "unit_code"),
    ("unknown-methodology", ["methodology"], "ombudsman-1999", "methodology"),
    ("naive-started-at", ["started_at"], "2026-11-20T09:12:00", "started_at"),
    ("finished-before-started", ["finished_at"], "2026-11-20T08:00:00+07:00", "finished_at"),
    ("lat-out-of-range", ["location", "lat"], 123.0, "location.lat"),
    ("lat-as-string", ["location", "lat"], "-7.4478", "location.lat"),
    ("accuracy-as-string", ["location", "accuracy_m"], "12", "location.accuracy_m"),
    # Conversions to UTC and to the unit's zone overflow at the edges of Python's dates.
    ("year-9999-west", ["finished_at"], "9999-12-31T23:30:00-05:00", "finished_at"),
    ("year-1", ["started_at"], "0001-01-01T00:00:00+07:00", "started_at"),
    ("supersedes-past-32-bits", ["supersedes"], 2**31, "supersedes"),
    ("accuracy-negative", ["location", "accuracy_m"], -1, "location.accuracy_m"),
    ("unknown-indicator", ["answers", "XX-99"], {"value": "yes"}, "answers.XX-99"),
    ("bad-answer-word", ["answers", "SP-01", "value"], "maybe", "answers.SP-01.value"),
    ("answer-bool", ["answers", "SP-01", "value"], True, "answers.SP-01.value"),
    ("answer-unknown-field", ["answers", "SP-01", "colour"], "red", "answers.SP-01.colour"),
    ("missing-answer", ["answers", "SP-01"], KeyError, "answers.SP-01"),
    ("service-scope-answered", ["answers", "SV-BIAYA"], {"value": "yes"}, "answers.SV-BIAYA"),
    ("photo-not-sha256", ["answers", "MP-01", "photos"], ["x.jpg"], "answers.MP-01.photos.0"),
    (
        "unknown-service",
        ["posted_standards", 0, "service"],
        "adminduk.nope",
        "posted_standards.0.service",
    ),
    (
        "unknown-component",
        ["posted_standards", 0, "components"],
        ["harga"],
        "posted_standards.0.components.0",
    ),
    ("negative-fee", ["posted_standards", 0, "fee_idr"], -5, "posted_standards.0.fee_idr"),
    ("fee-as-string", ["posted_standards", 0, "fee_idr"], "25000", "posted_standards.0.fee_idr"),
    ("fee-fraction", ["posted_standards", 0, "fee_idr"], 2500.5, "posted_standards.0.fee_idr"),
    ("unknown-top-level-field", ["colour"], "red", "colour"),
    ("answers-not-object", ["answers"], [], "answers"),
    # A value read off the board means its component is posted: otherwise it contradicts itself.
    (
        "fee-without-biaya",
        ["posted_standards", 1, "components"],
        ["persyaratan", "prosedur", "produk"],
        "posted_standards.1.fee_idr",
    ),
    (
        "days-without-waktu",
        ["posted_standards", 0, "components"],
        ["persyaratan", "prosedur", "biaya", "produk"],
        "posted_standards.0.max_days",
    ),
    (
        "requirements-without-persyaratan",
        ["posted_standards", 1, "components"],
        ["prosedur", "biaya", "produk"],
        "posted_standards.1.requirements",
    ),
    # Sidoarjo's Disdukcapil does not issue driving licences: no finding against it for one.
    (
        "service-not-offered",
        ["posted_standards", 0, "service"],
        "polri.sim-c-baru",
        "posted_standards.0.service",
    ),
    # "The standard is published", yet nothing of it listed: the service components would vanish.
    ("standard-published-but-none-listed", ["posted_standards"], [], "posted_standards"),
]


@pytest.mark.parametrize(
    ("path", "value", "field"), [c[1:] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES]
)
def test_invalid_submission_is_422_with_field_path_and_stores_nothing(
    client, factory, surveyor, app, path, value, field
):
    body = _mutate(factory.submission(), path, value)
    response = post_json(client, URL, body, surveyor)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["details"]["fields"], error["details"]["fields"]
    assert all(isinstance(m, list) and m for m in error["details"]["fields"].values())
    assert count_rows(app, Inspection) == 0
    assert count_rows(app, Answer) == 0


def test_a_unit_publishing_no_standard_at_all_scores_zero_on_every_component(
    client, factory, surveyor
):
    """No service shows a standard because the unit publishes none (SP-01 "no"): the six
    service components are missing (0), not "does not apply", so it cannot come out hijau on its
    other indicators; the Pasal 54(8) sanction for having no standard is named."""
    body = factory.all_yes_submission(posted_standards=[])
    body["answers"]["SP-01"] = {"value": "no"}
    data = post_json(client, URL, body, surveyor).get_json()
    components = [i for i in data["breakdown"]["indicators"] if i["code"].startswith("SV-")]
    assert components and all(i["value"] == 0 for i in components)
    assert data["zone"] == "merah"
    unmet = [f for f in data["findings"] if f["rule"] == "obligation.unmet"]
    assert "Pasal 54 ayat (8)" in unmet[0]["sanction"]

    # One bare service beside a posted one is a missing standard for that service, not "no
    # standard at all": no dismissal sanction on it.
    body = factory.all_yes_submission()
    body["posted_standards"].append({"service": "adminduk.kk", "components": []})
    absent = [
        f
        for f in post_json(client, URL, body, surveyor).get_json()["findings"]
        if f["rule"] == "standard.absent"
    ]
    assert [(f["service"], f["sanction"]) for f in absent] == [("adminduk.kk", None)]
    body = factory.all_yes_submission(
        posted_standards=[{"service": "adminduk.kk", "components": []}]
    )
    body["answers"]["SP-01"] = {"value": "no"}
    absent = [
        f
        for f in post_json(client, URL, body, surveyor).get_json()["findings"]
        if f["rule"] == "standard.absent"
    ]
    assert "Pasal 54 ayat (8)" in absent[0]["sanction"]


def test_repeated_service_is_422(client, factory, surveyor):
    body = factory.submission()
    body["posted_standards"].append(dict(body["posted_standards"][0]))
    response = post_json(client, URL, body, surveyor)
    assert response.status_code == 422
    assert "posted_standards.2.service" in response.get_json()["error"]["details"]["fields"]


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        ("{not json", "application/json", 400, "malformed_json"),
        ('{"a": 1, "a": 2}', "application/json", 400, "malformed_json"),
        ('{"a": NaN}', "application/json", 400, "malformed_json"),
        ('{"a": 1e309}', "application/json", 400, "malformed_json"),
        (b"\xff\xfe{}", "application/json", 400, "malformed_json"),
        ("", "application/json", 400, "malformed_json"),
        ("[1, 2]", "application/json", 422, "validation_failed"),
        ("submission_id=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("{}", "text/plain", 415, "unsupported_media_type"),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400, "malformed_json"),
    ],
    ids=[
        "broken",
        "duplicate-key",
        "nan",
        "overflowing-float",
        "not-utf8",
        "empty",
        "array",
        "form",
        "text",
        "deep-nesting",
    ],
)
def test_malformed_bodies_get_the_envelope(client, surveyor, app, data, content_type, status, code):
    response = client.post(URL, data=data, headers=auth(surveyor), content_type=content_type)
    assert response.status_code == status
    assert response.is_json
    assert response.get_json()["error"]["code"] == code
    assert count_rows(app, Inspection) == 0


@pytest.mark.parametrize(
    ("notes", "note"),
    [
        ("a\u0000b", "\u0000"),  # valid JSON; PostgreSQL cannot store it
        # A phone cutting a string inside an emoji sends a lone "\\ud83d": valid JSON, not text.
        ("Antrean \ud83d", "\udc00 sisa"),
    ],
    ids=["nul", "unpaired-surrogate"],
)
def test_unstorable_characters_are_refused_with_their_path(
    client, factory, surveyor, app, notes, note
):
    body = factory.submission(notes=notes)
    body["answers"]["SP-01"]["note"] = note
    response = post_json(client, URL, body, surveyor)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["details"]["fields"]) == {"notes", "answers.SP-01.note"}
    assert count_rows(app, Inspection) == 0


def test_a_surrogate_in_a_key_is_shown_replaced_and_an_emoji_is_kept(client, factory, surveyor):
    # The path in the error carries U+FFFD so the error itself can be sent.
    response = post_json(client, URL, {"x\ud800": 1}, surveyor)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == ["x\ufffd"]
    # A well-formed pair is an emoji like any other.
    emoji = post_json(client, URL, factory.submission(notes="Antrean \U0001f600"), surveyor)
    assert emoji.status_code == 201
    assert emoji.get_json()["notes"] == "Antrean \U0001f600"


def test_a_number_too_long_to_read_is_a_plain_400(client, surveyor, app):
    body = '{"fee": ' + "9" * 5000 + "}"
    response = client.post(URL, data=body, headers=auth(surveyor), content_type="application/json")
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert "digits" in message and "sys." not in message


def test_deep_but_parseable_nesting_is_a_clean_422(client, surveyor, app):
    body = '{"submission_id": ' + "[" * 900 + "]" * 900 + "}"
    response = client.post(URL, data=body, headers=auth(surveyor), content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.is_json and "error" in response.get_json()


def test_body_over_the_limit_is_413(client, factory, surveyor, app):
    body = factory.submission(notes="x" * 2_000_000)
    response = post_json(client, URL, body, surveyor)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert count_rows(app, Inspection) == 0


def test_missing_and_bad_tokens_are_401(client, factory, surveyor):
    body = factory.submission()
    assert post_json(client, URL, body).status_code == 401
    response = post_json(client, URL, body, "fc_not-a-token")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_supervisor_cannot_post(client, factory, surveyor, app):
    _, supervisor = factory.user("supervisor", "35")
    response = post_json(client, URL, factory.submission(), supervisor)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert count_rows(app, Inspection) == 0


def test_surveyor_outside_the_units_region_is_refused(client, factory, app):
    factory.units()
    _, padang = factory.user("surveyor", "13")
    response = post_json(client, URL, factory.submission(), padang)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "out_of_scope"
    assert count_rows(app, Inspection) == 0


def test_findings_and_answers_are_stored_as_rows(client, factory, surveyor, app):
    data = post_json(client, URL, factory.submission(), surveyor).get_json()
    assert count_rows(app, FindingRow) == len(data["findings"]) > 0
    assert count_rows(app, Answer) == len(data["answers"]) == 11


def test_visit_date_is_the_local_date_in_the_units_time_zone(client, factory, app):
    factory.units()
    _, token = factory.user("surveyor", "73")
    # 23:30 WIB on 31 Dec is already 1 Jan 00:30 in Makassar (WITA).
    body = factory.all_yes_submission(
        unit_code="73.71-DUKCAPIL",
        started_at="2025-12-31T23:30:00+07:00",
        finished_at="2025-12-31T23:55:00+07:00",
    )
    data = post_json(client, URL, body, token).get_json()
    assert data["visit_date"] == "2026-01-01"


def _visit_2022(factory):
    """A visit under ombudsman-2022: only what is observed (Proses duties, Input facilities)."""
    from fieldcheck.catalogue import load_methodology
    from fieldcheck.catalogue.registry import METHODOLOGY_DIR

    methodology = load_methodology(METHODOLOGY_DIR / "ombudsman-2022.toml")
    body = factory.all_yes_submission(methodology="ombudsman-2022")
    body["answers"] = {
        i.code: {"value": 3} for i in methodology.observed_indicators if i.scope == "unit"
    }
    return body


def test_a_2022_visit_answers_only_what_is_observed(client, factory, surveyor):
    body = _visit_2022(factory)
    response = post_json(client, URL, body, surveyor)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["methodology"] == "ombudsman-2022"
    dims = {d["code"]: d["score"] for d in data["breakdown"]["dimensions"]}
    # Everything observed is at its best; the interview dimensions have nothing from a visit.
    assert dims["proses"] == 100.0 and dims["input"] == 100.0
    assert dims["output"] is None and dims["pengaduan"] is None


def test_a_2022_visit_may_not_answer_an_interview_question(client, factory, surveyor, app):
    body = _visit_2022(factory)
    body["answers"]["IN-ST-KOMPONEN"] = {"value": 3}
    response = client.post(
        URL,
        data=json.dumps(body),
        headers=auth(surveyor) | {"Accept-Language": "id"},
        content_type="application/json",
    )
    assert response.status_code == 422, response.get_json()
    fields = response.get_json()["error"]["details"]["fields"]
    assert fields == {
        "answers.IN-ST-KOMPONEN": ["Pertanyaan ini diajukan dalam wawancara, bukan saat kunjungan."]
    }
    assert count_rows(app, Inspection) == 0


def test_a_2022_visit_is_scored_but_not_zoned(client, factory, surveyor):
    """Issue 16: under a methodology zoned per agency a visit keeps its score and dimensions
    but gets no zone, grade or label of its own; the API says why, in the reader's language."""
    response = post_json(client, URL, _visit_2022(factory), surveyor)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["score"] is not None
    assert data["zone"] is None and data["grade"] is None and data["label"] is None
    supervisor = factory.user("supervisor", "35")[1]
    read = client.get(
        f"{URL}/{data['id']}", headers=auth(supervisor) | {"Accept-Language": "id"}
    ).get_json()
    assert read["zone"] is None
    assert read["not_zoned"] == (
        "Tidak dizonakan per kunjungan: zona ditentukan per instansi dari empat dimensi."
    )
    # A 2019 visit is banded per visit as before.
    banded = post_json(client, URL, factory.all_yes_submission(), surveyor).get_json()
    assert banded["zone"] is not None and banded["not_zoned"] is None
