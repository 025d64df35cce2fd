"""Users and tokens over HTTP and CLI: admin-only user management, own tokens, audit rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fieldcheck.audit.models import AuditEntry
from tests.helpers import auth, count_rows, post_json
from tests.world import make_world


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def test_admin_creates_a_user_whose_token_works_once_shown(world, app):
    body = {"name": "Rina", "role": "surveyor", "region_code": "35.15", "expires_in_days": 7}
    response = post_json(world.client, "/api/v1/users", body, world.token("admin"))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["user"]["role"] == "surveyor" and data["token"].startswith("fc_")
    assert data["expires_at"] is not None
    # The token is shown once: no cache may keep the answer (nor any per-user answer).
    assert response.headers["Cache-Control"] == "no-store"
    assert (
        world.client.get("/api/v1/users", headers=auth(world.token("admin"))).headers[
            "Cache-Control"
        ]
        == "no-store"
    )
    me = world.client.get("/api/v1/tokens", headers=auth(data["token"])).get_json()
    assert [t["prefix"] for t in me["items"]] == [data["prefix"]]
    assert "token" not in me["items"][0] and "token_hash" not in me["items"][0]
    audit = world.get("/api/v1/audit?object=user:" + str(data["user"]["id"]), "admin").get_json()
    assert [e["action"] for e in audit["items"]] == ["user.create"]
    assert data["token"] not in str(audit)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"name": "X", "role": "boss"}, "role"),
        ({"name": "", "role": "surveyor"}, "name"),
        ({"name": "   ", "role": "surveyor"}, "name"),
        ({"name": "X", "role": "surveyor", "region_code": "99.99"}, "region_code"),
        ({"name": "X", "role": "surveyor", "expires_in_days": 0}, "expires_in_days"),
        ({"name": "X", "role": "surveyor", "password": "no"}, "password"),
    ],
)
def test_bad_user_bodies_are_422(world, body, path):
    response = post_json(world.client, "/api/v1/users", body, world.token("admin"))
    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == [path]


def test_regional_admin_manages_only_their_region(world):
    listing = world.get("/api/v1/users", "admin_out").get_json()
    assert {u["name"] for u in listing["items"]} == {"supervisor_out", "admin_out"}
    assert world.get("/api/v1/users", "admin").get_json()["total"] == 6
    national = post_json(
        world.client, "/api/v1/users", {"name": "N", "role": "admin"}, world.token("admin_out")
    )
    assert national.status_code == 403


def test_deactivated_user_is_locked_out_and_admin_cannot_deactivate_self(world):
    url = f"/api/v1/users/{world.ids['surveyor_other']}/deactivate"
    response = post_json(world.client, url, {}, world.token("admin"))
    assert (response.status_code, response.get_json()["is_active"]) == (200, False)
    assert world.get("/api/v1/inspections", "surveyor_other").status_code == 401
    # Their tokens are refused, so they are not listed as active either.
    tokens = f"/api/v1/tokens?user={world.ids['surveyor_other']}"
    listed = world.get(tokens, "admin").get_json()["items"]
    assert listed and not any(t["is_active"] for t in listed)
    assert world.get(tokens + "&active=true", "admin").get_json()["total"] == 0
    me = post_json(
        world.client, f"/api/v1/users/{world.ids['admin']}/deactivate", {}, world.token("admin")
    )
    assert me.status_code == 409


def test_issue_expire_and_revoke_tokens(world, app):
    url = f"/api/v1/users/{world.ids['surveyor']}/tokens"
    issued = post_json(world.client, url, {"expires_in_days": 1}, world.token("admin")).get_json()
    token = issued["token"]
    assert world.client.get("/api/v1/tokens", headers=auth(token)).status_code == 200
    # The clock is injected: two days on, the token has expired.
    later = datetime.now(UTC) + timedelta(days=2)
    app.config["CLOCK"] = lambda: later
    assert world.client.get("/api/v1/tokens", headers=auth(token)).status_code == 401
    app.config["CLOCK"] = None
    # A surveyor lists and revokes their own tokens; an admin sees all.
    own = world.get("/api/v1/tokens", "surveyor").get_json()
    assert {t["user_id"] for t in own["items"]} == {world.ids["surveyor"]}
    assert world.get("/api/v1/tokens", "admin").get_json()["total"] == 7
    revoked = post_json(
        world.client, f"/api/v1/tokens/{issued['id']}/revoke", {}, world.token("surveyor")
    )
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    again = post_json(
        world.client, f"/api/v1/tokens/{issued['id']}/revoke", {}, world.token("surveyor")
    )
    assert again.status_code == 200
    actions = [
        e["action"]
        for e in world.get(f"/api/v1/audit?object=token:{issued['id']}", "admin").get_json()[
            "items"
        ]
    ]
    assert actions == ["token.revoke", "token.issue"]


def test_an_admin_cannot_mint_tokens_for_a_peer_admin(world, factory):
    """A token acts in its user's name: only an admin over a wider region may issue one for
    another admin (nobody may act as a peer in the audit log)."""
    peer_id, _ = factory.user("admin", "13", name="peer")
    below_id, _ = factory.user("admin", "13.71", name="kota padang")

    def issue(user_id: int, who: str):
        url = f"/api/v1/users/{user_id}/tokens"
        return post_json(world.client, url, {}, world.token(who))

    refused = issue(peer_id, "admin_out")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert issue(below_id, "admin_out").status_code == 201  # a regency admin below them
    assert issue(peer_id, "admin").status_code == 201  # the national admin
    assert issue(world.ids["admin_out"], "admin_out").status_code == 201  # their own
    assert issue(world.ids["admin"], "admin").status_code == 201
    assert issue(world.ids["supervisor_out"], "admin_out").status_code == 201


def test_cli_deactivate_revoke_and_import_are_audited(world, runner, app, tmp_path):
    before = count_rows(app, AuditEntry)
    result = runner.invoke(args=["users", "deactivate", str(world.ids["surveyor_other"])])
    assert result.exit_code == 0 and "deactivated" in result.output
    result = runner.invoke(args=["tokens", "revoke", "1"])
    assert result.exit_code == 0 and "revoked" in result.output
    assert runner.invoke(args=["tokens", "revoke", "999"]).exit_code != 0
    from fieldcheck.demo.seed import DEMO_UNITS

    result = runner.invoke(args=["import-units", str(DEMO_UNITS)])
    assert result.exit_code == 0, result.output
    assert count_rows(app, AuditEntry) == before + 3
    entries = world.get("/api/v1/audit?per_page=3", "admin").get_json()["items"]
    assert [e["action"] for e in entries] == ["units.import", "token.revoke", "user.deactivate"]
    assert {e["actor"]["name"] for e in entries} == {"system"}
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
