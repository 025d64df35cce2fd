"""The one error envelope on every path, and /healthz."""

from __future__ import annotations

import pytest

from tests.helpers import auth


def test_healthz_needs_no_token(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert "ombudsman-2019" in body["methodologies"]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/v1/nope", 404, "not_found"),
        ("get", "/api/nope", 404, "not_found"),
        ("delete", "/api/v1/inspections", 405, "method_not_allowed"),
        ("get", "/api/v1/inspections/abc", 404, "not_found"),
    ],
)
def test_unknown_routes_and_methods_use_the_envelope(client, factory, method, path, status, code):
    _, token = factory.user("admin")
    response = getattr(client, method)(path, headers=auth(token))
    assert response.status_code == status
    assert response.is_json
    assert response.get_json()["error"]["code"] == code
    assert set(response.get_json()["error"]) == {"code", "message", "details"}


def test_unexpected_exception_is_a_500_envelope_without_traceback(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("secret internals")

    @app.get("/boom")
    def boom_page():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internals" not in body and "Traceback" not in body
    assert response.get_json()["error"]["code"] == "internal_error"
    # Outside the API a person gets the same error as a page, in Indonesian by default.
    page = app.test_client().get("/boom")
    assert page.status_code == 500 and page.mimetype == "text/html"
    body = page.get_data(as_text=True)
    assert "secret internals" not in body and "Traceback" not in body
    assert "Galat 500 (internal_error)" in body


def test_revoked_and_expired_tokens_are_refused(client, factory, app):
    from datetime import UTC, datetime, timedelta

    from fieldcheck.auth.models import ApiToken
    from fieldcheck.auth.services import hash_token
    from fieldcheck.extensions import db

    _, token = factory.user("admin")
    assert client.get("/api/v1/units", headers=auth(token)).status_code == 200
    with app.app_context():
        row = db.session.query(ApiToken).filter_by(token_hash=hash_token(token)).one()
        assert row.last_used_at is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    assert client.get("/api/v1/units", headers=auth(token)).status_code == 401
