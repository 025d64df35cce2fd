"""A supervisor's day in a real browser (Debian's Chromium), as the issue's "done when" tells it:
log in, the map with the demo zones, a red unit's failed items with citations, a photo, approve
from the queue, start and publish a run, English, an XLSX and a PDF download. Then every page
without parameters, as an admin and on a phone, for screenshots and axe-core."""

from __future__ import annotations

import io

import requests
from openpyxl import load_workbook
from pypdf import PdfReader
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC  # noqa: N812
from sqlalchemy import select

from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.units.models import Unit
from fieldcheck.zoning.lifecycle import run_queued
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.results import level_rows
from tests.web.conftest import assert_accessible, login, shot, waiting


def _wait(driver, condition, seconds: int = 30):
    return waiting(driver, seconds).until(condition)


def _with_cookies(driver) -> requests.Session:
    """A requests session carrying the browser's login (for downloads)."""
    session = requests.Session()
    for cookie in driver.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    return session


def _red_unit_of_35(app) -> tuple[str, str]:
    with app.app_context():
        run = db.session.execute(
            select(ZoningRun).where(ZoningRun.is_official.is_(True))
        ).scalar_one()
        rows = level_rows(run, "unit").subquery()
        code = (
            db.session.execute(
                select(rows.c.code).where(rows.c.zone == "merah", rows.c.code.like("35%"))
            )
            .scalars()
            .first()
        )
        name = db.session.execute(select(Unit.name).where(Unit.code == code)).scalar_one()
    assert code, "the demo has a red unit in Jawa Timur"
    return code, name


def test_a_supervisors_day(demo, browser):
    red_code, red_name = _red_unit_of_35(demo)
    login(browser, "supervisor-jatim")

    # The overview: the map of the demo zones (Jawa Timur and its regencies, coloured).
    browser.get(browser.base + "/")
    svg = browser.find_element(By.CSS_SELECTOR, "svg.map")
    coloured = svg.find_elements(
        By.CSS_SELECTOR, "path.zone-fill-merah, path.zone-fill-kuning, path.zone-fill-hijau"
    )
    assert coloured, "the map shows zones"
    shot(browser, "journey-overview")
    assert_accessible(browser)

    # A red unit: its failed items with the articles they rest on.
    browser.get(f"{browser.base}/units/{red_code}")
    page = browser.page_source
    assert red_name in page and "merah" in page
    assert "UU 25/2009" in page or "Pasal" in page
    shot(browser, "journey-red-unit")
    assert_accessible(browser)

    # A photo: the thumbnail on the unit page opens the full image (session cookie, no token).
    browser.get(f"{browser.base}/units/35.15-DUKCAPIL")
    thumb = browser.find_element(By.CSS_SELECTOR, "a > img[src*='/photos/']")
    assert browser.execute_script("return arguments[0].naturalWidth", thumb) > 0
    thumb.find_element(By.XPATH, "..").click()
    _wait(browser, EC.url_contains("/photos/"))
    full = browser.find_element(By.TAG_NAME, "img")
    assert browser.execute_script("return arguments[0].naturalWidth", full) > 100
    shot(browser, "journey-photo")

    # The review queue: open a waiting inspection and approve it with the keyboard.
    browser.get(browser.base + "/review")
    shot(browser, "journey-review")
    assert_accessible(browser)
    # The Sidoarjo visit carries its photo, so nothing blocks its approval.
    first = browser.find_element(
        By.XPATH,
        "//tr[.//a[contains(@href, '/units/35.15-DUKCAPIL')]]//a[contains(@href, '/inspections/')]",
    )
    inspection_id = int(first.get_attribute("href").rstrip("/").rsplit("/", 1)[1])
    first.click()
    _wait(browser, EC.url_contains(f"/inspections/{inspection_id}"))
    shot(browser, "journey-inspection")
    assert_accessible(browser)
    browser.find_element(By.TAG_NAME, "body").send_keys("a")
    _wait(browser, lambda d: f"/inspections/{inspection_id}" not in d.current_url)
    with demo.app_context():
        assert db.session.get(Inspection, inspection_id).status == "approved"

    # A run of the province: start it from the page, the scheduler runs it, publish it.
    browser.get(browser.base + "/runs")
    browser.find_element(By.CSS_SELECTOR, "form.run-start button[type=submit]").click()
    _wait(browser, EC.url_matches(r"/runs/\d+$"))
    run_id = int(browser.current_url.rsplit("/", 1)[1])
    with demo.app_context():
        assert [o.state for o in run_queued()] == ["succeeded"]
    browser.get(f"{browser.base}/runs/{run_id}")
    shot(browser, "journey-run")
    assert_accessible(browser)
    browser.find_element(By.XPATH, "//form[contains(@action, '/publish')]//button").click()
    _wait(browser, EC.alert_is_present()).accept()  # data-confirm asks first
    _wait(browser, lambda d: "resmi" in d.page_source)
    with demo.app_context():
        assert db.session.get(ZoningRun, run_id).is_official

    # English, then back.
    browser.find_element(By.CSS_SELECTOR, "form.lang button[value=en]").click()
    _wait(browser, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert "Log out" in browser.page_source
    shot(browser, "journey-english")
    browser.find_element(By.CSS_SELECTOR, "form.lang button[value=id]").click()
    _wait(browser, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "id")

    # Downloads with the browser's own login: an XLSX of the results, a PDF of the red unit.
    session = _with_cookies(browser)
    xlsx = session.get(f"{browser.base}/exports/results.xlsx", timeout=60)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) > 1 and any(red_code in [str(c) for c in row] for row in rows)
    pdf = session.get(f"{browser.base}/units/{red_code}/report.pdf", timeout=120)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert red_name in text and "Pasal" in text


#: Pages without parameters, and the role that sees them.
EVERY_PAGE = [
    "/",
    "/review",
    "/runs",
    "/exports",
    "/account",
    "/account/password",
    "/admin/users",
    "/admin/users/new",
    "/admin/audit",
    "/no-such-page",
]


def test_every_page_on_an_office_laptop_and_a_phone(demo, browser):
    login(browser, "admin")
    with demo.app_context():
        inspection = db.session.execute(select(Inspection.id)).scalars().first()
        unit = db.session.execute(select(Unit)).scalars().first()
        agency_code = unit.agency.code
        run = db.session.execute(select(ZoningRun.id)).scalars().first()
    pages = EVERY_PAGE + [
        f"/inspections/{inspection}",
        f"/units/{unit.code}",
        f"/agencies/{agency_code}",
        f"/regions/{unit.region_code}",
        f"/regions/{unit.region_code.split('.')[0]}",
        f"/runs/{run}",
        "/admin/users/1",
    ]
    for width, height, label in ((1366, 768, "laptop"), (390, 844, "phone")):
        browser.set_window_size(width, height)
        for path in pages:
            browser.get(browser.base + path)
            name = f"every-{label}-" + (path.replace("/", "-").strip("-") or "overview")
            shot(browser, name)
            assert_accessible(browser)
            # Nothing scrolls sideways: wide tables scroll inside their own box.
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 1, (path, label, overflow)
    browser.set_window_size(1366, 768)
