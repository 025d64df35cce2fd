"""The unit page: the API's result and breakdown, findings with citations and sanctions, photos
behind the session cookie, visits, overrides through the form (audited), scope, CSRF, bad input."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from fieldcheck.audit.models import AuditEntry
from fieldcheck.extensions import db
from fieldcheck.inspections.models import FindingRow
from fieldcheck.zoning.overrides import UnitOverride
from tests.helpers import auth, post_json
from tests.web.conftest import assert_accessible, login, pages_as, shot, waiting
from tests.web.pages import Pages, text_of
from tests.web.units_world import UnitsWorld, build

NO_SUCH_UNIT = "Unit tidak ditemukan."


@pytest.fixture
def world(demo) -> UnitsWorld:
    return build(demo)


def _api_result(world: UnitsWorld, code: str) -> dict:
    client = world.app.test_client()
    response = client.get(
        f"/api/v1/units/{code}/result", headers=auth(world.tokens["supervisor-jatim"])
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _overrides(app, code: str) -> list[UnitOverride]:
    from fieldcheck.units.models import Unit

    with app.app_context():
        return list(
            db.session.execute(
                select(UnitOverride)
                .join(Unit, Unit.id == UnitOverride.unit_id)
                .where(Unit.code == code)
            ).scalars()
        )


def _object_to_a_finding(world: UnitsWorld, text: str) -> None:
    """Record the agency's objection to a finding of the unit's latest visit, via the API."""
    with world.app.app_context():
        finding_id = (
            db.session.execute(
                select(FindingRow.id).where(FindingRow.inspection_id == world.inspection_id)
            )
            .scalars()
            .first()
        )
    response = post_json(
        world.app.test_client(),
        f"/api/v1/findings/{finding_id}/objections",
        {"text": text},
        world.tokens["supervisor-jatim"],
    )
    assert response.status_code == 201, response.get_json()


def test_unit_page_shows_the_api_result_findings_photos_and_visits(world: UnitsWorld):
    objection = "Maklumat pelayanan sudah dipasang sejak Agustus (foto terlampir)."
    _object_to_a_finding(world, objection)
    result = _api_result(world, world.code)
    pages = pages_as(world.app, "supervisor-jatim")
    response = pages.get(f"/units/{world.code}")
    assert response.status_code == 200
    html = text_of(response)
    # Header: name, agency link (h1's page), zone and score as the API gives them (Indonesian).
    assert world.name in html
    assert f'href="/agencies/{world.agency_code}"' in html
    assert f"{result['score']:.2f}".replace(".", ",") in html
    assert f'class="zone zone-{result["final_zone"]}"' in html
    # The breakdown: every dimension's mean, as the API computed it.
    for dim in result["dimensions"]:
        if dim["score"] is not None:
            assert f"{dim['score']:.2f}".replace(".", ",") in html, dim
        assert dim["name"] in html
    for item in result["indicators"]:
        assert item["code"] in html
    # Findings with their citation and the Pasal 54 sanction the catalogue attaches.
    assert result["findings"], "the lowest-scored unit has findings"
    for finding in result["findings"]:
        assert finding["citation"] in html
    sanctions = {f["sanction"] for f in result["findings"] if f["sanction"]}
    assert sanctions and all(s in html for s in sanctions)
    assert "Pasal 54" in html
    assert "Rekomendasi" in html  # recommendations, in Indonesian
    # Visits: links to the inspection page, times in the unit's zone, and the trend chart.
    assert f'href="/inspections/{world.inspection_id}"' in html
    assert re.search(r"pukul \d\d\.\d\d WIB", html)
    assert '<svg class="chart trend"' in html
    # Objections to the unit's findings: shown with their status (decided on h3's pages).
    assert objection in html and "menunggu (pending)" in html
    # The photo: a thumbnail linking to the full image, both loading with the session cookie.
    assert f'src="/photos/{world.sha256}/preview"' in html
    assert f'href="/photos/{world.sha256}"' in html
    for url, mimetype in (
        (f"/photos/{world.sha256}/preview", "image/jpeg"),
        (f"/photos/{world.sha256}", "image/jpeg"),
    ):
        with pages.client.get(url) as photo:
            assert photo.status_code == 200
            assert photo.mimetype == mimetype
            assert photo.headers["X-Content-Type-Options"] == "nosniff"
            assert "private" in photo.headers["Cache-Control"]
            assert photo.get_data()[:2] == b"\xff\xd8"
    assert pages.get("/photos/" + "0" * 64).status_code == 404
    assert pages.get("/photos/not-a-hash/preview").status_code == 404


def test_region_scope_roles_and_login(world: UnitsWorld):
    sumbar = pages_as(world.app, "supervisor-sumbar")
    refused = sumbar.get(f"/units/{world.code}")
    assert refused.status_code == 404
    assert world.name not in text_of(refused)
    assert NO_SUCH_UNIT in text_of(refused)
    for url in (f"/photos/{world.sha256}", f"/photos/{world.sha256}/preview"):
        assert sumbar.get(url).status_code == 404
    sumbar.get("/units/13.71-DUKCAPIL")  # a page of their own, for a CSRF token
    posted = sumbar.post(f"/units/{world.code}/override", {"zone": "hijau", "reason": "coba"})
    assert posted.status_code == 404
    assert _overrides(world.app, world.code) == []
    own = sumbar.get("/units/13.71-DUKCAPIL")
    assert own.status_code == 200
    assert "Dinas Kependudukan dan Pencatatan Sipil Kota Padang" in text_of(own)
    assert world.code not in text_of(own) and world.name not in text_of(own)
    # A period no run has scored: the page still opens, and says so.
    earlier = sumbar.get(f"/units/13.71-DUKCAPIL?period={world.period - 1}")
    assert earlier.status_code == 200
    assert "Belum ada hasil zonasi untuk periode ini" in text_of(earlier)

    surveyor = pages_as(world.app, "surveyor-jatim")
    forbidden = surveyor.get(f"/units/{world.code}")
    assert forbidden.status_code == 403 and forbidden.mimetype == "text/html"
    assert surveyor.get(f"/photos/{world.sha256}/preview").status_code == 403

    anonymous = Pages(world.app.test_client())
    for url in (f"/units/{world.code}", f"/photos/{world.sha256}"):
        response = anonymous.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_override_set_and_withdrawn_through_the_form_is_audited(world: UnitsWorld):
    pages = pages_as(world.app, "supervisor-jatim")
    page = f"/units/{world.code}"
    pages.get(page)
    # Without the CSRF token: refused, nothing stored.
    no_token = pages.post(f"{page}/override", {"zone": "hijau", "reason": "x"}, csrf=False)
    assert no_token.status_code == 400
    assert _overrides(world.app, world.code) == []
    # Bad input: the page again with the errors (Indonesian), 422, nothing stored.
    bad = pages.post(f"{page}/override", {"zone": "ungu", "reason": "  "})
    assert bad.status_code == 422
    assert "Pilih salah satu zona." in text_of(bad)
    assert "Alasan wajib diisi." in text_of(bad)
    bad_period = pages.post(
        f"{page}/override", {"zone": "hijau", "reason": "Perbaikan", "period": "20x6"}
    )
    assert bad_period.status_code == 422
    assert _overrides(world.app, world.code) == []

    reason = "Sudah diperbaiki setelah kunjungan terakhir (bukti surat)."
    done = pages.post(
        f"{page}/override", {"zone": "hijau", "reason": reason, "period": world.period}
    )
    assert done.status_code == 303
    shown = text_of(pages.get(done.headers["Location"]))
    assert reason in shown
    assert "Zona akhir ditetapkan secara manual: hijau" in shown
    assert "Zona akhir telah ditetapkan." in shown  # the flash
    assert "Cabut penetapan" in shown
    api = _api_result(world, world.code)
    assert api["final_zone"] == "hijau" and api["override"]["reason"] == reason
    # A second override while one is in force: the API's 409, as a page.
    again = pages.post(f"{page}/override", {"zone": "kuning", "reason": "lagi"})
    assert again.status_code == 409 and again.mimetype == "text/html"

    withdrawn = pages.post(
        f"{page}/override/withdraw", {"reason": "Keliru", "period": world.period}
    )
    assert withdrawn.status_code == 303
    assert _api_result(world, world.code)["override"] is None
    [row] = _overrides(world.app, world.code)
    assert row.withdrawn_at is not None and row.withdraw_reason == "Keliru"
    with world.app.app_context():
        actions = set(
            db.session.execute(
                select(AuditEntry.action).where(AuditEntry.object_id == world.code)
            ).scalars()
        )
    assert {"unit.override", "unit.override_withdraw"} <= actions

    assert pages.get(f"{page}?period=abad").status_code == 422
    assert pages.get(f"{page}?period=1999").status_code == 422


def test_unit_page_and_photo_in_the_browser(world: UnitsWorld, browser):
    from selenium.webdriver.common.by import By

    login(browser, "supervisor-jatim")
    browser.get(f"{browser.base}/units/{world.code}")
    assert world.name in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_element(By.CSS_SELECTOR, ".unit-head .zone-merah")
    thumb = browser.find_element(By.CSS_SELECTOR, ".unit-photos img")
    wait = waiting(browser, 10)
    wait.until(lambda d: d.execute_script("return arguments[0].naturalWidth", thumb) > 0)
    assert_accessible(browser)
    shot(browser, "unit")
    browser.set_window_size(390, 844)  # a phone: tables scroll inside their .table-wrap
    wait.until(lambda d: d.execute_script("return window.innerWidth") <= 390)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    shot(browser, "unit-phone")
    browser.set_window_size(1366, 768)
    browser.find_element(By.CSS_SELECTOR, ".unit-photos a").click()
    # The click returns before the photo has loaded: wait for it.
    waiting(browser, 30).until(lambda b: b.current_url.endswith(f"/photos/{world.sha256}"))
    shot(browser, "photo")
