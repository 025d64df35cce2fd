"""Collect-shaped submissions: the same intake as the JSON API, resends, late photos, errors."""

from __future__ import annotations

import copy
from xml.etree import ElementTree as ET  # noqa: S405 - the server's own answers

from fieldcheck.inspections.models import Inspection
from fieldcheck.openrosa.models import OpenRosaAttachment
from tests.evidence.images import jpeg
from tests.helpers import auth, count_rows, post_json, upload
from tests.openrosa.conftest import collect_body, collect_instance, form_xml, new_id, post_collect

RESPONSE = "{http://openrosa.org/http/response}"
#: Collect names a photo by the time it was taken, in milliseconds.
PHOTO = "1733400000000.jpg"


def _message(response) -> tuple[str, str]:
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.headers["Date"]
    root = ET.fromstring(response.data)  # noqa: S314 - the server's answer
    assert root.tag == f"{RESPONSE}OpenRosaResponse"
    message = root.find(f"{RESPONSE}message")
    return message.get("nature"), message.text


def _inspection(client, token: str, submission_id: str) -> dict:
    listed = client.get("/api/v1/inspections?per_page=100", headers=auth(token)).get_json()
    (match,) = [i for i in listed["items"] if i["submission_id"] == submission_id]
    return client.get(f"/api/v1/inspections/{match['id']}", headers=auth(token)).get_json()


VOLATILE = {"id", "submission_id", "surveyor_id", "received_at"}


def _comparable(inspection: dict, shas: dict[str, str]) -> dict:
    """The inspection minus ids and times, photo hashes named by role, flags by code."""

    def scrub(value):
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items() if k not in VOLATILE}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, str) and value in shas:
            return shas[value]
        return value

    result = scrub(copy.deepcopy(inspection))
    result["flags"] = sorted(result["flags"], key=lambda f: f["code"])
    return result


def test_head_announces_the_accepted_size(app, client, world):
    response = client.head(f"/openrosa/key/{world.surveyor}/submission")
    assert response.status_code == 204
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    limit = int(response.headers["X-OpenRosa-Accept-Content-Length"])
    assert limit > app.config["PHOTO_MAX_BYTES"]


def test_collect_submission_is_the_same_inspection_as_the_json_post(app, client, world, factory):
    form = form_xml(client, world.surveyor)
    # The JSON API: a photo uploaded first, cited by sha256 in the checklist.
    json_photo = jpeg(size=(64, 48), seed=1)
    sha_json = upload(client, "/api/v1/photos", json_photo, world.other).get_json()["sha256"]
    body = factory.submission()
    json_body = copy.deepcopy(body)
    json_body["answers"]["SP-01"]["photos"] = [sha_json]
    posted = post_json(client, "/api/v1/inspections", json_body, world.other)
    assert posted.status_code == 201, posted.get_json()

    # ODK Collect: the same checklist, another surveyor, its own photo sent with the XML.
    collect_photo = jpeg(size=(64, 48), seed=2)
    body["submission_id"] = new_id()
    xml = collect_instance(form, body, {"SP-01": PHOTO})
    response = post_collect(client, world.surveyor, xml, {PHOTO: collect_photo})
    nature, text = _message(response)
    assert response.status_code == 201, text
    assert nature == "submit_success"
    assert "diterima" in text  # the phone's language (Accept-Language: id-ID)

    from_json = _inspection(client, world.admin, json_body["submission_id"])
    from_collect = _inspection(client, world.admin, body["submission_id"])
    sha_collect = from_collect["photos"]["received"][0]
    assert from_collect["answers"]["SP-01"]["photos"] == [sha_collect]
    assert from_collect["score"] == from_json["score"] is not None
    assert _comparable(from_collect, {sha_collect: "photo"}) == _comparable(
        from_json, {sha_json: "photo"}
    )
    assert from_collect["findings"] and from_collect["photos"]["missing"] == []


def test_identical_resend_is_accepted_without_a_duplicate(app, client, world, factory):
    form = form_xml(client, world.surveyor)
    body = factory.submission()
    xml = collect_instance(form, body, {"SP-01": PHOTO})
    photo = jpeg(size=(64, 48), seed=3)
    first = post_collect(client, world.surveyor, xml, {PHOTO: photo})
    assert first.status_code == 201, _message(first)
    again = post_collect(client, world.surveyor, xml, {PHOTO: photo, "extra.jpg": photo})
    assert again.status_code == 201, _message(again)
    assert _message(again)[0] == "submit_success"
    assert count_rows(app, Inspection) == 1
    assert count_rows(app, OpenRosaAttachment) == 1
    inspection = _inspection(client, world.surveyor, body["submission_id"])
    assert len(inspection["photos"]["received"]) == 1


def test_changed_resend_is_refused(app, client, world, factory):
    form = form_xml(client, world.surveyor)
    body = factory.submission()
    assert post_collect(client, world.surveyor, collect_instance(form, body)).status_code == 201
    body["answers"]["SK-01"]["value"] = "yes"
    changed = post_collect(client, world.surveyor, collect_instance(form, body))
    assert changed.status_code == 409
    nature, text = _message(changed)
    assert nature == "error" and "sudah dikirim" in text
    # Another surveyor reusing the instanceID learns nothing about the stored checklist.
    stolen = post_collect(client, world.other, collect_instance(form, body))
    assert stolen.status_code == 409 and "surveyor" in _message(stolen)[1]
    assert count_rows(app, Inspection) == 1


def test_a_photo_sent_late_completes_the_evidence(app, client, world, factory):
    form = form_xml(client, world.surveyor)
    body = factory.all_yes_submission()
    with app.app_context():
        from fieldcheck.catalogue.registry import get_registry

        required = [
            i.code
            for i in get_registry().methodology("ombudsman-2019").indicators
            if i.photo_required
        ]
    names = {code: f"17334000{n:05d}.jpg" for n, code in enumerate(required)}
    xml = collect_instance(form, body, names)
    # Collect split the submission: the XML first (no room for the photos), marked incomplete.
    first = post_collect(client, world.surveyor, xml, incomplete=True)
    nature, text = _message(first)
    assert first.status_code == 201 and nature == "submit_success"
    assert names["SP-01"] in text  # the phone is told which photos are still awaited
    waiting = _inspection(client, world.supervisor, body["submission_id"])
    assert waiting["score"] == 100.0  # stored and scored, not held back by the photos
    assert "evidence_missing" in {f["code"] for f in waiting["flags"]}
    assert waiting["photos"]["received"] == []

    photos = {name: jpeg(size=(64, 48), seed=40 + n) for n, name in enumerate(names.values())}
    # Then the photos, some per request, with the same XML each time.
    half = dict(list(photos.items())[: len(photos) // 2])
    rest = dict(list(photos.items())[len(photos) // 2 :])
    partly = post_collect(client, world.surveyor, xml, half, incomplete=True)
    assert partly.status_code == 201, _message(partly)
    assert "evidence_missing" in {
        f["code"] for f in _inspection(client, world.supervisor, body["submission_id"])["flags"]
    }
    late = post_collect(client, world.surveyor, xml, rest)
    assert late.status_code == 201, _message(late)
    assert "lengkap" in _message(late)[1]
    done = _inspection(client, world.supervisor, body["submission_id"])
    assert len(done["photos"]["received"]) == len(required)
    assert done["photos"]["expected"] == done["photos"]["received"]
    assert done["photos"]["missing"] == []
    for code in required:
        (sha,) = done["answers"][code]["photos"]
        # The bytes are the inspection's evidence, served like any photo.
        served = client.get(f"/api/v1/photos/{sha}", headers=auth(world.supervisor))
        try:
            assert served.status_code == 200 and served.data == photos[names[code]]
        finally:
            served.close()  # a streamed file
    assert "evidence_missing" not in {f["code"] for f in done["flags"]}
    assert done["id"] == waiting["id"] and count_rows(app, Inspection) == 1


def test_another_photo_under_a_received_name_is_a_conflict(app, client, world, factory):
    form = form_xml(client, world.surveyor)
    body = factory.submission()
    xml = collect_instance(form, body, {"SP-01": PHOTO})
    assert (
        post_collect(client, world.surveyor, xml, {PHOTO: jpeg((64, 48), seed=5)}).status_code
        == 201
    )
    other = post_collect(client, world.surveyor, xml, {PHOTO: jpeg((64, 48), seed=6)})
    assert other.status_code == 409
    assert PHOTO in _message(other)[1]


def _refused(response, status: int) -> str:
    assert response.status_code == status, response.data
    nature, text = _message(response)
    assert nature == "error" and text
    return text


def test_bad_submissions_get_clear_openrosa_errors(app, client, world, factory):
    form = form_xml(client, world.surveyor)
    token = world.surveyor
    url = f"/openrosa/key/{token}/submission"

    text = _refused(
        post_collect(client, token, b"<data id='fieldcheck-ombudsman-2019'><unit>"), 400
    )
    assert "XML" in text

    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<data id="fieldcheck-ombudsman-2019">&b;</data>'
    )
    _refused(post_collect(client, token, bomb), 400)

    body = factory.submission(unit_code="99.99-NOWHERE")
    text = _refused(post_collect(client, token, collect_instance(form, body)), 422)
    assert "unit" in text.lower()

    body = factory.submission()
    body["answers"]["MP-01"]["value"] = "maybe"
    text = _refused(post_collect(client, token, collect_instance(form, body)), 422)
    assert "MP-01" in text

    body = factory.submission()
    del body["answers"]["SI-01"]
    assert "SI-01" in _refused(post_collect(client, token, collect_instance(form, body)), 422)

    # Made from another methodology version (version 0 of ombudsman-2019): refused, clearly.
    old = collect_instance(form, factory.submission()).replace(b'version="1.', b'version="0.', 1)
    text = _refused(post_collect(client, token, old), 409)
    assert "versi" in text and "Unduh ulang" in text

    unknown = collect_instance(form, factory.submission()).replace(
        b"fieldcheck-ombudsman-2019", b"fieldcheck-other", 1
    )
    _refused(post_collect(client, token, unknown), 404)

    no_id = collect_instance(form, factory.submission()).replace(b"uuid:", b"", 1)
    assert "instanceID" in _refused(post_collect(client, token, no_id), 422)

    # Outside the surveyor's region (West Sumatra's surveyor, an East Java unit).
    outside = collect_instance(form, factory.submission())
    _refused(post_collect(client, world.sumbar, outside), 403)

    not_multipart = client.post(url, data=b"<data/>", content_type="text/xml")
    _refused(not_multipart, 415)
    without_xml, content_type = collect_body(b"", {"a.jpg": b"x"})
    without_xml = without_xml.replace(b'name="xml_submission_file"', b'name="other"')
    _refused(client.post(url, data=without_xml, content_type=content_type), 415)
    cut, content_type = collect_body(collect_instance(form, factory.submission()))
    _refused(client.post(url, data=cut[:-40], content_type=content_type), 400)

    long_name = collect_instance(form, factory.submission(), {"SP-01": "x" * 300 + ".jpg"})
    assert "SP-01" in _refused(post_collect(client, token, long_name), 422)

    not_an_image = collect_instance(form, factory.submission(), {"SP-01": PHOTO})
    _refused(post_collect(client, token, not_an_image, {PHOTO: b"not a jpeg"}), 415)

    revoked = client.post(
        "/openrosa/key/nope/submission", data=b"", content_type="multipart/form-data; boundary=x"
    )
    _refused(revoked, 401)
    head = client.head(f"/openrosa/key/{world.supervisor}/submission")
    assert head.status_code == 403 and head.headers["X-OpenRosa-Version"] == "1.0"
    assert count_rows(app, Inspection) == 0


def test_a_form_regenerated_for_the_same_methodology_version_is_still_taken(client, world, factory):
    form = form_xml(client, world.surveyor)
    xml = collect_instance(form, factory.submission())
    current = xml.split(b'version="', 1)[1].split(b'"', 1)[0]
    assert current.startswith(b"1.")
    regenerated = xml.replace(b'version="' + current, b'version="1.000000000000', 1)
    response = post_collect(client, world.surveyor, regenerated)
    assert response.status_code == 201, _message(response)


def test_sizes_past_the_limits_are_413(app, client, world, factory):
    app.config["PHOTO_MAX_BYTES"] = 20_000
    form = form_xml(client, world.surveyor)
    limit = int(
        client.head(f"/openrosa/key/{world.surveyor}/submission").headers[
            "X-OpenRosa-Accept-Content-Length"
        ]
    )
    xml = collect_instance(form, factory.submission(), {"SP-01": PHOTO})
    big_photo = jpeg(size=(400, 400), seed=9) + b"\0" * 30_000
    text = _refused(post_collect(client, world.surveyor, xml, {PHOTO: big_photo}), 413)
    assert PHOTO in text
    body, content_type = collect_body(xml, {PHOTO: b"\0" * (limit + 1)})
    response = client.post(
        f"/openrosa/key/{world.surveyor}/submission", data=body, content_type=content_type
    )
    assert str(limit) in _refused(response, 413)
    assert count_rows(app, Inspection) == 0


def test_english_when_the_phone_asks_for_it(client, world, factory):
    form = form_xml(client, world.surveyor)
    body, content_type = collect_body(collect_instance(form, factory.submission()))
    response = client.post(
        f"/openrosa/key/{world.surveyor}/submission",
        data=body,
        content_type=content_type,
        headers={"Accept-Language": "en-US,en;q=0.9"},
    )
    assert response.status_code == 201
    assert "received" in _message(response)[1]


def test_after_the_trial_answers_say_their_language_and_name_what_is_wrong(
    app, client, world, factory
):
    """The trial's OpenRosa details: Content-Language on every answer, an OpenRosa 405 for a
    GET of the submission URL, wrong values in the phone's words, the refused file named."""
    form = form_xml(client, world.surveyor)
    token = world.surveyor
    listed = client.get(f"/openrosa/key/{token}/formList", headers={"Accept-Language": "id-ID"})
    assert listed.headers["Content-Language"] == "id"
    assert "Accept-Language" in listed.headers["Vary"]
    english = client.get(f"/openrosa/key/{token}/formList", headers={"Accept-Language": "en"})
    assert english.headers["Content-Language"] == "en"

    # Someone opens the submission URL in a browser: OpenRosa XML, not the site's HTML page.
    for who in (token, "nope"):
        opened = client.get(f"/openrosa/key/{who}/submission")
        text = _refused(opened, 405)
        assert opened.headers["Allow"] == "HEAD, POST"
        assert opened.headers["Content-Language"] == "id"
        assert "ODK Collect" in text and "peramban" in text

    body = factory.submission()
    body["answers"]["MP-01"]["value"] = "maybe"
    text = _refused(post_collect(client, token, collect_instance(form, body)), 422)
    assert "MP-01: Pilih salah satu jawaban formulir: Ya, Sebagian, Tidak, Tidak berlaku." in text
    assert "yes, partial" not in text

    not_an_image = collect_instance(form, factory.submission(), {"SP-01": PHOTO})
    response = post_collect(client, token, not_an_image, {PHOTO: b"not a jpeg"})
    text = _refused(response, 415)
    assert response.headers["Content-Language"] == "id"
    assert f"Berkas {PHOTO} (foto untuk SP-01) ditolak" in text
    assert "JPEG" in text
    assert count_rows(app, Inspection) == 0


def test_phone_words_for_a_scale_question():
    from decimal import Decimal

    from fieldcheck.core.model import Dimension, Indicator
    from fieldcheck.openrosa.submission import in_phone_words
    from tests.core.helpers import synthetic_methodology

    methodology = synthetic_methodology(
        (Indicator("S", "d", "?", ("scale", 0, 3), Decimal(1), obligation="ob"),),
        dimensions=(Dimension("d", "D"),),
    )
    details = {"fields": {"answers.S.value": ["x"], "unit_code": ["y"]}}
    words = in_phone_words(details, methodology)["fields"]
    assert words["unit_code"] == ["y"]
    assert words["answers.S.value"] == [
        "Choose one of the form's answers: 0, 1, 2, 3, Tidak berlaku."
    ]


#: The repeat instance Collect sends when the surveyor leaves the first (automatic) instance of
#: the service repeat empty: every leaf present, none answered.
EMPTY_SERVICE = (
    b"<layanan><layanan_kode/><layanan_komponen/><layanan_biaya/><layanan_hari/>"
    b"<layanan_persyaratan/></layanan>"
)


def test_a_submission_with_no_service_observed(app, client, world, factory):
    """No posted standard seen: the repeat's first instance stays empty (the service is not
    required until a component is ticked) and the checklist is the JSON one without services."""
    form = form_xml(client, world.surveyor)
    service = 'nodeset="/data/layanan/layanan_kode"'
    bind = next(line for line in form.splitlines() if service in line and "<bind" in line)
    assert "required=\" ../layanan_komponen  != ''\"" in bind
    body = factory.submission()
    body["posted_standards"] = []
    body["answers"]["SP-01"] = {"value": "no"}
    json_body = copy.deepcopy(body)
    json_body["submission_id"] = new_id()
    posted = post_json(client, "/api/v1/inspections", json_body, world.other)
    assert posted.status_code == 201, posted.get_json()

    xml = collect_instance(form, body)
    assert b"<layanan>" not in xml
    xml = xml.replace(b"<lokasi", EMPTY_SERVICE + b"<lokasi", 1)
    response = post_collect(client, world.surveyor, xml)
    assert response.status_code == 201, _message(response)
    from_collect = _inspection(client, world.admin, body["submission_id"])
    from_json = _inspection(client, world.admin, json_body["submission_id"])
    assert from_collect["posted_standards"] == [] == from_json["posted_standards"]
    assert from_collect["score"] == from_json["score"] is not None
    assert _comparable(from_collect, {}) == _comparable(from_json, {})
    # The identical resend (Collect retrying) is the same inspection.
    assert post_collect(client, world.surveyor, xml).status_code == 201
    assert count_rows(app, Inspection) == 2

    # Something recorded without naming the service is still refused, by name.
    half = factory.submission()
    xml = collect_instance(form, half).replace(
        b"<layanan_kode>adminduk.ktp-el</layanan_kode>", b"<layanan_kode/>", 1
    )
    text = _refused(post_collect(client, world.surveyor, xml), 422)
    assert "layanan ke-1" in text


def test_components_ticked_with_no_service_chosen_say_what_to_do(app, client, world, factory):
    """Collect sends a service repeat with its components ticked and the service left unchosen
    (a form whose bind was edited, or an older form): the phone is told to choose the service,
    in its language, not the schema's "Length must be between 1 and 64"."""
    form = form_xml(client, world.surveyor)
    body = factory.submission()
    assert body["posted_standards"][0]["components"]
    xml = collect_instance(form, body).replace(
        b"<layanan_kode>adminduk.ktp-el</layanan_kode>", b"<layanan_kode/>", 1
    )
    text = _refused(post_collect(client, world.surveyor, xml), 422)
    assert "layanan ke-1: Pilih layanan untuk komponen yang terpampang ini." in text
    assert "Length" not in text and "Panjang" not in text

    english = client.post(
        f"/openrosa/key/{world.surveyor}/submission",
        data=collect_body(xml)[0],
        content_type=collect_body(xml)[1],
        headers={"Accept-Language": "en"},
    )
    text = _refused(english, 422)
    assert "service 1: Choose the service these components were posted for." in text

    # One more instance, after the others, with only a fee recorded: named by its place.
    second = b"<layanan><layanan_kode/><layanan_komponen/><layanan_biaya>5000</layanan_biaya>"
    second += b"<layanan_hari/><layanan_persyaratan/></layanan>"
    xml = collect_instance(form, body).replace(b"<lokasi", second + b"<lokasi", 1)
    text = _refused(post_collect(client, world.surveyor, xml), 422)
    place = len(body["posted_standards"]) + 1
    assert f"layanan ke-{place}: Pilih layanan untuk jawaban yang dicatat ini." in text
    assert "layanan ke-1" not in text
    assert count_rows(app, Inspection) == 0


def test_errors_no_openrosa_view_saw_are_openrosa_messages_too(app, client, world):
    """The router's 404 and 405 and a rate limit's 429 under /openrosa/ are OpenRosa XML with
    the OpenRosa headers (Collect shows the message), never the site's HTML page or JSON."""
    token = world.surveyor
    unknown = client.get(f"/openrosa/key/{token}/formulir-lama", headers={"Accept-Language": "en"})
    assert _refused(unknown, 404) == "No such object."
    assert unknown.headers["X-OpenRosa-Version"] == "1.0"
    assert unknown.headers["Content-Language"] == "en"

    posted = client.post(f"/openrosa/key/{token}/formList")
    assert "tidak diizinkan" in _refused(posted, 405)
    assert posted.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert posted.headers["X-OpenRosa-Version"] == "1.0"
    assert posted.headers["Content-Language"] == "id"

    app.config["RATELIMIT_PER_ADDRESS"] = "2 per minute"
    answers = [client.get(f"/openrosa/key/{token}/formList") for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [200, 200]
    _refused(answers[2], 429)
    assert int(answers[2].headers["Retry-After"]) > 0
    assert answers[2].headers["X-OpenRosa-Version"] == "1.0"


def test_a_form_of_an_earlier_published_version_is_scored_with_it(client, world, factory):
    """Issue 16: v2 takes effect; a phone still holding the v1 form sends a visit made while v1
    was in force (scored with v1), and one made after (refused: v1 was not in force then)."""
    from datetime import timedelta

    from fieldcheck.catalogue.registry import local_today
    from tests.methodologies.versions import version_toml

    with client.application.app_context():
        today = local_today()
    v1_form = form_xml(client, world.surveyor)
    uploaded = client.post(
        "/api/v1/methodologies",
        data=version_toml(2).encode(),
        headers=auth(world.admin),
        content_type="application/toml",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    effective = today - timedelta(days=3)
    published = post_json(
        client,
        "/api/v1/methodologies/ombudsman-2019/versions/2/publish",
        {"effective_from": effective.isoformat()},
        world.admin,
    )
    assert published.status_code == 200, published.get_json()
    v2_form = form_xml(client, world.surveyor)
    assert 'version="2.' in v2_form and 'version="1.' in v1_form

    def visit(day) -> dict:
        return factory.submission(
            started_at=f"{day.isoformat()}T09:00:00+07:00",
            finished_at=f"{day.isoformat()}T09:30:00+07:00",
        )

    before = visit(effective - timedelta(days=10))
    response = post_collect(client, world.surveyor, collect_instance(v1_form, before))
    assert response.status_code == 201, _message(response)
    assert _inspection(client, world.admin, before["submission_id"])["methodology_version"] == 1

    after = visit(effective + timedelta(days=1))
    refused = post_collect(client, world.surveyor, collect_instance(v1_form, after))
    assert refused.status_code == 422, _message(refused)
    now = visit(effective + timedelta(days=1))
    taken = post_collect(client, world.surveyor, collect_instance(v2_form, now))
    assert taken.status_code == 201, _message(taken)
    assert _inspection(client, world.admin, now["submission_id"])["methodology_version"] == 2
