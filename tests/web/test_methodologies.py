"""Metodologi pages (issue 16): the list, upload with the loader's problem in Indonesian,
a version's content, publishing with a date (confirmed), try-it, the zone diff page."""

from __future__ import annotations

import io

from tests.methodologies.versions import STRICT_BANDS, version_toml
from tests.web.conftest import assert_accessible, login, pages_as, shot, waiting
from tests.web.pages import text_of

OVERLAP = version_toml(2, STRICT_BANDS.replace('min = "90.00"', 'min = "89.00"'))


def _upload(admin, text: str, name: str = "v2.toml"):
    return admin.post(
        "/methodologies",
        {"file": (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data",
    )


def test_methodology_pages_upload_publish_and_try(demo) -> None:
    supervisor = pages_as(demo, "supervisor-jatim")
    assert supervisor.get("/methodologies").status_code == 403
    admin = pages_as(demo, "admin")
    listed = admin.get("/methodologies")
    assert listed.status_code == 200
    page = text_of(listed)
    assert "Metodologi" in page and "ombudsman-2019" in page and "bawaan aplikasi" in page

    refused = _upload(admin, OVERLAP)
    assert refused.status_code == 422
    page = text_of(refused)
    assert "Berkas metodologi tidak valid" in page and "tumpang tindih" in page

    stored = _upload(admin, version_toml(2))
    assert stored.status_code == 303, text_of(stored)[:500]
    version_url = stored.headers["Location"]
    assert version_url.endswith("/methodologies/ombudsman-2019/versions/2")
    page = text_of(admin.get(version_url))
    assert "rancangan" in page and "Umumkan versi ini" in page and "Rentang nilai" in page

    early = admin.post(version_url + "/publish", {"effective_from": "2014-01-01"})
    assert early.status_code == 422
    assert "Harus setelah" in text_of(early)
    junk = admin.post(version_url + "/publish", {"effective_from": "kemarin"})
    assert junk.status_code == 422
    done = admin.post(version_url + "/publish", {"effective_from": "2026-06-01"})
    assert done.status_code == 303
    assert "berlaku mulai 1 Juni 2026" in text_of(admin.get(done.headers["Location"]))  # flash
    page = text_of(admin.get(version_url))
    assert "1 Juni 2026" in page and "Umumkan versi ini" not in page

    tried = admin.post(version_url + "/try", {"period": "2026", "region": ""})
    assert tried.status_code == 303, text_of(tried)[:500]
    assert "/runs/" in tried.headers["Location"]


def test_methodology_pages_in_the_browser(demo, browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    bad = tmp_path / "overlap.toml"
    bad.write_text(OVERLAP, encoding="utf-8")
    good = tmp_path / "v2.toml"
    good.write_text(version_toml(2), encoding="utf-8")

    login(browser, "admin")
    waiting(browser, 10).until(lambda b: "/login" not in b.current_url)
    browser.get(browser.base + "/methodologies")
    assert "Metodologi" in browser.find_element(By.TAG_NAME, "h1").text
    assert "ombudsman-2019" in browser.find_element(By.CSS_SELECTOR, "table.methodologies").text
    shot(browser, "methodologies")
    assert_accessible(browser)

    browser.find_element(By.ID, "file").send_keys(str(bad))
    browser.find_element(By.CSS_SELECTOR, "form[enctype] button.primary").click()
    alert = waiting(browser, 30).until(
        lambda b: b.find_element(By.CSS_SELECTOR, "ul.errors").text or False
    )
    assert "Berkas metodologi tidak valid" in alert and "tumpang tindih" in alert
    shot(browser, "methodology-upload-refused")
    assert_accessible(browser)

    browser.find_element(By.ID, "file").send_keys(str(good))
    browser.find_element(By.CSS_SELECTOR, "form[enctype] button.primary").click()
    waiting(browser, 30).until(lambda b: "/versions/2" in b.current_url)
    assert "rancangan" in browser.find_element(By.TAG_NAME, "h1").text
    shot(browser, "methodology-version")
    assert_accessible(browser)

    browser.find_element(By.ID, "effective_from").send_keys("06012026")
    browser.find_element(By.CSS_SELECTOR, "form[data-confirm] button.primary").click()
    waiting(browser, 10).until(EC.alert_is_present()).accept()  # data-confirm asks first
    waiting(browser, 30).until(
        lambda b: "diumumkan" in b.find_element(By.CSS_SELECTOR, ".flash").text
    )
    assert not browser.find_elements(By.ID, "effective_from")
    browser.get(browser.base + "/methodologies")
    rows = browser.find_element(By.CSS_SELECTOR, "table.methodologies").text
    assert "1 Juni 2026" in rows


def test_zone_diff_page_and_rerun_button(demo) -> None:
    from sqlalchemy import select

    from fieldcheck.extensions import db
    from fieldcheck.zoning.lifecycle import execute
    from fieldcheck.zoning.models import ZoningRun

    admin = pages_as(demo, "admin")
    with demo.app_context():
        official = db.session.execute(
            select(ZoningRun).where(ZoningRun.is_official.is_(True))
        ).scalar_one()
        official_id, period = official.id, official.period
    stored = _upload(admin, version_toml(2).replace("2026-01-01", f"{period}-01-01"))
    assert stored.status_code == 303
    tried = admin.post(stored.headers["Location"] + "/try", {"period": str(period), "region": ""})
    assert tried.status_code == 303, text_of(tried)[:800]
    what_if_id = int(tried.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with demo.app_context():
        assert execute(what_if_id).state == "succeeded"
    page = text_of(admin.get(f"/runs/{what_if_id}"))
    assert f"/runs/{what_if_id}/diff" in page and "Jalankan ulang" in page
    diff = admin.get(f"/runs/{what_if_id}/diff")
    assert diff.status_code == 200
    page = text_of(diff)
    assert "Perbedaan zona proses" in page and f"#{official_id}" in page
    assert "Zona sebelumnya" in page  # the demo's scores move under the stricter bands

    again = admin.post(f"/runs/{official_id}/rerun")
    assert again.status_code == 303
    rerun_id = int(again.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with demo.app_context():
        assert execute(rerun_id).state == "succeeded"
    same = text_of(admin.get(f"/runs/{rerun_id}/diff?against={official_id}"))
    assert "Tidak ada tempat yang berpindah zona." in same
    # The rerun's own page says which run it repeats and that every number came out the same.
    run_page = text_of(admin.get(f"/runs/{rerun_id}"))
    assert f"Ulangan run #{official_id}" in run_page
    assert f"Semua angka run #{official_id} terulang persis." in run_page


def test_version_page_writes_numbers_and_dates_the_indonesian_way(demo) -> None:
    """Trial of issue 16: the 2025 draft's weight 15.295 read "bobot 15.295" (fifteen thousand
    to an Indonesian reader) and dates "2017-01-01" beside "5 Desember 2026" elsewhere."""
    from fieldcheck.catalogue.reader import DATA_DIR

    admin = pages_as(demo, "admin")
    draft = (DATA_DIR / "methodologies" / "drafts" / "ombudsman-2025.toml").read_text("utf-8")
    stored = _upload(admin, draft, "ombudsman-2025.toml")
    assert stored.status_code == 303, text_of(stored)[:500]
    page = text_of(admin.get(stored.headers["Location"]))
    assert "bobot 15,295" in page and "bobot 30" in page
    assert "15.295" not in page and "22.659" not in page
    assert "31,99" in page and "31.99" not in page  # the hitam band's upper edge
    listed = text_of(admin.get("/methodologies"))
    assert "1 Januari 2022" in listed and "2022-01-01" not in listed
