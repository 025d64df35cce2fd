"""The generated XForms pass ODK Validate; form list, manifest and media files as OpenRosa
clients read them."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import os
import shutil
from xml.etree import ElementTree as ET  # noqa: S405 - the server's own answers

import pytest

from fieldcheck.catalogue.registry import get_registry
from fieldcheck.openrosa.xform import build_form
from tests.openrosa.conftest import base

FL = "{http://openrosa.org/xforms/xformsList}"
MF = "{http://openrosa.org/xforms/xformsManifest}"
RESPONSE = "{http://openrosa.org/http/response}"


def _java_or_skip() -> None:
    if shutil.which("java") is None:
        # CI sets it (.ci/run): there a missing java must fail, not skip silently.
        if os.environ.get("FIELDCHECK_REQUIRE_JAVA", "") not in ("", "0"):
            pytest.fail("java is required (FIELDCHECK_REQUIRE_JAVA=1) to run ODK Validate")
        pytest.skip("java is not installed: ODK Validate cannot run")


def test_every_shipped_methodology_form_passes_odk_validate(app, tmp_path):
    from pyxform.validators.odk_validate import check_xform

    _java_or_skip()
    with app.app_context():
        methodologies = list(get_registry().methodologies.values())
    assert methodologies
    for methodology in methodologies:
        form = build_form(methodology)
        path = tmp_path / f"{form.form_id}.xml"
        path.write_text(form.xml, encoding="utf-8")
        # Raises ODKValidateError on an invalid form; warnings are returned.
        assert check_xform(str(path)) == [], form.form_id


def test_form_shows_each_unit_indicator_in_indonesian_with_photos_where_required(app):
    with app.app_context():
        methodology = get_registry().methodology("ombudsman-2019")
        form = build_form(methodology)
    root = ET.fromstring(form.xml)  # noqa: S314 - generated here
    instance = root.find(".//{http://www.w3.org/2002/xforms}instance")[0]
    names = {e.tag.split("}")[1] for e in instance.iter()}
    for indicator in methodology.indicators:
        if indicator.scope == "unit":
            assert indicator.code in names
            assert (indicator.code + "_foto" in names) == indicator.photo_required
            assert indicator.question in form.xml
        else:
            assert indicator.code not in names  # derived from the service repeat
    for field in ("start", "end", "unit", "layanan", "layanan_kode", "lokasi", "instanceID"):
        assert field in names
    assert "jr://file-csv/units.csv" in form.xml and "jr://file-csv/services.csv" in form.xml
    assert "Tidak berlaku" in form.xml and "Sebagian" in form.xml


def test_a_new_methodology_version_makes_a_new_form_version(app):
    with app.app_context():
        methodology = get_registry().methodology("ombudsman-2019")
    first = build_form(methodology)
    assert build_form(methodology).version == first.version
    assert first.version.startswith(f"{methodology.version}.")
    newer = dataclasses.replace(methodology, version=2, content_hash="0" * 64)
    assert build_form(newer).version != first.version
    assert build_form(newer).version.startswith("2.")
    reworded = dataclasses.replace(
        methodology,
        content_hash="1" * 64,
        indicators=tuple(
            dataclasses.replace(i, question=i.question + "?") for i in methodology.indicators
        ),
    )
    assert build_form(reworded).version != first.version


def _headers_ok(response) -> None:
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.headers["Date"]
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"


def test_form_list_manifest_and_media(client, world):
    response = client.get(f"/openrosa/key/{world.surveyor}/formList")
    assert response.status_code == 200
    _headers_ok(response)
    root = ET.fromstring(response.data)  # noqa: S314 - the server's answer
    assert root.tag == f"{FL}xforms"
    entries = [
        {child.tag.removeprefix(FL): child.text for child in xform}
        for xform in root.findall(f"{FL}xform")
    ]
    # Every published methodology in force that observes something gets a form: ombudsman-2022
    # (its observed part) and the KemenPANRB index too; the SKM survey has no visit form.
    assert [e["formID"] for e in entries] == [
        "fieldcheck-kemenpanrb-ipp-2017",
        "fieldcheck-ombudsman-2019",
        "fieldcheck-ombudsman-2022",
    ]
    entry = entries[1]
    assert entry["formID"] == "fieldcheck-ombudsman-2019"
    assert entry["name"].startswith("Kepatuhan")
    server = base(world.surveyor)
    assert entry["downloadUrl"] == f"{server}/forms/fieldcheck-ombudsman-2019.xml"
    assert entry["manifestUrl"] == f"{server}/forms/fieldcheck-ombudsman-2019/manifest"

    form = client.get(entry["downloadUrl"].removeprefix("http://localhost"))
    _headers_ok(form)
    assert entry["hash"] == "md5:" + hashlib.md5(form.data).hexdigest()  # noqa: S324 - OpenRosa
    assert f'version="{entry["version"]}"' in form.get_data(as_text=True)

    manifest = client.get(entry["manifestUrl"].removeprefix("http://localhost"))
    _headers_ok(manifest)
    files = {}
    for media in ET.fromstring(manifest.data).findall(f"{MF}mediaFile"):  # noqa: S314
        files[media.find(f"{MF}filename").text] = (
            media.find(f"{MF}hash").text,
            media.find(f"{MF}downloadUrl").text,
        )
    assert set(files) == {"units.csv", "services.csv"}
    tables = {}
    for name, (md5, url) in files.items():
        assert url.startswith(server + "/")
        got = client.get(url.removeprefix("http://localhost"))
        assert got.status_code == 200
        assert got.headers["X-OpenRosa-Version"] == "1.0"
        assert md5 == "md5:" + hashlib.md5(got.data).hexdigest()  # noqa: S324 - OpenRosa
        tables[name] = list(csv.DictReader(io.StringIO(got.get_data(as_text=True))))
    units = {row["name"] for row in tables["units.csv"]}
    # Region 35 (Jawa Timur) only: the surveyor's own region.
    assert "35.15-DUKCAPIL" in units
    assert all(code.startswith("35.") for code in units)
    services = {(row["unit"], row["name"]) for row in tables["services.csv"]}
    assert ("35.15-DUKCAPIL", "adminduk.ktp-el") in services
    assert {unit for unit, _ in services} <= units
    assert all(row["label"] for row in tables["services.csv"])


def test_urls_use_the_public_base_url_when_configured(app, client, world):
    app.config["PUBLIC_BASE_URL"] = "https://fieldcheck.example.go.id/"
    response = client.get(f"/openrosa/key/{world.surveyor}/formList")
    root = ET.fromstring(response.data)  # noqa: S314 - the server's answer
    urls = [e.text for e in root.findall(f"{FL}xform/{FL}downloadUrl")]
    assert (
        f"https://fieldcheck.example.go.id/openrosa/key/{world.surveyor}"
        "/forms/fieldcheck-ombudsman-2019.xml"
    ) in urls
    assert all(url.startswith("https://fieldcheck.example.go.id/openrosa/") for url in urls)


def _error(response) -> str:
    _headers_ok(response)
    root = ET.fromstring(response.data)  # noqa: S314 - the server's answer
    assert root.tag == f"{RESPONSE}OpenRosaResponse"
    message = root.find(f"{RESPONSE}message")
    assert message.get("nature") == "error"
    return message.text


def test_tokens_that_may_not_collect_get_openrosa_errors_in_the_phone_language(app, client, world):
    from fieldcheck.auth.models import ApiToken
    from fieldcheck.extensions import db

    refused = client.get(f"/openrosa/key/{world.supervisor}/formList")
    assert refused.status_code == 403
    assert "peran" in _error(refused).lower()  # Indonesian: no Accept-Language given

    unknown = client.get("/openrosa/key/not-a-token/formList", headers={"Accept-Language": "en"})
    assert unknown.status_code == 401
    assert "token" in _error(unknown).lower() and "revoked" in _error(unknown)

    with app.app_context():
        for row in db.session.query(ApiToken).all():
            row.revoked_at = row.created_at
        db.session.commit()
    revoked = client.get(f"/openrosa/key/{world.surveyor}/formList")
    assert revoked.status_code == 401
    assert "dicabut" in _error(revoked)


def test_unknown_form_and_media_file_are_openrosa_404s(client, world):
    missing = client.get(f"/openrosa/key/{world.surveyor}/forms/fieldcheck-nope.xml")
    assert missing.status_code == 404
    _error(missing)
    media = client.get(
        f"/openrosa/key/{world.surveyor}/forms/fieldcheck-ombudsman-2019/attachments/x.csv"
    )
    assert media.status_code == 404
    _error(media)
