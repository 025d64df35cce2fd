"""Who may use each OpenRosa endpoint: the token in the path must be a surveyor's or an
admin's; anything else is an OpenRosa error, never the JSON envelope and never a 500."""

from __future__ import annotations

import pytest

from tests.openrosa.conftest import collect_body

FORM = "fieldcheck-ombudsman-2019"
ENDPOINTS = [
    ("GET", "/formList", 200),
    ("GET", f"/forms/{FORM}.xml", 200),
    ("GET", f"/forms/{FORM}/manifest", 200),
    ("GET", f"/forms/{FORM}/attachments/units.csv", 200),
    ("GET", f"/forms/{FORM}/attachments/services.csv", 200),
    ("HEAD", "/submission", 204),
    # A body without the XML part: past authentication, refused as 415.
    ("POST", "/submission", 415),
]


@pytest.mark.parametrize(("method", "path", "allowed"), ENDPOINTS)
def test_every_endpoint_checks_the_token_and_role(app, client, world, method, path, allowed):
    from fieldcheck.auth.services import create_user
    from fieldcheck.extensions import db

    with app.app_context():
        inactive, inactive_token = create_user("Mantan Surveyor", "surveyor", "35")
        inactive.is_active = False
        db.session.commit()
    body, content_type = collect_body(b"")
    body = body.replace(b'name="xml_submission_file"', b'name="other"')
    cases = {
        world.surveyor: allowed,
        world.admin: allowed,
        world.supervisor: 403,
        "unknown-token": 401,
        inactive_token: 401,
    }
    for token, status in cases.items():
        response = client.open(
            f"/openrosa/key/{token}{path}",
            method=method,
            data=body if method == "POST" else None,
            content_type=content_type if method == "POST" else None,
        )
        assert response.status_code == status, (token, path, response.data)
        assert response.headers["X-OpenRosa-Version"] == "1.0"
        if status >= 400 and method != "HEAD":
            assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
            assert b"<OpenRosaResponse" in response.data
