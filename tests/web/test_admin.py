"""Admin pages: users, passwords, tokens with a QR code, the audit log and its chain check."""

from __future__ import annotations

import html
import json
import re

from flask import Flask
from sqlalchemy import func, select

from fieldcheck.audit.models import AuditEntry
from fieldcheck.audit.sealing import seal
from fieldcheck.auth.models import ApiToken, User
from fieldcheck.auth.passwords import set_password
from fieldcheck.auth.services import add_user
from fieldcheck.extensions import db
from tests.audit.test_audit import _tamper
from tests.web.conftest import assert_accessible, login, pages_as, shot, waiting
from tests.web.pages import Pages, text_of

NEW_PASSWORD = "sementara-2026"


def _user(app: Flask, username: str) -> User:
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        db.session.expunge(user)
        return user


def _count(app: Flask, model) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _make_admin(app: Flask, region: str, username: str) -> int:
    """A regional admin with a password they chose (no change needed)."""
    with app.app_context():
        admin = add_user(f"Admin {region}", "admin", region, username=username)
        set_password(admin, NEW_PASSWORD, actor=None, must_change=False)
        db.session.commit()
        return admin.id


def _as(app: Flask, username: str, password: str = NEW_PASSWORD) -> Pages:
    client = Pages(app.test_client())
    client.login(username, password)
    return client


def test_admin_pages_are_for_admins_only(demo, pages: Pages):
    jatim = _user(demo, "surveyor-jatim")
    urls = ["/admin/users", "/admin/users/new", f"/admin/users/{jatim.id}", "/admin/audit"]
    for url in urls:
        response = pages.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    pages.login("supervisor-jatim")
    for url in urls:
        response = pages.get(url)
        assert response.status_code == 403, url
        assert "<html" in text_of(response)  # a page, not JSON
    before = _count(demo, User)
    response = pages.post("/admin/users/new", {"name": "X", "username": "x-user", "role": "admin"})
    assert response.status_code == 403
    assert pages.post(f"/admin/users/{jatim.id}/deactivate").status_code == 403
    assert _count(demo, User) == before and _user(demo, "surveyor-jatim").is_active
    # The supervisor has no admin entries in the menu.
    assert "/admin/users" not in text_of(pages.get("/account"))


def test_user_list_shows_the_people_with_filters(demo):
    admin = pages_as(demo, "admin")
    page = text_of(admin.get("/admin/users"))
    for shown in ("Surveyor Jawa Timur (demo)", "supervisor-sumbar", "Aktif", "Terakhir masuk"):
        assert shown in page
    assert 'href="/admin/users"' in page  # the menu has the entry
    only = text_of(admin.get("/admin/users?role=supervisor&region=13"))
    assert "supervisor-sumbar" in only
    assert "supervisor-jatim" not in only and "surveyor-sumbar" not in only
    bad = admin.get("/admin/users?region=99&page=x")
    assert bad.status_code == 422
    assert "Kode wilayah tidak dikenal." in text_of(bad)
    assert admin.get("/admin/users?active=maybe").status_code == 422


def test_regional_admin_never_sees_or_touches_another_region(demo):
    _make_admin(demo, "13", "admin-sumbar")
    jatim = _user(demo, "surveyor-jatim")
    with demo.app_context():
        token_id = db.session.execute(
            select(ApiToken.id).where(ApiToken.user_id == jatim.id)
        ).scalar()
    admin = _as(demo, "admin-sumbar")
    listing = text_of(admin.get("/admin/users"))
    assert "supervisor-sumbar" in listing and "surveyor-sumbar" in listing
    assert "jatim" not in listing and "Jawa Timur" not in listing
    assert admin.get(f"/admin/users/{jatim.id}").status_code == 404
    for action in ("deactivate", "unlock", "password", "tokens"):
        assert admin.post(f"/admin/users/{jatim.id}/{action}").status_code == 404, action
    assert admin.post(f"/admin/tokens/{token_id}/revoke").status_code == 404
    with demo.app_context():
        token = db.session.get(ApiToken, token_id)
        assert token.revoked_at is None and token.user.is_active
    audit = text_of(admin.get("/admin/audit?verify=1"))
    assert "Surveyor Jawa Timur" not in audit and "Jawa Timur" not in audit
    # The national chain's length and breaks are not a regional admin's to see.
    assert "Rantai utuh" not in audit and "administrator nasional" in audit
    assert "supervisor-sumbar" in audit or "Supervisor Sumatera Barat" in audit
    # Creating a user outside the region is refused in the form.
    admin.get("/admin/users/new")
    refused = admin.post(
        "/admin/users/new",
        {"name": "Luar", "username": "luar-wilayah", "role": "surveyor", "region_code": "35"},
    )
    assert refused.status_code == 422
    assert "di dalam wilayah Anda" in text_of(refused)
    # A peer admin's credentials are not theirs to mint.
    peer = _make_admin(demo, "13", "admin-sumbar-2")
    admin.get(f"/admin/users/{peer}")
    assert admin.post(f"/admin/users/{peer}/tokens", {"expires_in_days": ""}).status_code == 403
    assert admin.post(f"/admin/users/{peer}/password", {"password": ""}).status_code == 403


def test_create_user_then_the_first_login_must_change_the_password(demo):
    admin = pages_as(demo, "admin")
    admin.get("/admin/users/new")
    before = _count(demo, User)
    bad = admin.post(
        "/admin/users/new",
        {
            "name": " ",
            "username": "admin",
            "role": "boss",
            "region_code": "99",
            "password": "pendek",
        },
    )
    assert bad.status_code == 422
    page = text_of(bad)
    for message in (
        "Isikan nama orang tersebut.",
        "Nama pengguna ini sudah dipakai.",
        "Pilih peran.",
        "Kode wilayah tidak dikenal.",
        "10 karakter",
    ):
        assert message in page, message
    no_csrf = admin.post(
        "/admin/users/new",
        {"name": "Rina", "username": "rina", "role": "surveyor", "password": NEW_PASSWORD},
        csrf=False,
    )
    assert no_csrf.status_code == 400
    assert _count(demo, User) == before
    typed = admin.post(
        "/admin/users/new",
        {
            "name": "Rina Surveyor",
            "username": "rina",
            "role": "surveyor",
            "region_code": "35.15",
            "password": NEW_PASSWORD,
        },
    )
    assert typed.status_code == 303
    assert "Pengguna Rina Surveyor telah dibuat." in text_of(admin.get(typed.headers["Location"]))
    generated = admin.post(
        "/admin/users/new",
        {"name": "Budi Supervisor", "username": "budi", "role": "supervisor", "region_code": "35"},
    )
    assert generated.status_code == 201
    password = html.unescape(re.search(r'id="password">([^<]+)<', text_of(generated)).group(1))
    assert len(password) >= 10
    assert generated.headers["Cache-Control"].startswith("no-store")
    for username, secret in (("rina", NEW_PASSWORD), ("budi", password)):
        person = Pages(demo.test_client())
        response = person.login(username, secret)
        assert "/account/password" in response.headers["Location"]
        assert person.get("/account").headers["Location"].startswith("/account/password")
    budi = _user(demo, "budi")
    assert budi.must_change_password and budi.role == "supervisor" and budi.region_code == "35"
    with demo.app_context():
        actions = db.session.execute(
            select(AuditEntry.action).where(AuditEntry.object_id == str(budi.id))
        ).scalars()
        assert {"user.create", "user.password_set"} <= set(actions)


def test_reset_password_and_deactivate_end_the_persons_sessions(demo):
    sumbar = _user(demo, "supervisor-sumbar")
    person = pages_as(demo, "supervisor-sumbar")
    assert person.get("/account").status_code == 200
    admin = pages_as(demo, "admin")
    admin.get(f"/admin/users/{sumbar.id}")
    short = admin.post(f"/admin/users/{sumbar.id}/password", {"password": "pendek"})
    assert short.status_code == 422 and "10 karakter" in text_of(short)
    assert admin.post(f"/admin/users/{sumbar.id}/password", csrf=False).status_code == 400
    assert person.get("/account").status_code == 200  # nothing happened yet
    reset = admin.post(f"/admin/users/{sumbar.id}/password", {"password": NEW_PASSWORD})
    assert reset.status_code == 303
    assert person.get("/account").headers["Location"].startswith("/login")
    again = Pages(demo.test_client())
    assert "/account/password" in again.login("supervisor-sumbar", NEW_PASSWORD).headers["Location"]
    # Deactivation: refused without CSRF and for oneself; then the person is logged out.
    assert admin.post(f"/admin/users/{sumbar.id}/deactivate", csrf=False).status_code == 400
    me = _user(demo, "admin")
    assert admin.post(f"/admin/users/{me.id}/deactivate").status_code == 409
    assert _user(demo, "supervisor-sumbar").is_active
    done = admin.post(f"/admin/users/{sumbar.id}/deactivate")
    assert done.status_code == 303
    assert "telah dinonaktifkan" in text_of(admin.get(done.headers["Location"]))
    assert again.get("/account").headers["Location"].startswith("/login")
    again.get("/login")  # a new session, a new CSRF token
    refused = again.post("/login", {"username": "supervisor-sumbar", "password": NEW_PASSWORD})
    assert "dinonaktifkan" in text_of(refused)


def test_unlock_a_locked_account(demo):
    person = Pages(demo.test_client())
    person.get("/login")
    for _ in range(demo.config["LOGIN_MAX_FAILURES"]):
        person.post("/login", {"username": "surveyor-jatim", "password": "salah-sekali"})
    jatim = _user(demo, "surveyor-jatim")
    admin = pages_as(demo, "admin")
    assert "Terkunci" in text_of(admin.get(f"/admin/users/{jatim.id}"))
    assert admin.post(f"/admin/users/{jatim.id}/unlock", csrf=False).status_code == 400
    assert _user(demo, "surveyor-jatim").locked_until is not None
    assert admin.post(f"/admin/users/{jatim.id}/unlock").status_code == 303
    assert _user(demo, "surveyor-jatim").locked_until is None
    person.login("surveyor-jatim")  # asserts the login succeeds


def test_token_for_a_phone_shows_a_qr_once_works_and_can_be_revoked(demo):
    demo.config["PUBLIC_BASE_URL"] = "https://fieldcheck.example.go.id/"
    jatim = _user(demo, "surveyor-jatim")
    admin = pages_as(demo, "admin")
    admin.get(f"/admin/users/{jatim.id}")
    tokens_before = _count(demo, ApiToken)
    assert admin.post(f"/admin/users/{jatim.id}/tokens", csrf=False).status_code == 400
    bad = admin.post(f"/admin/users/{jatim.id}/tokens", {"expires_in_days": "7000"})
    assert bad.status_code == 422 and "Pilih masa berlaku." in text_of(bad)
    assert _count(demo, ApiToken) == tokens_before
    issued = admin.post(f"/admin/users/{jatim.id}/tokens", {"expires_in_days": "30"})
    assert issued.status_code == 201
    assert issued.headers["Cache-Control"].startswith("no-store")
    page = text_of(issued)
    assert re.search(r'<img class="qr" src="data:image/svg\+xml;[^"]+" alt="[^"]+"', page)
    payload = json.loads(html.unescape(re.search(r'id="payload"[^>]*>([^<]+)<', page).group(1)))
    token = html.unescape(re.search(r'id="token">([^<]+)<', page).group(1))
    assert payload == {"server": "https://fieldcheck.example.go.id", "token": token}
    bearer = {"Authorization": f"Bearer {token}"}
    assert admin.client.get("/api/v1/tokens", headers=bearer).status_code == 200
    # The user page lists it by prefix only, never the token itself.
    user_page = text_of(admin.get(f"/admin/users/{jatim.id}"))
    assert token[:10] in user_page and token not in user_page
    with demo.app_context():
        row_id = db.session.execute(
            select(ApiToken.id).where(ApiToken.prefix == token[:10])
        ).scalar_one()
    assert admin.post(f"/admin/tokens/{row_id}/revoke", csrf=False).status_code == 400
    assert admin.client.get("/api/v1/tokens", headers=bearer).status_code == 200
    revoked = admin.post(f"/admin/tokens/{row_id}/revoke")
    assert revoked.status_code == 303
    assert admin.client.get("/api/v1/tokens", headers=bearer).status_code == 401
    assert "Dicabut" in text_of(admin.get(revoked.headers["Location"]))


def test_audit_log_with_filters_and_the_chain_check(demo, monkeypatch):
    admin = pages_as(demo, "admin")
    page = text_of(admin.get("/admin/audit"))
    assert "Rantai utuh" in page and "user.create" in page and "Log audit" in page
    # A long log is checked only on request (a button), as the walk takes ~0.1 ms a row.
    monkeypatch.setattr("fieldcheck.web.admin.VERIFY_AUTO_MAX_ROWS", 10)
    waiting = text_of(admin.get("/admin/audit?action=user.login"))
    assert "Periksa sekarang" in waiting and "Rantai utuh" not in waiting
    assert 'name="action" value="user.login"' in waiting  # the button keeps the filters
    assert "Rantai utuh" in text_of(admin.get("/admin/audit?action=user.login&verify=1"))
    logins = text_of(admin.get("/admin/audit?action=user.login"))
    assert "user.login" in logins and "<code>user.create</code>" not in logins
    jatim = _user(demo, "surveyor-jatim")
    about = text_of(admin.get(f"/admin/audit?object_type=user&object_id={jatim.id}&region=35"))
    rows = about.split("<tbody>")[1]
    assert "Surveyor Jawa Timur" in rows and "WIB" in rows
    assert "Sumatera Barat" not in rows and rows.count("<tr>") >= 2
    bad = admin.get("/admin/audit?since=kemarin&until=2026-01-01&actor=x")
    assert bad.status_code == 422
    assert "Bukan tanggal" in text_of(bad) and "Pilih orang dari daftar." in text_of(bad)
    with demo.app_context():
        seal()  # as the scheduler does every few seconds: only sealed entries are vouched for
    _tamper(demo, "UPDATE audit_log SET actor_name = 'x' WHERE id = 3")
    broken = text_of(admin.get("/admin/audit?verify=1"))
    assert "Rantai rusak pada entri 3" in broken


def test_admin_pages_in_the_browser(demo, browser):
    from selenium.webdriver.common.by import By

    login(browser, "admin")
    # The login's redirect must land before the next page is asked for (else no cookie yet).
    waiting(browser, 10).until(lambda b: "/login" not in b.current_url)
    browser.get(browser.base + "/admin/users")
    assert "Pengguna" in browser.find_element(By.TAG_NAME, "h1").text
    shot(browser, "admin-users")
    assert_accessible(browser)
    browser.find_element(By.LINK_TEXT, "Surveyor Jawa Timur (demo)").click()
    # A click returns before the next page loads: wait for it (a loaded machine is slow).
    waiting(browser, 30).until(
        lambda b: "Surveyor Jawa Timur" in b.find_element(By.TAG_NAME, "h1").text
    )
    shot(browser, "admin-user")
    assert_accessible(browser)
    browser.find_element(By.CSS_SELECTOR, "form[action$='/tokens'] button.primary").click()
    qr = waiting(browser, 30).until(
        lambda b: (
            b.find_element(By.CSS_SELECTOR, "img.qr")
            if b.find_elements(By.CSS_SELECTOR, "img.qr")
            else None
        )
    )
    assert qr.get_property("naturalWidth") > 100  # the SVG rendered (CSP allows data: images)
    shot(browser, "admin-token-qr")
    assert_accessible(browser)
    browser.get(browser.base + "/admin/audit")
    assert "Rantai utuh" in browser.find_element(By.CSS_SELECTOR, ".audit-check").text
    shot(browser, "admin-audit")
    assert_accessible(browser)
    # On a phone the page does not scroll sideways: wide tables scroll inside their frame.
    browser.set_window_size(390, 844)
    for path in ("/admin/users", f"/admin/users/{_user(demo, 'surveyor-jatim').id}"):
        browser.get(browser.base + path)
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1"
        ), path
    shot(browser, "admin-user-phone")
    browser.set_window_size(1366, 768)
