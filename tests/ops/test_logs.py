"""Request ids and structured logs: X-Request-ID kept when sane, made otherwise, echoed on every
answer and carried by every log line of the request; no secret or personal data in the logs."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy.exc import IntegrityError

from fieldcheck.observability import JsonLineFormatter, TextFormatter, redact
from tests.helpers import auth, post_json
from tests.ops.conftest import PASSWORD, login_user
from tests.web.pages import Pages

REQUEST_FIELDS = {"timestamp", "level", "logger", "message", "request_id", "method", "route"}


def json_lines(caplog) -> list[dict]:
    formatter = JsonLineFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records]


def request_lines(caplog) -> list[dict]:
    return [line for line in json_lines(caplog) if line["logger"] == "fieldcheck.request"]


@pytest.mark.parametrize(
    ("offered", "kept"),
    [
        ("3f2a9c0e1b7d4e6f8a9b0c1d2e3f4a5b", True),  # nginx's $request_id
        ("lb-01:req.42_x", True),
        ("", False),
        ("x" * 129, False),  # too long
        ("<script>", False),
        ("a b", False),
        ('a"}{"level":"ERROR', False),  # would forge a log field
    ],
)
def test_request_id_is_kept_when_sane_and_made_otherwise(client, caplog, offered, kept):
    caplog.set_level(logging.INFO)
    response = client.get("/healthz", headers={"X-Request-ID": offered} if offered else {})
    echoed = response.headers["X-Request-ID"]
    assert (echoed == offered) is kept
    if not kept:
        assert len(echoed) == 32 and echoed.isalnum()
    (line,) = request_lines(caplog)
    assert line["request_id"] == echoed and line["status"] == 200
    assert set(line) >= REQUEST_FIELDS and line["duration_ms"] >= 0


def test_every_answer_echoes_its_id_and_error_logs_carry_it(app, client, factory, caplog):
    caplog.set_level(logging.INFO)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("internals")

    _, token = factory.user("admin")
    answers = {
        "api": client.get("/api/v1/status", headers={**auth(token), "X-Request-ID": "r-api"}),
        "envelope": client.get("/api/v1/nope", headers={"X-Request-ID": "r-404"}),
        "unauthorized": client.get("/api/v1/status", headers={"X-Request-ID": "r-401"}),
        "page": client.get("/login", headers={"X-Request-ID": "r-page"}),
        "boom": client.get("/api/v1/boom", headers={"X-Request-ID": "r-500"}),
    }
    expected = {"api": 200, "envelope": 404, "unauthorized": 401, "page": 200, "boom": 500}
    for name, response in answers.items():
        assert response.status_code == expected[name], name
        assert response.headers["X-Request-ID"] == response.request.headers["X-Request-ID"]
    assert answers["boom"].status_code == 500
    lines = json_lines(caplog)
    (error,) = [line for line in lines if line["message"] == "unhandled error"]
    assert error["request_id"] == "r-500" and error["level"] == "ERROR"
    assert "RuntimeError: internals" in error["exc_info"]
    users = {line["request_id"]: line["user_id"] for line in request_lines(caplog)}
    assert users["r-api"] == factory_user_id(app, token) and users["r-401"] is None


def factory_user_id(app, token: str) -> int:
    from sqlalchemy import select

    from fieldcheck.auth.models import ApiToken
    from fieldcheck.auth.services import hash_token
    from fieldcheck.extensions import db

    with app.app_context():
        return db.session.execute(
            select(ApiToken.user_id).where(ApiToken.token_hash == hash_token(token))
        ).scalar_one()


def test_a_login_a_token_and_a_submission_leave_no_secret_in_the_logs(app, factory, caplog):
    caplog.set_level(logging.DEBUG)
    factory.units()
    admin_id, _ = login_user(app, "admin", None, "admin-rahasia")
    surveyor_id, surveyor_token = login_user(app, "surveyor", "35", "siti-surveyor")
    pages = Pages(app.test_client())
    pages.login("admin-rahasia", PASSWORD)
    cookie = pages.client.get_cookie("fieldcheck_session").value
    # A token minted in the API (shown once) and one on a page (with its QR code).
    api = app.test_client()
    _, admin_token = factory.user("admin", None, name="Budi Santoso Admin")
    minted = post_json(api, f"/api/v1/users/{surveyor_id}/tokens", {}, admin_token)
    assert minted.status_code == 201
    pages.get(f"/admin/users/{surveyor_id}")
    page_token = pages.post(f"/admin/users/{surveyor_id}/tokens", {"expires_in_days": ""})
    assert page_token.status_code == 201
    body = factory.all_yes_submission(notes="Kepala unit Ibu Ratna, telp 0812-3456-7890")
    submitted = post_json(api, "/api/v1/inspections", body, minted.get_json()["token"])
    assert submitted.status_code == 201
    # A failed login with a password typed into the username box, as people do.
    Pages(app.test_client()).client.post("/login", data={"username": PASSWORD, "password": "x"})

    lines = request_lines(caplog)
    assert {line["route"] for line in lines} >= {
        "web.login",
        "auth.issue_token_endpoint",
        "web.admin_token_issue",
        "inspections.create_inspection",
    }
    assert {line["user_id"] for line in lines} >= {admin_id, surveyor_id}
    text = "\n".join(
        [json.dumps(line) for line in json_lines(caplog)]
        + [TextFormatter().format(record) for record in caplog.records]
    )
    secrets = [
        PASSWORD,
        cookie,
        admin_token,
        surveyor_token,
        minted.get_json()["token"],
        "admin-rahasia",
        "siti-surveyor",
        "Budi Santoso",
        "Orang siti",
        "Ratna",
        "0812-3456-7890",
    ]
    for secret in secrets:
        assert secret not in text, secret
    assert "fc_" not in text


def test_database_error_details_are_cut_from_log_text():
    error = IntegrityError(
        "INSERT INTO users (name, username) VALUES (%(name)s, %(username)s)",
        {"name": "Siti Aminah", "username": "siti"},
        Exception(
            'duplicate key value violates unique constraint "uq_users_username"\n'
            "DETAIL:  Key (username)=(siti) already exists."
        ),
    )
    text = redact(str(error))
    assert "siti" not in text.lower() and "Siti Aminah" not in text
    assert "uq_users_username" in text and "DETAIL: …" in text
