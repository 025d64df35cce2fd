"""ODK Collect provisioning: the token request for Collect (API and CLI), its settings decoded
exactly as Collect decodes a QR code, the token in the server URL working, and that token
never reaching a log line."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import zlib

import pytest
import requests

from fieldcheck.auth.services import user_for_token
from fieldcheck.observability import JsonLineFormatter, TextFormatter
from tests.helpers import auth, post_json

BASE = "https://fieldcheck.example.go.id"


def collect_decode(payload: str) -> dict:
    """What ODK Collect does with a scanned settings code (getodk/collect
    ``CompressionUtils.decompress``): base64 (NO_WRAP), ``java.util.zip.Inflater()`` (a zlib
    stream with its header: wbits 15 here), UTF-8, then ``JSONObject``."""
    raw = base64.b64decode(payload, validate=True)
    inflater = zlib.decompressobj(wbits=15)
    text = (inflater.decompress(raw) + inflater.flush()).decode("utf-8")
    assert inflater.eof and not inflater.unused_data  # one complete stream, nothing after it
    return json.loads(text)


def assert_collect_accepts(settings: dict) -> None:
    """The rules of Collect's settings schema that these settings touch (getodk/collect
    ``settings/src/main/resources/client-settings.schema.json``, and ProjectDetailsCreatorImpl
    for the colour)."""
    assert {"general", "admin"} <= set(settings)  # the schema's "required"
    general, admin, project = settings["general"], settings["admin"], settings["project"]
    assert isinstance(general["server_url"], str)
    assert general["form_update_mode"] in ("manual", "previously_downloaded", "match_exactly")
    assert general["autosend"] in ("off", "wifi_only", "cellular_only", "wifi_and_cellular")
    assert isinstance(general["metadata_username"], str)
    assert set(admin) <= {"change_server"} and admin.get("change_server") is False
    assert set(project) == {"name", "icon", "color"}
    assert re.fullmatch(r"#([a-fA-F0-9]{6}|[a-fA-F0-9]{3})", project["color"])
    assert len(project["icon"]) == 1 and project["name"]


@pytest.fixture
def people(factory):
    """An admin of East Java, a surveyor and a supervisor there: (admin token, surveyor id,
    supervisor id)."""
    _, admin = factory.user("admin", "35", name="Admin Jatim")
    surveyor, _ = factory.user("surveyor", "35.15", name="Dewi Lestari")
    supervisor, _ = factory.user("supervisor", "35", name="Budi Santoso")
    return admin, surveyor, supervisor


def test_the_api_gives_collect_settings_whose_url_carries_a_working_token(app, client, people):
    admin, surveyor, _ = people
    app.config["PUBLIC_BASE_URL"] = BASE + "/"
    body = {"client": "odk-collect", "expires_in_days": 30}
    response = post_json(client, f"/api/v1/users/{surveyor}/tokens", body, admin)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    token = data["token"]
    assert data["server_url"] == f"{BASE}/openrosa/key/{token}"
    assert data["expires_at"] is not None and data["prefix"] == token[:10]

    settings = collect_decode(data["collect_settings"])
    assert_collect_accepts(settings)
    assert settings["general"] == {
        "server_url": f"{BASE}/openrosa/key/{token}",
        "form_update_mode": "match_exactly",
        "autosend": "wifi_and_cellular",
        "metadata_username": "Dewi Lestari",
    }
    assert settings["project"]["name"] == "Ombudsman RI: Dewi Lestari"

    # The token in the URL is the surveyor's: the one check of key URLs and bearer headers.
    key = settings["general"]["server_url"].rsplit("/openrosa/key/", 1)[1]
    with app.test_request_context():
        assert user_for_token(key).id == surveyor
    mine = client.get("/api/v1/tokens", headers=auth(key)).get_json()
    assert token[:10] in [t["prefix"] for t in mine["items"]]


def test_collects_username_metadata_is_the_login_username_when_there_is_one(app, client, people):
    admin, surveyor, _ = people
    with app.app_context():
        from fieldcheck.auth.models import User
        from fieldcheck.auth.passwords import set_username
        from fieldcheck.extensions import db

        set_username(db.session.get(User, surveyor), "dewi.lestari", actor=None)
        db.session.commit()
    data = post_json(
        client, f"/api/v1/users/{surveyor}/tokens", {"client": "odk-collect"}, admin
    ).get_json()
    settings = collect_decode(data["collect_settings"])
    assert settings["general"]["metadata_username"] == "dewi.lestari"
    assert settings["project"]["name"] == "Ombudsman RI: Dewi Lestari"


def test_the_token_list_tells_collect_tokens_from_api_tokens(app, client, runner, people):
    """GET /tokens says which app each token was issued for: Collect (API or CLI) or the API."""
    admin, surveyor, _ = people
    collect = post_json(
        client, f"/api/v1/users/{surveyor}/tokens", {"client": "odk-collect"}, admin
    ).get_json()
    plain = post_json(client, f"/api/v1/users/{surveyor}/tokens", {}, admin).get_json()
    assert collect["client"] == "odk-collect" and plain["client"] is None
    done = runner.invoke(args=["users", "collect-qr", str(surveyor), "--base-url", BASE])
    assert done.exit_code == 0, done.output
    listed = client.get(f"/api/v1/tokens?user={surveyor}", headers=auth(admin)).get_json()
    by_prefix = {t["prefix"]: t["client"] for t in listed["items"]}
    cli_token = collect_decode(done.stdout.splitlines()[-1])["general"]["server_url"]
    cli_token = cli_token.rsplit("/", 1)[1]
    assert by_prefix[collect["prefix"]] == "odk-collect"
    assert by_prefix[plain["prefix"]] is None
    assert by_prefix[cli_token[:10]] == "odk-collect"
    # With the first token create_user made (an API token): two of each.
    assert sorted(map(str, by_prefix.values())) == ["None", "None", "odk-collect", "odk-collect"]


def test_the_cli_warns_about_an_address_phones_cannot_reach(runner, people):
    _, surveyor, _ = people
    done = runner.invoke(
        args=["users", "collect-qr", str(surveyor), "--base-url", "http://127.0.0.1:5000"]
    )
    assert done.exit_code == 0, done.output
    assert "a phone cannot reach 127.0.0.1" in done.stderr
    fine = runner.invoke(args=["users", "collect-qr", str(surveyor), "--base-url", BASE])
    assert "cannot reach" not in fine.stderr


def test_without_a_public_base_url_the_requests_host_is_used(client, people):
    admin, surveyor, _ = people
    data = post_json(
        client, f"/api/v1/users/{surveyor}/tokens", {"client": "odk-collect"}, admin
    ).get_json()
    server_url = collect_decode(data["collect_settings"])["general"]["server_url"]
    assert server_url == f"http://localhost/openrosa/key/{data['token']}"


def test_a_plain_token_answer_is_unchanged(client, people):
    admin, surveyor, _ = people
    data = post_json(client, f"/api/v1/users/{surveyor}/tokens", {}, admin).get_json()
    assert "collect_settings" not in data and "server_url" not in data
    assert data["token"].startswith("fc_")


@pytest.mark.parametrize(
    ("who", "body"),
    [("supervisor", {"client": "odk-collect"}), ("surveyor", {"client": "kobo"})],
)
def test_collect_only_for_surveyors_and_known_clients(app, client, people, who, body):
    admin, surveyor, supervisor = people
    user = surveyor if who == "surveyor" else supervisor
    before = client.get("/api/v1/tokens", headers=auth(admin)).get_json()["total"]
    response = post_json(client, f"/api/v1/users/{user}/tokens", body, admin)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == ["client"]
    assert client.get("/api/v1/tokens", headers=auth(admin)).get_json()["total"] == before
    indonesian = client.post(
        f"/api/v1/users/{user}/tokens",
        json=body,
        headers={**auth(admin), "Accept-Language": "id"},
    ).get_json()
    if who == "supervisor":
        assert indonesian["error"]["details"]["fields"]["client"] == [
            "ODK Collect hanya disiapkan untuk surveyor."
        ]


def test_the_cli_prints_the_qr_settings_and_the_code(app, runner, people, tmp_path):
    _, surveyor, supervisor = people
    app.config["PUBLIC_BASE_URL"] = BASE
    png = tmp_path / "collect.png"
    done = runner.invoke(
        args=["users", "collect-qr", str(surveyor), "--expires-in-days", "14", "--png", str(png)]
    )
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    settings = collect_decode(lines[-1])
    assert_collect_accepts(settings)
    token = settings["general"]["server_url"].rsplit("/", 1)[1]
    assert settings["general"]["server_url"] == f"{BASE}/openrosa/key/{token}"
    assert json.loads("\n".join(lines[lines.index("{") : -1])) == settings
    assert sum("█" in line or "▀" in line or "▄" in line for line in lines) > 10  # the QR
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Configure with QR code" in done.stderr
    with app.test_request_context():
        user = user_for_token(token)
        assert user.id == surveyor and user.tokens[-1].expires_at is not None

    refused = runner.invoke(args=["users", "collect-qr", str(supervisor)])
    assert refused.exit_code == 2 and "surveyors" in refused.output
    app.config["PUBLIC_BASE_URL"] = ""
    nowhere = runner.invoke(args=["users", "collect-qr", str(surveyor)])
    assert nowhere.exit_code == 2 and "public_base_url" in nowhere.output
    there = runner.invoke(args=["users", "collect-qr", str(surveyor), "--base-url", BASE])
    assert there.exit_code == 0, there.output


def test_the_request_log_shows_key_urls_redacted(client, people, caplog):
    admin, surveyor, _ = people
    token = post_json(
        client, f"/api/v1/users/{surveyor}/tokens", {"client": "odk-collect"}, admin
    ).get_json()["token"]
    caplog.set_level(logging.INFO)
    caplog.clear()
    # The OpenRosa routes may not exist here (they come with fieldcheck.openrosa): a 404 is
    # logged all the same, and so is a path the app does know.
    client.get(f"/openrosa/key/{token}/formList")
    client.head(f"/openrosa/key/{token}/submission?deviceID=x")
    logging.getLogger("fieldcheck.test").warning("client called %s", f"/openrosa/key/{token}/x")
    records = [r for r in caplog.records if r.name in ("fieldcheck.request", "fieldcheck.test")]
    lines = [JsonLineFormatter().format(r) for r in records]
    lines += [TextFormatter().format(r) for r in records]
    assert len(records) == 3
    text = "\n".join(lines)
    assert token not in text and token[3:] not in text
    paths = [json.loads(line).get("path") for line in lines[:2]]
    assert paths == ["/openrosa/key/<redacted>/formList", "/openrosa/key/<redacted>/submission"]
    assert "client called /openrosa/key/<redacted>/x" in text


@pytest.mark.slow
def test_gunicorns_json_log_never_holds_the_key(gunicorn, factory):
    """The served app (gunicorn, JSON logs) logs a key URL's request with the token cut."""
    surveyor, _ = factory.user("surveyor", "35", name="Sari")
    _, token = factory.user("surveyor", "35", name="Sari Dua")
    server = gunicorn(settings={"log_level": "INFO", "log_format": "json"})
    answer = requests.get(
        f"{server.url}/openrosa/key/{token}/formList",
        headers={"X-Request-ID": "collect-0001"},
        timeout=30,
    )
    assert answer.headers["X-Request-ID"] == "collect-0001"
    deadline = time.monotonic() + 10
    line = None
    while line is None and time.monotonic() < deadline:
        text = server.log.read_text(encoding="utf-8")
        found = [json.loads(x) for x in text.splitlines() if '"collect-0001"' in x]
        line = next((x for x in found if x.get("logger") == "fieldcheck.request"), None)
        time.sleep(0.1)
    assert line is not None, server.output()
    assert line["path"] == "/openrosa/key/<redacted>/formList"
    assert token not in server.log.read_text(encoding="utf-8")
