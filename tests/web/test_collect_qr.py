"""The admin sets up ODK Collect for a surveyor on the user page: a real Chromium gets the
Collect QR page, whose code holds Collect's settings for a token that works."""

from __future__ import annotations

import html
import re

import segno
from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import user_for_token
from fieldcheck.extensions import db
from tests.auth.test_collect import assert_collect_accepts, collect_decode
from tests.web.conftest import assert_accessible, login, pages_as, shot, waiting
from tests.web.pages import text_of

BASE = "https://fieldcheck.example.go.id"


def _user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.execute(select(User.id).where(User.username == username)).scalar_one()


def test_an_admin_gets_the_collect_qr_page_in_the_browser(demo, browser):
    from selenium.webdriver.common.by import By

    demo.config["PUBLIC_BASE_URL"] = BASE
    jatim = _user_id(demo, "surveyor-jatim")
    login(browser, "admin")
    waiting(browser, 10).until(lambda b: "/login" not in b.current_url)
    browser.get(f"{browser.base}/admin/users/{jatim}")
    browser.find_element(By.ID, "issue-collect").click()
    qr = waiting(browser, 30).until(
        lambda b: (
            b.find_element(By.ID, "collect-qr") if b.find_elements(By.ID, "collect-qr") else None
        )
    )
    assert qr.get_property("naturalWidth") > 100  # the SVG rendered
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert heading == "ODK Collect untuk Surveyor Jawa Timur (demo)"
    steps = browser.find_element(By.CSS_SELECTOR, "ol.collect-steps").text
    assert "Configure with QR code" in steps and "Google Play" in steps
    browser.find_element(By.CSS_SELECTOR, "details summary").click()
    payload = browser.find_element(By.ID, "payload").get_property("value").strip()
    # The image is the QR code of exactly that text, and the text is Collect's settings.
    assert qr.get_attribute("src") == segno.make(payload, error="m").svg_data_uri(scale=5, border=4)
    settings = collect_decode(payload)
    assert_collect_accepts(settings)
    server_url = settings["general"]["server_url"]
    assert server_url.startswith(f"{BASE}/openrosa/key/fc_")
    with demo.test_request_context():
        assert user_for_token(server_url.rsplit("/", 1)[1]).id == jatim
    shot(browser, "admin-collect-qr")
    assert_accessible(browser)


def test_collect_is_offered_for_surveyors_only(demo):
    admin = pages_as(demo, "admin")
    surveyor = text_of(admin.get(f"/admin/users/{_user_id(demo, 'surveyor-jatim')}"))
    assert 'id="issue-collect"' in surveyor and "Siapkan ODK Collect" in surveyor
    supervisor_id = _user_id(demo, "supervisor-jatim")
    page = text_of(admin.get(f"/admin/users/{supervisor_id}"))
    assert 'id="issue-collect"' not in page
    # Sent anyway (a crafted form): refused, no token made.
    refused = admin.post(
        f"/admin/users/{supervisor_id}/tokens", {"expires_in_days": "", "client": "odk-collect"}
    )
    assert refused.status_code == 422
    assert "ODK Collect hanya disiapkan untuk surveyor." in html.unescape(text_of(refused))
    odd = admin.post(
        f"/admin/users/{supervisor_id}/tokens", {"expires_in_days": "", "client": "kobo"}
    )
    assert odd.status_code == 422 and "Pilih aplikasi ponsel." in text_of(odd)
    issued = admin.post(
        f"/admin/users/{_user_id(demo, 'surveyor-jatim')}/tokens",
        {"expires_in_days": "30", "client": "odk-collect"},
    )
    assert issued.status_code == 201
    assert issued.headers["Cache-Control"].startswith("no-store")
    page = html.unescape(text_of(issued))
    payload = re.search(r'id="payload"[^>]*>([^<]+)<', page).group(1).strip()
    assert collect_decode(payload)["general"]["autosend"] == "wifi_and_cellular"
