"""The run page and the agency page show an agency's four dimension scores with their weights,
total, category and zone, and a "Belum lengkap" section with the incomplete agencies and why
(issue 16): through the test client and in headless Chromium."""

from __future__ import annotations

import pytest

from fieldcheck.extensions import db
from tests.agency.conftest import M2022
from tests.agency.test_agency_run import AGENCY, SHORT, SHORT_UNIT, UNIT, complete_agency
from tests.web.conftest import assert_accessible, login, shot
from tests.web.pages import Pages

PASSWORD = "empat-dimensi-2022"
REASON = "29 dari 30 catatan wawancara pengguna layanan yang diperlukan."


@pytest.fixture
def world(field):
    """The hand-computed agency, one short of a user interview, a run; the admin can log in."""
    from fieldcheck.auth.models import User
    from fieldcheck.auth.passwords import set_password, set_username

    complete_agency(field)
    complete_agency(field, SHORT, SHORT_UNIT, users=29)
    run_id = field.run(M2022)
    with field.app.app_context():
        user = db.session.get(User, field.admin_id)
        set_username(user, "admin-dimensi", actor=None)
        set_password(user, PASSWORD, actor=None, must_change=False)
        db.session.commit()
    return run_id


@pytest.fixture
def reader(app, world) -> Pages:
    pages = Pages(app.test_client())
    pages.login("admin-dimensi", PASSWORD)
    return pages


def test_run_page_lists_dimensions_and_the_incomplete(reader, world):
    html = reader.get(f"/runs/{world}").get_data(as_text=True)
    assert "Hasil per dimensi" in html
    for text in ("Input", "Proses", "Output", "Pengaduan", "bobot 21,85", "bobot 32,37"):
        assert text in html, text
    assert "87,50" in html and "66,67" in html and "88,89" in html  # the dimension scores
    assert "76,61" in html and "C · Kualitas Sedang" in html
    assert "Belum lengkap" in html and REASON in html
    assert "Instansi per zona" in html  # an agency-level run counts agencies, not units


def test_agency_page_shows_the_breakdown(reader, world):
    html = reader.get(f"/agencies/{AGENCY}?run={world}").get_data(as_text=True)
    assert "76,61" in html and "C · Kualitas Sedang" in html
    assert "wawancara petugas layanan: 83,34" in html  # Input's staff source
    assert UNIT in html  # the sampled unit, not zoned, with its own inputs
    assert "pengamatan saat kunjungan" in html and 'data-source="staf"' in html
    assert "Belum lengkap" not in html


def test_incomplete_agency_page_says_why(reader, world):
    response = reader.get(f"/agencies/{SHORT}?run={world}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Belum lengkap" in html and REASON in html
    assert 'id="headline"' not in html  # no score, no zone


def test_agency_page_in_chromium(browser, world):
    from selenium.webdriver.common.by import By

    login(browser, "admin-dimensi", PASSWORD)
    browser.get(browser.base + f"/agencies/{SHORT}?run={world}")
    reasons = browser.find_element(By.CSS_SELECTOR, "#incomplete .reasons").text
    assert REASON in reasons
    browser.get(browser.base + f"/runs/{world}")
    row = browser.find_element(By.CSS_SELECTOR, f'#dimension-results tr[data-code="{AGENCY}"]')
    cells = {
        c.get_attribute("data-dimension"): c.text
        for c in row.find_elements(By.CSS_SELECTOR, "td[data-dimension]")
    }
    assert cells == {"input": "87,50", "proses": "66,67", "output": "88,89", "pengaduan": "66,67"}
    assert browser.find_element(By.CSS_SELECTOR, f'#incomplete li[data-code="{SHORT}"]')
    assert_accessible(browser)
    shot(browser, "run-dimensions")


def test_region_page_and_agency_report_cope(reader, world):
    html = reader.get(f"/regions/73?run={world}").get_data(as_text=True)
    assert "Belum lengkap" in html and REASON in html
    report = reader.get(f"/agencies/{AGENCY}/report.pdf?run={world}")
    assert report.status_code == 200 and report.mimetype == "application/pdf"


def test_links_from_a_run_keep_that_run(reader, world):
    """Trial of issue 16: the run page's and the dashboard's links to an agency opened the
    agency page on the default (published, often 2019) results, so the total there differed
    from the one just clicked; every link now carries the run or methodology chosen."""
    import re

    html = reader.get(f"/runs/{world}").get_data(as_text=True)
    for code in (AGENCY, SHORT):
        assert f'href="/agencies/{code}?run={world}"' in html, code
    followed = reader.get(f"/agencies/{AGENCY}?run={world}").get_data(as_text=True)
    assert "76,61" in followed and "C · Kualitas Sedang" in followed
    overview = reader.get(f"/?methodology={M2022}&level=agency&region=35").get_data(as_text=True)
    links = set(re.findall(r'href="(/(?:agencies|regions)/[^"]*)"', overview))
    assert f"/agencies/{AGENCY}?methodology={M2022}" in links
    assert f"/regions/35?methodology={M2022}" in links  # "Halaman Jawa Timur"
    region = reader.get(f"/regions/73?run={world}").get_data(as_text=True)
    assert f'href="/agencies/{SHORT}?run={world}"' in region  # its incomplete list


def test_a_run_page_heads_its_columns_with_its_own_version(app, field, reader, world):
    """Trial of issue 16: after version 2 (other dimension weights) was published, the v1 run's
    page (and a what-if of v2 before publication) headed the columns with the weights of the
    version in force while the totals used the run's own."""
    from pathlib import Path

    from tests.helpers import auth, post_json

    source = Path(__file__).parent / "methodologies" / "uji-2022.toml"
    v2 = (
        source.read_text("utf-8")
        .replace("version = 1", "version = 2", 1)
        .replace('status = "published"', 'status = "draft"', 1)
        .replace("weight = 21.85", "weight = 31.85", 1)
        .replace("weight = 32.37", "weight = 22.37", 1)
    )
    # An upload is loaded strictly: every indicator names its legal basis, every figure its
    # confidence (the test file, loaded from disk, need not).
    sure = 'confidence = "fieldcheck_default"'
    basis = 'legal_basis = ["UU 25/2009 Pasal 21"]'
    v2 = (
        v2.replace("[[indicators]]", f"[[indicators]]\n{basis}\n{sure}")
        .replace("[[dimensions]]", f"[[dimensions]]\n{sure}")
        .replace("[[bands]]", f"[[bands]]\n{sure}")
    )
    uploaded = field.client.post(
        "/api/v1/methodologies",
        data=v2.encode(),
        headers=auth(field.admin),
        content_type="application/toml",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    from fieldcheck.zoning.lifecycle import execute
    from fieldcheck.zoning.services import current_period

    with app.app_context():
        period = current_period()
    queued = post_json(
        field.client,
        "/api/v1/zoning-runs",
        {"methodology": M2022, "version": 2, "dry_run": True, "period": period},
        field.admin,
    )
    assert queued.status_code == 202, queued.get_json()
    draft_run = queued.get_json()["id"]
    with app.app_context():
        assert execute(draft_run).state == "succeeded"
    html = reader.get(f"/runs/{draft_run}").get_data(as_text=True)
    assert "bobot 31,85" in html and "bobot 21,85" not in html
    published = post_json(
        field.client,
        f"/api/v1/methodologies/{M2022}/versions/2/publish",
        {"effective_from": "2026-01-01"},
        field.admin,
    )
    assert published.status_code == 200, published.get_json()
    html = reader.get(f"/runs/{world}").get_data(as_text=True)
    assert "bobot 21,85" in html and "bobot 32,37" in html and "bobot 31,85" not in html
    assert "76,61" in html  # its total, from its own weights


def test_the_exports_page_downloads_the_incomplete_list(reader, world):
    """Trial of issue 16: the "Belum lengkap" list was an API-only export, and the results form
    had no methodology, so a supervisor on the web got the 2019 results only."""
    page = reader.get("/exports").get_data(as_text=True)
    assert 'id="incomplete-title"' in page and "Belum lengkap" in page
    assert f'<option value="{M2022}">' in page  # the results form chooses a methodology
    listed = reader.get(f"/exports/incomplete.csv?run={world}")
    assert listed.status_code == 200 and listed.mimetype == "text/csv"
    text = listed.get_data(as_text=True)
    assert SHORT in text and REASON in text and AGENCY not in text
    assert reader.get(f"/exports/incomplete.xlsx?methodology={M2022}").status_code == 200
    results = reader.get(f"/exports/results.csv?methodology={M2022}&level=agency")
    assert AGENCY in results.get_data(as_text=True) and "76.61" in results.get_data(as_text=True)
    refused = reader.get("/exports/incomplete.csv?methodology=tidak-ada&period=abc")
    assert refused.status_code == 422
    assert "Pilih salah satu" in refused.get_data(as_text=True)


def test_the_zone_diff_says_belum_lengkap(field, reader, world):
    """Trial of issue 16: on the zone diff an agency that one run left incomplete read "tanpa
    zona", as if it had no inputs at all; it now reads "Belum lengkap"."""
    field.interview(M2022, "pengguna", SHORT, {"OUT-MAL": 3})  # the 30th: complete now
    what_if = field.run(M2022, dry_run=True)
    html = reader.get(f"/runs/{what_if}/diff").get_data(as_text=True)
    row = html[html.index(f'<span class="kbd">{SHORT}</span>') :].split("</tr>")[0]
    assert "data-incomplete" in row and "Belum lengkap" in row  # before: incomplete
    assert "tanpa zona" not in row
