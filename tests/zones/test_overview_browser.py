"""The overview page in headless Chromium with a four-zone run: the map legend and the zone
counts show hitam with the catalogue's colour (issue 16)."""

from __future__ import annotations

import pytest

from fieldcheck.extensions import db
from tests.web.conftest import login, shot
from tests.zones.conftest import FOUR

PASSWORD = "zona-hitam-2025"


@pytest.fixture
def admin_login(app, four_zones) -> str:
    """The world's admin with a web login; returns the username."""
    from fieldcheck.auth.models import User
    from fieldcheck.auth.passwords import set_password, set_username

    with app.app_context():
        user = db.session.execute(db.select(User).where(User.role == "admin")).scalar_one()
        set_username(user, "admin-zona", actor=None)
        set_password(user, PASSWORD, actor=None, must_change=False)
        db.session.commit()
    return "admin-zona"


def test_the_overview_shows_a_hitam_legend_entry_with_its_colour(browser, admin_login, four_zones):
    from selenium.webdriver.common.by import By

    login(browser, admin_login, PASSWORD)
    browser.get(browser.base + f"/?methodology={FOUR}")
    legend = browser.find_elements(By.CSS_SELECTOR, "figure.zonemap figcaption [data-zone]")
    assert [e.get_attribute("data-zone") for e in legend] == ["hitam", "merah", "kuning", "hijau"]
    assert legend[0].text.strip() == "hitam"
    swatch = legend[0].find_element(By.CSS_SELECTOR, "rect")
    fill = browser.execute_script("return getComputedStyle(arguments[0]).fill", swatch)
    assert fill == "rgb(31, 31, 31)"  # #1f1f1f, zones.toml
    # Sulawesi Selatan is drawn black, and the zone counts have a hitam column.
    province = browser.find_element(By.CSS_SELECTOR, 'svg.map a[data-code="73"] path')
    assert browser.execute_script("return getComputedStyle(arguments[0]).fill", province) == fill
    header = browser.find_element(By.CSS_SELECTOR, "table.zonecounts thead .zone-hitam")
    background = browser.execute_script(
        "return getComputedStyle(arguments[0]).backgroundColor", header
    )
    assert background == "rgb(31, 31, 31)"
    unit_hitam = browser.find_element(
        By.CSS_SELECTOR, 'table.zonecounts tr[data-level="unit"] td[data-zone="hitam"]'
    )
    assert unit_hitam.text == "1"
    shot(browser, "overview-four-zones")
