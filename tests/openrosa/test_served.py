"""A Collect session against the real gunicorn server: pre-flight, form list, form, manifest,
media, then a submission whose photo follows in a second POST, as Collect sends them."""

from __future__ import annotations

import hashlib
from xml.etree import ElementTree as ET  # noqa: S405 - the server's own answers

import requests

from tests.evidence.images import jpeg
from tests.openrosa.conftest import collect_body, collect_instance

FL = "{http://openrosa.org/xforms/xformsList}"
MF = "{http://openrosa.org/xforms/xformsManifest}"
HEADERS = {"X-OpenRosa-Version": "1.0", "Accept-Language": "id-ID", "User-Agent": "Collect"}


def test_a_collect_session_through_gunicorn(gunicorn, factory):
    factory.units()
    _sid, token = factory.user("surveyor", "35", name="Sri Surveyor")
    _aid, admin = factory.user("admin", None, name="Admin")
    server = gunicorn(workers=1, threads=2)
    base = f"{server.url}/openrosa/key/{token}"
    with requests.Session() as phone:
        phone.headers.update(HEADERS)
        head = phone.head(f"{base}/submission", timeout=30)
        assert head.status_code == 204
        limit = int(head.headers["X-OpenRosa-Accept-Content-Length"])
        assert head.headers["X-OpenRosa-Version"] == "1.0" and head.headers["Date"]

        listing = phone.get(f"{base}/formList", timeout=30)
        assert listing.status_code == 200 and listing.headers["Date"]
        xform = next(
            x
            for x in ET.fromstring(listing.content).findall(f"{FL}xform")  # noqa: S314
            if x.find(f"{FL}formID").text == "fieldcheck-ombudsman-2019"
        )
        form = phone.get(xform.find(f"{FL}downloadUrl").text, timeout=30)
        assert xform.find(f"{FL}hash").text == "md5:" + hashlib.md5(form.content).hexdigest()  # noqa: S324
        manifest = phone.get(xform.find(f"{FL}manifestUrl").text, timeout=30)
        for media in ET.fromstring(manifest.content).findall(f"{MF}mediaFile"):  # noqa: S314
            got = phone.get(media.find(f"{MF}downloadUrl").text, timeout=30)
            assert got.status_code == 200
            assert media.find(f"{MF}hash").text == "md5:" + hashlib.md5(got.content).hexdigest()  # noqa: S324

        body = factory.submission()
        xml = collect_instance(form.text, body, {"SP-01": "1733400000000.jpg"})
        first, content_type = collect_body(xml, incomplete=True)
        assert len(first) < limit
        sent = phone.post(
            f"{base}/submission", data=first, headers={"Content-Type": content_type}, timeout=60
        )
        assert sent.status_code == 201, sent.text
        assert "1733400000000.jpg" in sent.text
        photo = jpeg(size=(320, 240), seed=77)
        second, content_type = collect_body(xml, {"1733400000000.jpg": photo})
        sent = phone.post(
            f"{base}/submission", data=second, headers={"Content-Type": content_type}, timeout=60
        )
        assert sent.status_code == 201, sent.text
        assert "lengkap" in sent.text

    api = {"Authorization": f"Bearer {admin}"}
    listed = requests.get(f"{server.url}/api/v1/inspections", headers=api, timeout=30).json()
    (item,) = listed["items"]
    assert item["submission_id"] == body["submission_id"]
    inspection = requests.get(
        f"{server.url}/api/v1/inspections/{item['id']}", headers=api, timeout=30
    ).json()
    sha = hashlib.sha256(photo).hexdigest()
    assert inspection["photos"]["received"] == [sha]
    assert inspection["answers"]["SP-01"]["photos"] == [sha]
