"""A polyglot photo (a real JPEG with a ZIP holding a PHP script appended) is stored as evidence,
byte for byte, and served only as an image nothing in a browser would run: API and pages."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from PIL import Image

from tests.evidence.images import jpeg
from tests.helpers import auth, upload
from tests.ops.conftest import PASSWORD, login_user
from tests.web.pages import Pages

PHP = b"<?php system($_GET['c']); ?>"


def polyglot() -> bytes:
    """A JPEG Pillow decodes, followed by a ZIP archive holding ``shell.php``."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("shell.php", PHP)
    data = jpeg(size=(120, 90), seed=77) + archive.getvalue() + PHP
    # It really is both: an image decoder and an unzip tool each accept it.
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == "JPEG"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.read("shell.php") == PHP
    return data


def assert_inert_image(response, data: bytes, sha: str) -> None:
    """The response carries the original bytes as an image a browser will neither sniff nor run."""
    body = response.get_data()
    response.close()  # streamed from the photo store
    assert response.status_code == 200
    assert body == data  # evidence: the bytes the SHA-256 names
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == f"inline; filename={sha}.jpg"
    csp = response.headers["Content-Security-Policy"]
    assert "sandbox" in csp.split("; ") and "default-src 'none'" in csp


@pytest.fixture
def stored(app, client, factory):
    """The polyglot uploaded by a surveyor, attached to a checklist; (bytes, sha, surveyor)."""
    factory.units()
    _, surveyor = factory.user("surveyor", "35")
    data = polyglot()
    sha = hashlib.sha256(data).hexdigest()
    response = upload(client, "/api/v1/photos", data, surveyor, filename="x.php")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["mime"] == "image/jpeg"
    body = factory.all_yes_submission()
    body["answers"][next(iter(body["answers"]))]["photos"] = [sha]
    submitted = client.post("/api/v1/inspections", json=body, headers=auth(surveyor))
    assert submitted.status_code == 201, submitted.get_json()
    return data, sha, surveyor


def test_polyglot_is_served_by_the_api_as_an_inert_image(client, stored):
    data, sha, surveyor = stored
    response = client.get(f"/api/v1/photos/{sha}", headers=auth(surveyor))
    assert_inert_image(response, data, sha)
    preview = client.get(f"/api/v1/photos/{sha}/preview", headers=auth(surveyor))
    preview_body = preview.get_data()
    preview.close()
    assert preview.headers["Content-Type"] == "image/jpeg"
    assert preview.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in preview.headers["Content-Security-Policy"]
    assert PHP not in preview_body  # the preview is Pillow's own JPEG
    assert preview.headers["Content-Disposition"] == f"inline; filename={sha}-preview.jpg"


def test_polyglot_is_served_by_the_pages_as_an_inert_image(app, stored):
    data, sha, _ = stored
    login_user(app, "admin", None, "admin-foto")
    pages = Pages(app.test_client())
    pages.login("admin-foto", PASSWORD)
    assert_inert_image(pages.get(f"/photos/{sha}"), data, sha)
    preview = pages.get(f"/photos/{sha}/preview")
    preview.close()
    assert preview.status_code == 200 and "sandbox" in preview.headers["Content-Security-Policy"]


def test_an_unexpected_stored_type_is_a_download_never_inline(app, client, stored):
    """Should a row ever name another type, the bytes leave as an opaque attachment."""
    from fieldcheck.evidence.models import Photo
    from fieldcheck.extensions import db

    data, sha, surveyor = stored
    with app.app_context():
        db.session.get(Photo, sha).mime = "text/html"
        db.session.commit()
    response = client.get(f"/api/v1/photos/{sha}", headers=auth(surveyor))
    body = response.get_data()
    response.close()
    assert response.status_code == 200 and body == data
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"] == f"attachment; filename={sha}.bin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
