"""Logging in and out, the password rules, lockout, sessions kept server-side, CSRF."""

from __future__ import annotations

from sqlalchemy import func, select

from fieldcheck.auth.models import User, WebSession
from fieldcheck.extensions import db
from tests.web.conftest import assert_accessible, login, shot
from tests.web.pages import Pages, text_of


def test_pages_need_a_login(demo, pages: Pages):
    response = pages.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/account")


def test_login_sets_a_secure_server_side_session(demo, pages: Pages):
    pages.get("/login")
    response = pages.post("/login", {"username": "supervisor-jatim", "password": "fieldcheck-demo"})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("fieldcheck_session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in cookie
    sid = cookie.split(";")[0].split("=", 1)[1]
    with demo.app_context():
        rows = db.session.execute(select(WebSession)).scalars().all()
        # Only the id's hash is stored; the row names the user.
        assert sid not in {r.id for r in rows}
        user = db.session.execute(
            select(User).where(User.username == "supervisor-jatim")
        ).scalar_one()
        assert user.id in {r.user_id for r in rows}
    assert pages.get("/account").status_code == 200


def test_wrong_password_is_refused_in_indonesian(demo, pages: Pages):
    pages.get("/login")
    response = pages.post("/login", {"username": "supervisor-jatim", "password": "salah-sekali"})
    assert response.status_code == 200
    assert "Nama pengguna atau kata sandi salah." in text_of(response)
    unknown = pages.post("/login", {"username": "nobody", "password": "salah-sekali"})
    assert "Nama pengguna atau kata sandi salah." in text_of(unknown)


def test_lockout_after_repeated_wrong_passwords(demo, pages: Pages):
    pages.get("/login")
    for _ in range(demo.config["LOGIN_MAX_FAILURES"]):
        wrong = pages.post("/login", {"username": "supervisor-sumbar", "password": "salah-sekali"})
        # The locking attempt says what an unknown name gets: nothing tells the name exists.
        assert "Nama pengguna atau kata sandi salah." in text_of(wrong)
    still_wrong = pages.post("/login", {"username": "supervisor-sumbar", "password": "salah-lagi"})
    assert "Nama pengguna atau kata sandi salah." in text_of(still_wrong)
    # Even the right password is refused while the account is locked (and only it learns so).
    response = pages.post(
        "/login", {"username": "supervisor-sumbar", "password": "fieldcheck-demo"}
    )
    assert response.status_code == 200
    assert "akun dikunci sampai" in text_of(response)
    with demo.app_context():
        user = db.session.execute(
            select(User).where(User.username == "supervisor-sumbar")
        ).scalar_one()
        assert user.locked_until is not None


def test_login_rate_limit(demo, pages: Pages):
    demo.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    pages.get("/login")
    statuses = [
        pages.post("/login", {"username": "nobody", "password": "x" * 12}).status_code
        for _ in range(4)
    ]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429


def test_login_without_csrf_is_refused(demo, pages: Pages):
    pages.get("/login")
    response = pages.post(
        "/login", {"username": "supervisor-jatim", "password": "fieldcheck-demo"}, csrf=False
    )
    assert response.status_code == 400
    assert "Muat ulang halaman" in text_of(response)


def test_admin_set_password_must_be_changed(demo, pages: Pages):
    from fieldcheck.auth.passwords import set_password

    with demo.app_context():
        user = db.session.execute(
            select(User).where(User.username == "supervisor-jatim")
        ).scalar_one()
        set_password(user, "sementara-123", actor=None, must_change=True)
        db.session.commit()
    pages.get("/login")
    response = pages.post("/login", {"username": "supervisor-jatim", "password": "sementara-123"})
    assert response.headers["Location"].startswith("/account/password")
    # Every page sends them to the change form first.
    assert pages.get("/account").headers["Location"].startswith("/account/password")
    pages.get("/account/password")
    short = pages.post(
        "/account/password",
        {
            "current_password": "sementara-123",
            "new_password": "pendek",
            "repeat_password": "pendek",
        },
    )
    assert short.status_code == 422
    assert "minimal 10 karakter" in text_of(short)
    done = pages.post(
        "/account/password",
        {
            "current_password": "sementara-123",
            "new_password": "milik-saya-sendiri",
            "repeat_password": "milik-saya-sendiri",
        },
    )
    assert done.status_code == 302
    assert pages.get("/account").status_code == 200


def test_logout_ends_the_session_on_the_server(demo, pages: Pages):
    pages.login("supervisor-jatim")
    cookie = pages.client.get_cookie("fieldcheck_session", domain="localhost")
    assert cookie is not None
    pages.logout()
    # Replaying the old cookie does not log anyone in.
    replay = Pages(demo.test_client())
    replay.client.set_cookie("fieldcheck_session", cookie.value, domain="localhost")
    assert replay.get("/account").status_code == 302


def test_deactivation_logs_out_everywhere(demo, pages: Pages):
    from fieldcheck.auth.services import deactivate_user

    pages.login("supervisor-jatim")
    with demo.app_context():
        user = db.session.execute(
            select(User).where(User.username == "supervisor-jatim")
        ).scalar_one()
        deactivate_user(user)
        db.session.commit()
        left = db.session.execute(
            select(func.count()).select_from(WebSession).where(WebSession.user_id == user.id)
        ).scalar_one()
        assert left == 0
    assert pages.get("/account").status_code == 302


def test_pages_send_security_headers(demo, pages: Pages):
    response = pages.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_page_is_an_indonesian_page_and_api_stays_json(demo, pages: Pages):
    page = pages.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Galat 404" in text_of(page)
    api = pages.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.mimetype == "application/json"


def test_language_switch(demo, pages: Pages):
    pages.login("supervisor-jatim")
    assert "Akun saya" in text_of(pages.get("/account"))
    pages.post("/language", {"lang": "en", "next": "/account"})
    assert "My account" in text_of(pages.get("/account"))


def test_login_in_a_real_browser(demo, browser):
    browser.get(browser.base + "/login")
    shot(browser, "login")
    assert_accessible(browser)
    login(browser, "supervisor-jatim")
    assert "/login" not in browser.current_url
    browser.get(browser.base + "/account")
    assert "Supervisor Jawa Timur (demo)" in browser.page_source
    shot(browser, "account")
    assert_accessible(browser)


def test_next_never_leaves_the_site(demo, pages: Pages):
    pages.login("supervisor-jatim")
    for target in (
        "//evil.example",
        "/\t/evil.example",
        "/\\evil.example",
        "/\n/evil.example",
        "https://evil.example",
    ):
        response = pages.get("/login", query_string={"next": target})
        assert response.status_code == 302, target
        assert "evil" not in response.headers["Location"], target
    assert pages.get("/login?next=/review").headers["Location"] == "/review"


def test_bots_leave_no_sessions_and_assets_read_none(demo, pages: Pages):
    from tests.helpers import count_queries

    for url in ("/no-such-page", "/wp-admin", "/account"):
        pages.get(url)
    with demo.app_context():
        assert db.session.execute(select(func.count()).select_from(WebSession)).scalar_one() == 0
    pages.login("supervisor-jatim")
    with count_queries(demo) as statements:
        asset = pages.get("/assets/css/app.css")
        assert asset.status_code == 200
        asset.close()
    assert not [s for s in statements if "web_sessions" in s]
