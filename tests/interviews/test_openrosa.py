"""Interview forms over OpenRosa: one per instrument, valid for ODK Validate, listed with their
media (units.csv or agencies.csv of the user's region), no name field; a Collect-shaped
submission stores the same record as the JSON post, idempotent by instanceID, errors as
OpenRosaResponse in the phone's language."""

from __future__ import annotations

import copy
import uuid
from xml.etree import ElementTree as ET  # noqa: S405 - the server's own answers

from tests.interviews.conftest import AGENCY, URL, M, record
from tests.openrosa.conftest import XF, _strip, post_collect
from tests.openrosa.test_forms import FL, MF, _java_or_skip

FORMS = {
    "staf": f"fieldcheck-{M}-staf",
    "pengguna": f"fieldcheck-{M}-pengguna",
    "petugas_pengaduan": f"fieldcheck-{M}-petugas_pengaduan",
}
RESPONSE = "{http://openrosa.org/http/response}"


def test_interview_forms_pass_odk_validate(app, tmp_path):
    from pyxform.validators.odk_validate import check_xform

    from fieldcheck.catalogue.registry import get_registry
    from fieldcheck.openrosa.xform import all_forms

    _java_or_skip()
    with app.app_context():
        forms = all_forms(get_registry().methodology(M))
    assert sorted(f.form_id for f in forms) == sorted([f"fieldcheck-{M}", *FORMS.values()])
    for form in forms:
        path = tmp_path / f"{form.form_id}.xml"
        path.write_text(form.xml, encoding="utf-8")
        assert check_xform(str(path)) == [], form.form_id


def _form(client, token, form_id) -> str:
    response = client.get(f"/openrosa/key/{token}/forms/{form_id}.xml")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_forms_listed_with_their_media_and_no_name_field(people):
    token = people.tokens["surveyor"]
    listed = ET.fromstring(people.client.get(f"/openrosa/key/{token}/formList").data)  # noqa: S314
    ids = {e.text for e in listed.iter(f"{FL}formID")}
    assert set(FORMS.values()) <= ids
    # The visit checklist of the 2022-shaped methodology asks only what is observed.
    checklist = _form(people.client, token, f"fieldcheck-{M}")
    assert "P-01" in checklist and "OUT-01" not in checklist and "IN-01" not in checklist
    staff = _form(people.client, token, FORMS["staf"])
    users = _form(people.client, token, FORMS["pengguna"])
    assert "jr://file-csv/units.csv" in staff and "agencies.csv" not in staff
    assert "jr://file-csv/agencies.csv" in users and "OUT-02" in users and "IN-01" not in users
    for xml, subject, questions in (
        (staff, "unit", {"IN-01", "IN-02"}),
        (users, "instansi", {"OUT-01", "OUT-02"}),
    ):
        assert "Laki-laki" in xml and "Perempuan" in xml
        # The instance holds exactly these fields: no name, identity or contact of anyone.
        root = ET.fromstring(xml)  # noqa: S314
        instance = root.find(f".//{{{XF}}}instance")[0]
        leaves = {e.tag.split("}")[1] for e in instance.iter() if len(e) == 0}
        assert leaves == {
            "start",
            "end",
            subject,
            "tanggal_wawancara",
            "responden_peran",
            "responden_jenis_kelamin",
            "responden_usia",
            "catatan",
            "instanceID",
            *questions,
        }
    manifest = ET.fromstring(  # noqa: S314
        people.client.get(f"/openrosa/key/{token}/forms/{FORMS['pengguna']}/manifest").data
    )
    assert [e.text for e in manifest.iter(f"{MF}filename")] == ["agencies.csv"]
    media = people.client.get(
        f"/openrosa/key/{token}/forms/{FORMS['pengguna']}/attachments/agencies.csv"
    ).get_data(as_text=True)
    assert AGENCY in media and "PEMKOT-13.71" not in media  # region 35 only
    # A media file the form does not read is not served for it.
    assert (
        people.client.get(
            f"/openrosa/key/{token}/forms/{FORMS['pengguna']}/attachments/services.csv"
        ).status_code
        == 404
    )


def collect_interview(form: str, body: dict) -> bytes:
    """The instance XML Collect writes for the JSON record ``body`` filled into ``form``."""
    root = ET.fromstring(form)  # noqa: S314 - the server's own form
    model = root.find(f"{{http://www.w3.org/1999/xhtml}}head/{{{XF}}}model")
    data = copy.deepcopy(model.find(f"{{{XF}}}instance")[0])
    _strip(data)
    respondent = body.get("respondent", {})
    values = {
        "start": "2026-03-10T09:00:00.000+07:00",
        "end": "2026-03-10T09:20:00.000+07:00",
        "unit": body.get("unit"),
        "instansi": body.get("agency"),
        "tanggal_wawancara": body["interview_date"],
        "responden_peran": respondent.get("role"),
        "responden_jenis_kelamin": respondent.get("gender"),
        "responden_usia": respondent.get("age_band"),
        "catatan": body.get("note"),
        "instanceID": f"uuid:{body['submission_id']}",
        **{code: str(v) for code, v in body["answers"].items()},
    }
    for element in data.iter():
        if len(element) == 0 and element.tag in values:
            element.text = values[element.tag] or None
    data.set("xmlns:jr", "http://openrosa.org/javarosa")
    data.set("xmlns:orx", "http://openrosa.org/xforms")
    return b"<?xml version='1.0' ?>" + ET.tostring(data, encoding="utf-8")


def _message(response) -> str:
    root = ET.fromstring(response.data)  # noqa: S314
    return root.find(f"{RESPONSE}message").text


def _comparable(stored: dict) -> dict:
    return {k: v for k, v in stored.items() if k not in ("id", "submission_id", "received_at")}


def test_collect_submission_stores_the_same_record_as_the_json_post(people):
    token = people.tokens["surveyor"]
    for instrument in ("staf", "pengguna", "petugas_pengaduan"):
        via_json = record(instrument, note="Di ruang tunggu")
        json_id = people.stored(via_json)["id"]
        via_phone = dict(copy.deepcopy(via_json), submission_id=str(uuid.uuid4()))
        xml = collect_interview(_form(people.client, token, FORMS[instrument]), via_phone)
        response = post_collect(people.client, token, xml)
        assert response.status_code == 201, response.data
        assert "diterima" in _message(response)
        listed = people.get(f"{URL}?instrument={instrument}").get_json()["items"]
        phone = next(i for i in listed if i["submission_id"] == via_phone["submission_id"])
        json_record = people.get(f"{URL}/{json_id}").get_json()
        assert _comparable(phone) == _comparable(json_record), instrument
        # Idempotent by instanceID: the same XML again is taken, no second record.
        again = post_collect(people.client, token, xml)
        assert again.status_code == 201
        total = people.get(f"{URL}?instrument={instrument}").get_json()["total"]
        assert total == 2
    # The same instanceID with other answers: refused in the phone's words.
    changed = dict(via_phone, answers={"PG-01": 0})
    xml = collect_interview(_form(people.client, token, FORMS["petugas_pengaduan"]), changed)
    response = post_collect(people.client, token, xml)
    assert response.status_code == 409
    assert "sudah dikirim" in _message(response)


def test_bad_interview_submissions_are_openrosa_errors_in_the_phone_language(people):
    token = people.tokens["surveyor"]
    form = _form(people.client, token, FORMS["pengguna"])
    bad = record(answers={"OUT-01": 7, "OUT-02": 1})
    response = post_collect(people.client, token, collect_interview(form, bad))
    assert response.status_code == 422
    text = _message(response)
    assert "OUT-01" in text and "Harus" in text  # Indonesian (the phone asked id-ID)
    # Another region's agency, chosen in an edited form.
    foreign = record(agency="PEMKOT-13.71")
    response = post_collect(people.client, token, collect_interview(form, foreign))
    assert response.status_code == 403
    assert "di luar wilayah Anda" in _message(response)
