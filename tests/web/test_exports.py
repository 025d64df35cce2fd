"""The exports page and its downloads: same services, role and region as the API exports."""

from __future__ import annotations

import csv
import io

import openpyxl
import requests

from fieldcheck.extensions import db
from fieldcheck.zoning.lifecycle import execute
from fieldcheck.zoning.services import create_run, current_period
from tests.web.conftest import assert_accessible, login, pages_as, shot, waiting
from tests.web.pages import text_of


def _run(app) -> int:
    """A succeeded national zoning run over the demo's approved inspections."""
    with app.app_context():
        run = create_run(period=current_period(), full=True)
        db.session.commit()
        run_id = run.id
        assert execute(run_id).state == "succeeded"
    return run_id


def _csv(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


def test_page_lists_the_exports_and_downloads_are_scoped(demo):
    run_id = _run(demo)
    sumbar = pages_as(demo, "supervisor-sumbar")
    page = sumbar.get("/exports")
    assert page.status_code == 200
    html = text_of(page)
    # Indonesian by default: the three exports, each with CSV and XLSX.
    for words in (
        "Ekspor",
        "/exports/results.xlsx",
        "/exports/findings.csv",
        "/exports/inspections.xlsx",
    ):
        assert words in html, words
    # Results of the run: only region 13 rows for the Sumatera Barat supervisor.
    response = sumbar.get(f"/exports/results.csv?run={run_id}")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = _csv(response)
    assert rows[0][0] == "Peringkat"  # the header in the page language
    codes = [row[2] for row in rows[1:]]
    assert codes and all(code.startswith("13.") for code in codes)
    # Inspections and findings: nothing of 35, as the API lists them.
    for kind in ("inspections", "findings"):
        rows = _csv(sumbar.get(f"/exports/{kind}.csv"))
        assert len(rows) > 1 and all(row[3].startswith("13") for row in rows[1:]), kind
    # A region outside the scope is simply empty; a run of someone else's region 404s.
    assert len(_csv(sumbar.get("/exports/inspections.csv?region=35"))) == 1
    # The national admin gets every region, in XLSX: numbers as numbers, dates as dates.
    admin = pages_as(demo, "admin")
    response = admin.get("/exports/inspections.xlsx?status=approved&visited_from=2026-01-01")
    assert response.status_code == 200 and response.is_streamed
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[0] == "Inspeksi"
    regions = {row[3][:2] for row in rows}
    assert {"13", "35"} <= regions
    assert isinstance(rows[0][11], float | int)  # score
    assert rows[0][5].year == 2026 and rows[0][6] in ("WIB", "WITA", "WIT")  # local time, zone


def test_guards_and_bad_filters(demo, pages):
    # Anonymous: to the login page; a surveyor: the 403 page.
    response = pages.get("/exports/results.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    surveyor = pages_as(demo, "surveyor-jatim")
    assert surveyor.get("/exports").status_code == 403
    assert surveyor.get("/exports/inspections.xlsx").status_code == 403
    supervisor = pages_as(demo, "supervisor-jatim")
    # Bad filters: the page again, the message beside the form, 422, no file.
    response = supervisor.get("/exports/inspections.csv?visited_from=31-12-2026&region=jatim")
    assert response.status_code == 422 and response.mimetype == "text/html"
    html = text_of(response)
    assert "Harus berupa tanggal" in html and "Harus kode wilayah" in html
    response = supervisor.get(
        "/exports/findings.xlsx?visited_from=2026-12-01&visited_to=2026-01-01"
    )
    assert response.status_code == 422 and "Tanggal akhir" in text_of(response)
    assert supervisor.get("/exports/results.csv?level=planet").status_code == 422
    assert supervisor.get("/exports/results.csv?run=999999").status_code == 404
    assert supervisor.get("/exports/units.csv").status_code == 404
    assert supervisor.get("/exports/results.pdf").status_code == 404


def test_too_many_rows_is_refused_before_the_file(demo):
    demo.config["EXPORT_MAX_ROWS"] = 5
    admin = pages_as(demo, "admin")
    response = admin.get("/exports/inspections.csv")
    assert response.status_code == 422 and "persempit" in text_of(response)


def test_browser_downloads_an_xlsx(demo, browser):
    from selenium.webdriver.common.by import By

    _run(demo)
    login(browser, "supervisor-sumbar")
    waiting(browser, 10).until(lambda d: "/login" not in d.current_url)
    browser.get(browser.base + "/exports")
    assert "Ekspor" in browser.title
    shot(browser, "exports")
    assert_accessible(browser)
    # On a phone the cards stack and nothing is wider than the screen.
    browser.set_window_size(390, 844)
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390, width
    shot(browser, "exports-phone")
    browser.set_window_size(1366, 768)
    form = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=results-title] form")
    form.find_element(By.NAME, "level").send_keys("regency")
    action = form.get_attribute("action")
    # The link the button follows, fetched with the browser's own login cookie.
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    response = requests.get(action, params={"level": "regency"}, cookies=cookies, timeout=30)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[0] == "Peringkat" and rows
    assert all(row[2].startswith("13") for row in rows)
    # A bad filter from the page: the page again with the message, still accessible.
    browser.get(browser.base + "/exports/findings.xlsx?visited_from=kemarin")
    assert "Harus berupa tanggal" in browser.page_source
    shot(browser, "exports-error")
    assert_accessible(browser)
