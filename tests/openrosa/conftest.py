"""Fixtures for the OpenRosa tests: a seeded world, and submissions built as ODK Collect builds
them (the instance of the form it downloaded, filled in, posted as OkHttp's multipart body)."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET  # noqa: S405 - parses the server's own form in tests

import pytest

XF = "http://www.w3.org/2002/xforms"
JR_TEMPLATE = "{http://openrosa.org/javarosa}template"
#: 10:00 WIB on the sample visit's day (09:12-09:41 WIB).
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@dataclass
class World:
    """Units imported; surveyors of East Java (35) and West Sumatra (13), a supervisor, admin."""

    surveyor: str
    surveyor_id: int
    other: str
    sumbar: str
    supervisor: str
    admin: str


@pytest.fixture
def world(app, factory) -> World:
    app.config["CLOCK"] = lambda: NOW
    factory.units()
    sid, tok = factory.user("surveyor", "35", name="Sri Surveyor")
    _, other = factory.user("surveyor", "35", name="Budi Surveyor")
    _, sumbar = factory.user("surveyor", "13", name="Rina Surveyor")
    _, sup = factory.user("supervisor", "35", name="Supervisor Jatim")
    _, admin = factory.user("admin", None, name="Admin")
    return World(tok, sid, other, sumbar, sup, admin)


def base(token: str) -> str:
    """The server URL a phone is given (the test client's host)."""
    return f"http://localhost/openrosa/key/{token}"


def form_xml(client, token: str, form_id: str = "fieldcheck-ombudsman-2019") -> str:
    """The XForm as the phone downloads it."""
    response = client.get(f"/openrosa/key/{token}/forms/{form_id}.xml")
    assert response.status_code == 200, response.data
    return response.get_data(as_text=True)


def _strip(element: ET.Element) -> None:
    for child in element.iter():
        if isinstance(child.tag, str) and child.tag.startswith("{"):
            child.tag = child.tag.split("}", 1)[1]


def collect_instance(
    form: str, body: dict[str, Any], photos: dict[str, str] | None = None
) -> bytes:
    """The instance XML Collect writes for ``body`` (a JSON checklist) filled into ``form``:
    the form's own primary instance, leaves filled, one repeat per posted standard, a
    ``uuid:`` instanceID, root attributes id and version."""
    root = ET.fromstring(form)  # noqa: S314 - the server's own form
    model = root.find(f"{{http://www.w3.org/1999/xhtml}}head/{{{XF}}}model")
    data = copy.deepcopy(model.find(f"{{{XF}}}instance")[0])
    _strip(data)
    template = next(e for e in data if e.get(JR_TEMPLATE) is not None)
    for element in [e for e in data if e.tag == template.tag]:
        data.remove(element)
    del template.attrib[JR_TEMPLATE]
    answers = body["answers"]
    loc = body.get("location")
    values = {
        "start": body["started_at"].replace("+07:00", ".000+07:00"),
        "end": body["finished_at"].replace("+07:00", ".000+07:00"),
        "unit": body["unit_code"],
        "lokasi": "" if loc is None else f"{loc['lat']} {loc['lon']} 0.0 {loc['accuracy_m']}",
        "catatan": body.get("notes") or "",
        "instanceID": f"uuid:{body['submission_id']}",
    }
    for code, answer in answers.items():
        values[code] = str(answer["value"])
        values[f"{code}_catatan"] = answer.get("note") or ""
    for code, filename in (photos or {}).items():
        values[f"{code}_foto"] = filename
    for element in data.iter():
        if len(element) == 0 and element.tag in values:
            element.text = values[element.tag] or None
    position = list(data).index(data.find("lokasi"))
    for i, posted in enumerate(body.get("posted_standards", [])):
        repeat = copy.deepcopy(template)
        leaves = {
            "layanan_kode": posted["service"],
            "layanan_komponen": " ".join(posted["components"]),
            "layanan_biaya": "" if posted.get("fee_idr") is None else str(posted["fee_idr"]),
            "layanan_hari": "" if posted.get("max_days") is None else str(posted["max_days"]),
            "layanan_persyaratan": "\n".join(posted.get("requirements", [])),
        }
        for leaf in repeat:
            leaf.text = leaves[leaf.tag] or None
        data.insert(position + i, repeat)
    data.set("xmlns:jr", "http://openrosa.org/javarosa")
    data.set("xmlns:orx", "http://openrosa.org/xforms")
    return b"<?xml version='1.0' ?>" + ET.tostring(data, encoding="utf-8", xml_declaration=False)


BOUNDARY = "7f3f6c1e-4b7e-4d1c-9a1a-3e5f0c2d8b90"


def collect_body(
    xml: bytes,
    attachments: dict[str, bytes] | None = None,
    incomplete: bool = False,
    xml_name: str = "fieldcheck-ombudsman-2019_2026-11-20_09-41-00.xml",
) -> tuple[bytes, str]:
    """The multipart body ODK Collect (OkHttp's MultipartBody) posts, and its content type:
    the XML part, one part per attachment named by its file name, ``*isIncomplete*`` when the
    submission was split over several requests."""
    out = bytearray()

    def part(disposition: str, content_type: str | None, data: bytes) -> None:
        out.extend(f"--{BOUNDARY}\r\nContent-Disposition: form-data; {disposition}\r\n".encode())
        if content_type is not None:
            out.extend(f"Content-Type: {content_type}\r\n".encode())
        out.extend(f"Content-Length: {len(data)}\r\n\r\n".encode())
        out.extend(data + b"\r\n")

    part(f'name="xml_submission_file"; filename="{xml_name}"', "text/xml", xml)
    for name, data in (attachments or {}).items():
        part(f'name="{name}"; filename="{name}"', "image/jpeg", data)
    if incomplete:
        part('name="*isIncomplete*"', None, b"yes")
    out.extend(f"--{BOUNDARY}--\r\n".encode())
    return bytes(out), f"multipart/form-data; boundary={BOUNDARY}"


def post_collect(client, token: str, xml: bytes, attachments=None, **kwargs):
    """POST a Collect-shaped submission to the phone's server URL."""
    body, content_type = collect_body(xml, attachments, **kwargs)
    return client.post(
        f"/openrosa/key/{token}/submission",
        data=body,
        content_type=content_type,
        headers={"X-OpenRosa-Version": "1.0", "Accept-Language": "id-ID"},
    )


def new_id() -> str:
    """A fresh submission id."""
    return str(uuid.uuid4())
