"""The "Cakupan wawancara" page: in the nav for supervisors, the table per agency with red/ok
markers and the units drill-down, in Indonesian; in headless Chromium and through the client."""

from __future__ import annotations

import pytest

from fieldcheck.extensions import db
from tests.interviews.conftest import M
from tests.web.conftest import assert_accessible, login, shot
from tests.web.pages import Pages

PASSWORD = "cakupan-wawancara-2026"
PAGE = f"/interviews/coverage?methodology={M}&period=2026"


@pytest.fixture
def supervisor_login(app, world) -> str:
    """The world's supervisor (region 35) with a web login; returns the username."""
    from fieldcheck.auth.models import User
    from fieldcheck.auth.passwords import set_password, set_username

    with app.app_context():
        user = db.session.get(User, world.ids["supervisor"])
        set_username(user, "pengawas-35", actor=None)
        set_password(user, PASSWORD, actor=None, must_change=False)
        db.session.commit()
    return "pengawas-35"


def test_the_coverage_page_in_chromium(browser, supervisor_login):
    from selenium.webdriver.common.by import By

    login(browser, supervisor_login, PASSWORD)
    browser.get(browser.base + "/")
    link = browser.find_element(By.CSS_SELECTOR, "nav a[href^='/interviews/coverage']")
    assert link.text.strip() == "Cakupan wawancara"
    browser.get(browser.base + PAGE)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Cakupan wawancara"
    short = browser.find_element(By.CSS_SELECTOR, 'tr[data-agency="PEMKAB-35.15"]')
    assert short.find_element(By.CSS_SELECTOR, ".badge-bad").text == "kurang"
    users = short.find_element(By.CSS_SELECTOR, 'td[data-instrument="pengguna"]')
    assert users.text == "29 dari 30 wawancara pengguna layanan"
    assert "cov-short" in users.get_attribute("class")
    red = browser.execute_script("return getComputedStyle(arguments[0]).color", users)
    assert red == "rgb(138, 28, 18)"
    done = browser.find_element(By.CSS_SELECTOR, 'tr[data-agency="PEMKOT-35.78"]')
    assert done.find_element(By.CSS_SELECTOR, ".badge-ok").text == "lengkap"
    # Drill down to the units.
    detail = short.find_element(By.XPATH, "following-sibling::tr[1]//details")
    detail.find_element(By.TAG_NAME, "summary").click()
    row = detail.find_element(By.CSS_SELECTOR, 'tr[data-unit="35.15-DPMPTSP"]')
    assert "3 / 4" in row.text
    assert "Unit 35.15-DPMPTSP" in detail.text
    assert_accessible(browser)
    shot(browser, "interview-coverage")


def test_bad_input_gives_a_readable_page(app, supervisor_login):
    pages = Pages(app.test_client())
    pages.login(supervisor_login, PASSWORD)
    response = pages.get("/interviews/coverage?period=abc")
    assert response.status_code == 422
    assert "Harus tahun antara 2000 dan 2100." in response.get_data(as_text=True)
    response = pages.get("/interviews/coverage?methodology=ombudsman-2019")
    assert response.status_code == 422
    assert "Metodologi ini tidak memiliki wawancara." in response.get_data(as_text=True)
    response = pages.get("/interviews/coverage?methodology=" + M + "&region=13")
    assert response.status_code == 403
    assert "di luar wilayah Anda" in response.get_data(as_text=True)
