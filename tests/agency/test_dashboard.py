"""The dashboard of a run scored by dimensions speaks of agencies: zones per level, how many
agencies are zoned and how many are incomplete with the commonest reasons, linking to the run's
"Belum lengkap" list; the 2019-style dashboard is unchanged. The overview map of the 2025
draft's what-if shows its four zones, hitam included, in Chromium (issue 16)."""

from __future__ import annotations

from tests.agency.conftest import M2022
from tests.agency.test_agency_run import SHORT, complete_agency
from tests.agency.test_four_zones import AGENCIES, ORDER, what_if  # noqa: F401
from tests.agency.test_pages import PASSWORD, reader, world  # noqa: F401
from tests.web.conftest import assert_accessible, login, shot


def test_dashboard_counts_agencies_and_why_some_are_incomplete(field, world):  # noqa: F811
    body = field.get(f"/api/v1/dashboard?run={world}", language="id").get_json()
    results = body["results"]
    assert results["zones"]["agency"]["kuning"] == 1
    assert results["subjects"] == {
        "level": "agency",
        "complete": 1,
        "incomplete": 1,
        "reasons": [{"reason": "wawancara pengguna layanan kurang", "subjects": 1}],
    }


def test_dashboard_reasons_are_counted_per_agency_and_scoped(field):
    complete_agency(field)
    complete_agency(field, SHORT, "73.71-DUKCAPIL", users=29)
    complete_agency(field, "PEMKOT-13.71", "13.71-DUKCAPIL", users=10)
    run_id = field.run(M2022)
    results = field.get(f"/api/v1/dashboard?run={run_id}").get_json()["results"]
    assert results["subjects"]["incomplete"] == 2
    assert results["subjects"]["reasons"][0]["subjects"] == 2
    # Inside Sulawesi Selatan only Makassar's agency is read.
    south = field.get(f"/api/v1/dashboard?run={run_id}&region=73").get_json()["results"]
    assert (south["subjects"]["complete"], south["subjects"]["incomplete"]) == (0, 1)


def test_a_2019_dashboard_has_no_subjects(field):
    from sqlalchemy import update

    from fieldcheck.extensions import db
    from fieldcheck.inspections.models import Inspection
    from tests.helpers import post_json

    body = field.factory.all_yes_submission("35.78-DUKCAPIL")
    response = post_json(field.client, "/api/v1/inspections", body, field.admin)
    assert response.status_code == 201, response.get_json()
    with field.app.app_context():
        db.session.execute(update(Inspection).values(status="approved"))
        db.session.commit()
    run_id = field.run("ombudsman-2019")
    results = field.get(f"/api/v1/dashboard?run={run_id}").get_json()["results"]
    assert "subjects" not in results
    assert sum(results["zones"]["unit"].values()) == 1


def test_overview_page_says_how_many_agencies_are_incomplete(reader, world):  # noqa: F811
    html = reader.get(f"/?run={world}").get_data(as_text=True)
    assert "1 instansi dizonakan dari dimensinya." in html
    assert "1 instansi belum lengkap" in html
    assert "wawancara pengguna layanan kurang (1)" in html
    assert f'href="/runs/{world}#incomplete"' in html
    # Agencies are zoned, units are not: no unit row in the zone counts.
    assert 'data-level="agency"' in html and '<tr data-level="unit"' not in html


def test_overview_in_chromium(browser, world):  # noqa: F811
    from selenium.webdriver.common.by import By

    login(browser, "admin-dimensi", PASSWORD)
    browser.get(browser.base + f"/?run={world}")
    text = browser.find_element(By.ID, "subjects-incomplete").text
    assert "1 instansi belum lengkap" in text and "wawancara pengguna layanan kurang" in text
    browser.find_element(By.CSS_SELECTOR, "#subjects-incomplete a").click()
    assert browser.current_url.endswith(f"/runs/{world}#incomplete")
    assert browser.find_element(By.CSS_SELECTOR, f'#incomplete li[data-code="{SHORT}"]')
    browser.get(browser.base + f"/?run={world}")
    assert_accessible(browser)
    shot(browser, "overview-dimensions")


def test_map_of_the_four_zone_what_if_in_chromium(browser, field, what_if):  # noqa: F811
    from selenium.webdriver.common.by import By

    from fieldcheck.auth.models import User
    from fieldcheck.auth.passwords import set_password, set_username
    from fieldcheck.extensions import db

    with field.app.app_context():
        user = db.session.get(User, field.admin_id)
        set_username(user, "admin-empat-zona", actor=None)
        set_password(user, PASSWORD, actor=None, must_change=False)
        db.session.commit()
    login(browser, "admin-empat-zona", PASSWORD)
    browser.get(browser.base + f"/?run={what_if}&level=agency")
    legend = browser.find_elements(By.CSS_SELECTOR, ".legend span[data-zone]")
    assert [s.get_attribute("data-zone") for s in legend] == ORDER
    # Four different colours, the black zone's among them.
    fills = {
        s.get_attribute("data-zone"): s.find_element(By.CSS_SELECTOR, "rect").value_of_css_property(
            "fill"
        )
        for s in legend
    }
    assert len(set(fills.values())) == 4
    drawn = {
        a.get_attribute("data-code"): a.get_attribute("data-zone")
        for a in browser.find_elements(By.CSS_SELECTOR, "a[data-code][data-zone]")
    }
    assert (drawn["21"], drawn["73"], drawn["13"], drawn["35"]) == tuple(ORDER)
    shot(browser, "map-four-zones")


def test_inspection_page_of_a_2022_visit_says_it_is_not_zoned(reader, field, world):  # noqa: F811
    from sqlalchemy import select

    from fieldcheck.extensions import db
    from fieldcheck.inspections.models import Inspection

    with field.app.app_context():
        visit = db.session.execute(
            select(Inspection).where(Inspection.methodology_id == M2022).limit(1)
        ).scalar_one()
        assert visit.score is not None and visit.zone is None
        visit_id = visit.id
    html = reader.get(f"/inspections/{visit_id}").get_data(as_text=True)
    assert "Tidak dizonakan per kunjungan: zona ditentukan per instansi dari empat dimensi." in html
