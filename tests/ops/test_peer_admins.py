"""One rule for admin accounts, on every path: only an admin over a wider region acts on another
admin's account (create, deactivate, unlock, reset password, issue or revoke tokens)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fieldcheck.auth.models import ApiToken, User
from fieldcheck.extensions import db
from tests.helpers import post_json
from tests.ops.conftest import PASSWORD, login_user
from tests.web.pages import Pages, text_of


@pytest.fixture
def admins(app):
    """A national admin, two West Sumatra admins (peers) and a Padang (13.71) admin below them."""
    return {
        "national": login_user(app, "admin", None, "admin-nasional"),
        "sumbar": login_user(app, "admin", "13", "admin-sumbar"),
        "peer": login_user(app, "admin", "13", "admin-sumbar-dua"),
        "padang": login_user(app, "admin", "13.71", "admin-padang"),
        "surveyor": login_user(app, "surveyor", "13", "surveyor-sumbar"),
    }


def _token_of(app, user_id: int) -> int:
    with app.app_context():
        return (
            db.session.execute(
                select(ApiToken.id).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
            )
            .scalars()
            .first()
        )


def _is_active(app, user_id: int) -> bool:
    with app.app_context():
        return db.session.get(User, user_id).is_active


def test_api_peer_admin_is_refused_on_every_path(app, client, admins):
    sumbar = admins["sumbar"][1]
    peer_id = admins["peer"][0]
    refused = [
        post_json(
            client, "/api/v1/users", {"name": "Peer", "role": "admin", "region_code": "13"}, sumbar
        ),
        post_json(client, f"/api/v1/users/{peer_id}/deactivate", {}, sumbar),
        post_json(client, f"/api/v1/users/{peer_id}/tokens", {}, sumbar),
        post_json(client, f"/api/v1/tokens/{_token_of(app, peer_id)}/revoke", {}, sumbar),
        # Nor one above: the national admin's account.
        post_json(client, f"/api/v1/users/{admins['national'][0]}/deactivate", {}, sumbar),
    ]
    for response in refused:
        assert response.status_code in (403, 404), response.get_json()
        assert response.get_json()["error"]["code"] in ("forbidden", "not_found")
    assert [r.status_code for r in refused[:4]] == [403, 403, 403, 403]
    assert "wider region" in refused[0].get_json()["error"]["message"]
    assert _is_active(app, peer_id)
    with app.app_context():
        assert db.session.get(ApiToken, _token_of(app, peer_id)).revoked_at is None
        assert db.session.execute(select(User).where(User.name == "Peer")).first() is None


def test_api_admin_acts_on_admins_below_and_on_non_admins(app, client, admins):
    sumbar = admins["sumbar"][1]
    padang_id = admins["padang"][0]
    created = post_json(
        client,
        "/api/v1/users",
        {"name": "Bukittinggi", "role": "admin", "region_code": "13.75"},
        sumbar,
    )
    assert created.status_code == 201, created.get_json()
    assert post_json(client, f"/api/v1/users/{padang_id}/tokens", {}, sumbar).status_code == 201
    revoke = post_json(client, f"/api/v1/tokens/{_token_of(app, padang_id)}/revoke", {}, sumbar)
    assert revoke.status_code == 200
    assert post_json(client, f"/api/v1/users/{padang_id}/deactivate", {}, sumbar).status_code == 200
    surveyor_id = admins["surveyor"][0]
    assert (
        post_json(client, f"/api/v1/users/{surveyor_id}/deactivate", {}, sumbar).status_code == 200
    )
    # The national admin over the regional ones; an admin's own tokens stay theirs.
    national = admins["national"][1]
    peer_id = admins["peer"][0]
    assert post_json(client, f"/api/v1/users/{peer_id}/tokens", {}, national).status_code == 201
    assert post_json(client, f"/api/v1/users/{peer_id}/deactivate", {}, national).status_code == 200
    own = _token_of(app, admins["sumbar"][0])
    assert post_json(client, f"/api/v1/tokens/{own}/revoke", {}, sumbar).status_code == 200
    # Two national admins are peers too: the CLI creates and retires them.
    refused = post_json(client, "/api/v1/users", {"name": "N2", "role": "admin"}, national)
    assert refused.status_code == 403


def _pages(app, username: str) -> Pages:
    pages = Pages(app.test_client())
    pages.login(username, PASSWORD)
    return pages


def test_pages_peer_admin_is_refused_on_every_path(app, admins):
    pages = _pages(app, "admin-sumbar")
    peer_id = admins["peer"][0]
    page = text_of(pages.get(f"/admin/users/{peer_id}"))
    # The page offers nothing it would refuse, and says why.
    assert "/deactivate" not in page and "/password" not in page and "/tokens" not in page
    assert f"/admin/tokens/{_token_of(app, peer_id)}/revoke" not in page
    assert "wilayah yang lebih luas" in page
    for action, form in (
        ("deactivate", {}),
        ("unlock", {}),
        ("password", {"password": ""}),
        ("tokens", {"expires_in_days": ""}),
    ):
        assert pages.post(f"/admin/users/{peer_id}/{action}", form).status_code == 403, action
    assert pages.post(f"/admin/tokens/{_token_of(app, peer_id)}/revoke").status_code == 403
    pages.get("/admin/users/new")
    refused = pages.post(
        "/admin/users/new",
        {
            "name": "Peer",
            "username": "admin-sumbar-tiga",
            "role": "admin",
            "region_code": "13",
            "password": PASSWORD,
        },
    )
    assert refused.status_code == 422 and "wilayah yang lebih luas" in text_of(refused)
    assert _is_active(app, peer_id)


def test_pages_admin_acts_on_the_admin_below(app, admins):
    pages = _pages(app, "admin-sumbar")
    padang_id = admins["padang"][0]
    page = text_of(pages.get(f"/admin/users/{padang_id}"))
    assert f"/admin/users/{padang_id}/deactivate" in page
    assert pages.post(f"/admin/users/{padang_id}/unlock").status_code == 303
    assert pages.post(f"/admin/tokens/{_token_of(app, padang_id)}/revoke").status_code == 303
    pages.get(f"/admin/users/{padang_id}")
    assert pages.post(f"/admin/users/{padang_id}/deactivate").status_code == 303
    assert not _is_active(app, padang_id)
    pages.get("/admin/users/new")
    created = pages.post(
        "/admin/users/new",
        {
            "name": "Admin Bukittinggi",
            "username": "admin-bukittinggi",
            "role": "admin",
            "region_code": "13.75",
            "password": PASSWORD,
        },
    )
    assert created.status_code == 303, text_of(created)[:500]
