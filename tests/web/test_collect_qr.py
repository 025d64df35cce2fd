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


def _issue_collect(admin, user_id: int) -> str:
    issued = admin.post(
        f"/admin/users/{user_id}/tokens", {"expires_in_days": "", "client": "odk-collect"}
    )
    assert issued.status_code == 201
    return html.unescape(text_of(issued))


def test_the_qr_page_warns_when_phones_cannot_reach_the_address(demo):
    """The trial's pitfall: ``make run`` on 127.0.0.1 without public_base_url gives a QR code
    that points the phone at itself. The page says so, in Indonesian, with the fix."""
    admin = pages_as(demo, "admin")
    jatim = _user_id(demo, "surveyor-jatim")
    # make run's default: no public_base_url, the browser on the server's own address.
    demo.config["PUBLIC_BASE_URL"] = ""
    page = _issue_collect(admin, jatim)  # the test client's host is "localhost"
    assert 'id="reach-warning"' in page
    assert "Ponsel tidak dapat menjangkau localhost" in page
    assert "public_base_url" in page and "make run HOST=0.0.0.0" in page
    # Where the setting really goes (no instance/config.toml is read by itself).
    assert "FIELDCHECK_PUBLIC_BASE_URL" in page and "FIELDCHECK_CONFIG" in page
    assert "instance/config.toml" not in page
    demo.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    assert "Ponsel tidak dapat menjangkau 127.0.0.1" in _issue_collect(admin, jatim)
    # Unset but the browser used a LAN address: a softer note (is it reachable?), same fix.
    demo.config["PUBLIC_BASE_URL"] = ""
    lan = "192.168.1.10:5000"
    for cookie in list(admin.client._cookies.values()):  # the login, on the LAN address
        admin.client.set_cookie(cookie.key, cookie.value, domain=lan.split(":")[0])
    issued = admin.post(
        f"/admin/users/{jatim}/tokens",
        {"expires_in_days": "", "client": "odk-collect"},
        base_url=f"https://{lan}",
        headers={"Referer": f"https://{lan}/admin/users/{jatim}"},
    )
    assert issued.status_code == 201
    page = html.unescape(text_of(issued))
    assert 'id="reach-warning"' in page and "public_base_url belum diatur" in page
    assert "Ponsel tidak dapat" not in page and f"https://{lan}" in page
    # Configured with an address phones reach: no warning.
    demo.config["PUBLIC_BASE_URL"] = BASE
    assert 'id="reach-warning"' not in _issue_collect(admin, jatim)


def test_the_token_table_tells_collect_from_api_and_a_reload_goes_back(demo):
    admin = pages_as(demo, "admin")
    jatim = _user_id(demo, "surveyor-jatim")
    demo.config["PUBLIC_BASE_URL"] = BASE
    _issue_collect(admin, jatim)
    assert admin.post(f"/admin/users/{jatim}/tokens", {"expires_in_days": ""}).status_code == 201
    page = text_of(admin.get(f"/admin/users/{jatim}"))
    apps = re.findall(r'<td class="token-client">([^<]+)</td>', page)
    assert apps.count("ODK Collect") == 1 and "API" in apps  # the seeded token is API too
    assert '<th scope="col">Aplikasi</th>' in page
    # The browser reloads the address the form posted to: back to the user page.
    reload = admin.client.get(f"/admin/users/{jatim}/tokens")
    assert reload.status_code == 303
    assert reload.headers["Location"].endswith(f"/admin/users/{jatim}")
