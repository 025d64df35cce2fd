"""The overview (map, counts, chart, queue, changes) and the region and agency pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.publication.services import publish
from fieldcheck.units.dirty import mark_unit_dirty
from fieldcheck.units.models import Unit
from fieldcheck.zoning.lifecycle import execute
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.results import level_rows
from fieldcheck.zoning.services import create_run, current_period
from tests.helpers import auth
from tests.web.conftest import assert_accessible, login, pages_as, shot
from tests.web.pages import text_of

#: Units (hijau in the published run, one per demo province) whose inspections the tests lower,
#: so the newer run moves them to merah.
MOVED = ("35.15-PKM-SIDOARJO", "13.71-DUKCAPIL")
MAP_LINK = re.compile(
    r'<a href="([^"]*)" aria-label="([^"]*)" data-code="([0-9.]+)" data-zone="(\w+)"'
)
ZONE_CELL = re.compile(r'<tr data-level="(\w+)">.*?</tr>', re.S)
CELL = re.compile(r'<td class="num" data-zone="(\w+)">([0-9.]+)</td>')


def _run(full: bool) -> int:
    run = create_run(period=current_period(), full=full)
    db.session.commit()
    run_id = run.id
    assert execute(run_id).state == "succeeded"
    return run_id


@pytest.fixture
def zoned(demo: Flask) -> dict:
    """The demo world with a published national run, then a newer unpublished run in which
    MOVED fell to merah (its approved inspections' stored scores lowered)."""
    with demo.app_context():
        first = _run(full=True)
        publish(db.session.get(ZoningRun, first), None)
        db.session.commit()
        published = db.session.get(ZoningRun, first)
        before = {r.code: r.zone for r in db.session.execute(level_rows(published, "unit"))}
        assert {before[code] for code in MOVED} == {"hijau"}
        for unit in db.session.execute(select(Unit).where(Unit.code.in_(MOVED))).scalars():
            db.session.execute(
                update(Inspection)
                .where(Inspection.unit_id == unit.id, Inspection.status == "approved")
                .values(score=12)
            )
            mark_unit_dirty(unit.id, "review")
        db.session.commit()
        second = _run(full=False)
    return {"first": first, "second": second, "app": demo}


def _tokens(tmp_path: Path) -> dict[str, str]:
    """The demo's API tokens by region (``national`` for the admin)."""
    found = {}
    for line in (tmp_path / "demo-tokens.txt").read_text(encoding="utf-8").splitlines():
        role, region, _name, token = line.split("\t")
        if role != "surveyor":
            found[region] = token
    return found


def _zone_table(html: str) -> dict[str, dict[str, int]]:
    """The page's zone counts table as {level: {zone: count}}."""
    table = html[html.index('class="zonecounts"') :]
    table = table[: table.index("</table>")]
    return {
        row.group(1): {z: int(n.replace(".", "")) for z, n in CELL.findall(row.group(0))}
        for row in ZONE_CELL.finditer(table)
    }


def _without_paths(html: str) -> str:
    """The page without its outlines' path data (numbers there could look like region codes)."""
    return re.sub(r' d="[^"]*"', "", html)


def _map(html: str) -> list[tuple[str, str, str, str]]:
    """The map's links: (href, label, code, zone)."""
    svg = html[html.index('<svg class="map"') :]
    return MAP_LINK.findall(svg[: svg.index("</svg>")])


def test_national_overview_map_counts_chart_and_changes(zoned, tmp_path):
    app = zoned["app"]
    admin = pages_as(app, "admin")
    html = text_of(admin.get("/"))
    token = _tokens(tmp_path)["national"]
    client = app.test_client()
    # The map: 38 provinces, each a link drilling down, coloured as the API's map says.
    shapes = _map(html)
    assert len(shapes) == 38 and html.count("<path ") == 38
    api_map = client.get("/api/v1/map/provinces", headers=auth(token)).get_json()
    api_zones = {f["properties"]["code"]: f["properties"]["zone"] for f in api_map["features"]}
    assert api_map["run"]["run_id"] == zoned["first"]
    assert {code: zone for _h, _l, code, zone in shapes} == {
        code: zone or "none" for code, zone in api_zones.items()
    }
    assert {"merah", "kuning", "hijau", "none"} >= {zone for *_, zone in shapes}
    assert "none" in {zone for *_, zone in shapes}  # most provinces have no demo unit
    east_java = next(s for s in shapes if s[2] == "35")
    assert east_java[0].endswith("&amp;region=35") and east_java[1].startswith("Jawa Timur: ")
    assert f"Hasil zonasi #{zoned['first']}" in html
    # Zone counts at every level: the API's dashboard figures for the same run.
    dashboard = client.get("/api/v1/dashboard", headers=auth(token)).get_json()
    assert _zone_table(html) == dashboard["results"]["zones"]
    # The chart: one bar per regency with a result, lowest first.
    chart = html[html.index('<svg class="chart"') :]
    chart = chart[: chart.index("</svg>")]
    regencies = client.get(
        "/api/v1/results?level=regency&per_page=100", headers=auth(token)
    ).get_json()["items"]
    assert chart.count("<rect ") == len(regencies) > 3
    lowest = min(regencies, key=lambda r: (r["score"], r["code"]))
    assert chart.index(lowest["name"]) < min(
        chart.index(r["name"]) for r in regencies if r["code"] != lowest["code"]
    )
    # What changed since the publication: the newer run's zone moves, both provinces'.
    changes = html[html.index('id="changes"') :]
    assert f"Hasil #{zoned['second']} dibandingkan dengan hasil terbit #{zoned['first']}" in changes
    for code in MOVED:
        assert f'data-code="{code}"' in changes
    api_changes = client.get(
        f"/api/v1/zoning-runs/{zoned['second']}/changes?zone_moves_only=true",
        headers=auth(token),
    ).get_json()
    assert {c["code"] for c in api_changes["items"] if c["level"] == "unit"} == set(MOVED)
    # The review queue's figures, and the page in English.
    assert "menunggu pemeriksaan" in html
    admin.post("/language", {"lang": "en", "next": "/"})
    english = text_of(admin.get("/"))
    assert "Overview: Indonesia" in english and "What changed since the last publication" in english
    assert "Zones on the map" in english and ">red<" in english


def test_drill_down_shows_the_provinces_regencies(zoned):
    admin = pages_as(zoned["app"], "admin")
    html = text_of(admin.get("/?region=35&level=unit"))
    shapes = _map(html)
    with zoned["app"].app_context():
        from fieldcheck.regions.models import Region

        regencies = set(
            db.session.execute(select(Region.code).where(Region.parent_code == "35")).scalars()
        )
    assert {code for _h, _l, code, _z in shapes} == regencies
    coloured = {code: zone for _h, _l, code, zone in shapes if zone != "none"}
    assert set(coloured) == {"35.15", "35.25", "35.78"}
    assert all(href == f"/regions/{code}" for href, _l, code, _z in shapes)
    assert "Ikhtisar: Jawa Timur" in html
    # Ranked at unit level within the province: Jawa Timur's units only.
    table = html[html.index('id="ranking"') :]
    assert "/units/35.15-DUKCAPIL" in table and "/units/13.71" not in table
    # A regency's overview draws its province's regencies, the regency marked.
    html = text_of(admin.get("/?region=35.15"))
    assert 'class="zone-fill-' in html and "current" in html


def test_supervisor_of_sumbar_sees_nothing_of_jawa_timur(zoned, tmp_path):
    app = zoned["app"]
    sumbar = pages_as(app, "supervisor-sumbar")
    response = sumbar.get("/")
    html = text_of(response)
    assert response.status_code == 200
    shapes = _map(html)
    assert shapes and all(code.startswith("13.") for _h, _l, code, _z in shapes)
    for word in ("Jawa Timur", "Sidoarjo", "35.15", "PEMKAB-35", 'value="35"'):
        assert word not in _without_paths(html), word
    changes = html[html.index('id="changes"') :]
    assert 'data-code="13.71-DUKCAPIL"' in changes and "35.15-PKM-SIDOARJO" not in changes
    token = _tokens(tmp_path)["13"]
    dashboard = app.test_client().get("/api/v1/dashboard", headers=auth(token)).get_json()
    assert _zone_table(html) == dashboard["results"]["zones"]
    for url in (
        "/?region=35",
        "/?region=35.15",
        "/regions/35",
        "/regions/35.15",
        "/agencies/PEMKAB-35.15",
        "/agencies/POLRESTA-35.15",
    ):
        refused = sumbar.get(url)
        assert refused.status_code == 404, url
        assert "Jawa Timur" not in text_of(refused) and "Sidoarjo" not in text_of(refused)
    own = _without_paths(text_of(sumbar.get("/regions/13")))
    assert "Kota Padang" in own and "/units/13.71-KANIM" in own
    for word in ("Jawa Timur", "Sidoarjo", "35.15"):
        assert word not in own, word
    agency = text_of(sumbar.get("/agencies/PEMKOT-13.71"))
    assert "/units/13.71-DUKCAPIL" in agency and "35.15" not in agency


def test_region_and_agency_pages(zoned, tmp_path):
    app = zoned["app"]
    jatim = pages_as(app, "supervisor-jatim")
    token = _tokens(tmp_path)["35"]
    client = app.test_client()
    provinces = client.get("/api/v1/results?level=province", headers=auth(token)).get_json()
    east_java = next(r for r in provinces["items"] if r["code"] == "35")
    html = text_of(jatim.get("/regions/35"))
    headline = html[html.index('id="headline"') : html.index("</div>", html.index('id="headline"'))]
    assert f"{east_java['score']:.2f}".replace(".", ",") in headline
    assert f"zone-{east_java['zone']}" in headline
    regencies = html[html.index('id="regencies"') :]
    regencies = regencies[: regencies.index("</table>")]
    assert set(re.findall(r'href="/regions/([0-9.]+)"', regencies)) == {"35.15", "35.25", "35.78"}
    units = html[html.index('id="units"') :]
    assert "/units/35.15-DUKCAPIL" in units and "/units/35.25-KUA-GRESIK" in units
    assert '<svg class="chart"' in html and '<svg class="map"' in html
    sidoarjo = text_of(jatim.get("/regions/35.15"))
    found = set(re.findall(r'href="/units/([^"]+)"', sidoarjo))
    assert found and all(code.startswith("35.15-") for code in found)
    agency = text_of(jatim.get("/agencies/PEMKAB-35.15"))
    assert 'href="/agencies/PEMKAB-35.15/report.pdf"' in agency
    api_units = client.get("/api/v1/results?level=unit&per_page=100", headers=auth(token))
    expected = {
        r["code"] for r in api_units.get_json()["items"] if r["agency_code"] == "PEMKAB-35.15"
    }
    assert set(re.findall(r'href="/units/([^"]+)"', agency)) == expected
    boxes = dict(re.findall(r'data-zone="(\w+)"><strong>(\d+)</strong>', agency))
    assert boxes == {
        zone: str(
            sum(
                1
                for r in api_units.get_json()["items"]
                if r["agency_code"] == "PEMKAB-35.15" and r["zone"] == zone
            )
        )
        for zone in ("merah", "kuning", "hijau")
    }
    assert jatim.get("/regions/99").status_code == 404
    assert jatim.get("/agencies/NOPE").status_code == 404
    assert jatim.get("/regions/35?page=abc").status_code == 200


def test_guards_bad_input_and_the_empty_state(demo, pages):
    anonymous = pages.get("/")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    assert pages.get("/regions/35").status_code == 302
    surveyor = pages_as(demo, "surveyor-jatim")
    for url in ("/", "/regions/35", "/agencies/PEMKAB-35.15"):
        refused = surveyor.get(url)
        assert refused.status_code == 403 and "<html" in text_of(refused), url
    jatim = pages_as(demo, "supervisor-jatim")
    # The demo publishes a run for this year; a year nobody zoned is the empty state.
    assert 'id="no-run"' not in text_of(jatim.get("/"))
    empty = jatim.get("/?period=2001")
    assert empty.status_code == 200
    assert "Belum ada hasil zonasi" in text_of(empty) and 'id="no-run"' in text_of(empty)
    for url, field in (
        ("/?period=abc", "period"),
        ("/?period=1999", "period"),
        ("/?region=xx", "region"),
        ("/?level=galaxy", "level"),
        ("/?run=12x", "run"),
        ("/?methodology=nope", "methodology"),
        ("/regions/35?period=zz", "period"),
        ("/agencies/PEMKAB-35.15?run=-1", "run"),
    ):
        bad = jatim.get(url)
        assert bad.status_code == 422, url
        assert "Beberapa saringan tidak valid." in text_of(bad) and field in text_of(bad)
    assert jatim.get("/?run=999").status_code == 404
    assert jatim.get("/?region=99").status_code == 404


def test_pages_in_the_browser(zoned, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    login(browser, "admin")
    browser.get(browser.base + "/")
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.map a")) == 38
    shot(browser, "overview-national")
    assert_accessible(browser)
    # A province is a link a keyboard reaches: focus it, press Enter, land on its regencies.
    province = browser.find_element(By.CSS_SELECTOR, 'svg.map a[data-code="35"]')
    browser.execute_script("arguments[0].focus()", province)
    province.send_keys(Keys.ENTER)
    assert "region=35" in browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text == "Ikhtisar: Jawa Timur"
    shot(browser, "overview-province")
    assert_accessible(browser)
    browser.get(browser.base + "/regions/35")
    assert browser.find_elements(By.CSS_SELECTOR, "#regencies a[href='/regions/35.15']")
    shot(browser, "region")
    assert_accessible(browser)
    browser.get(browser.base + "/agencies/PEMKAB-35.15")
    assert browser.find_elements(By.CSS_SELECTOR, "#units a[href='/units/35.15-DUKCAPIL']")
    shot(browser, "agency")
    assert_accessible(browser)
    # On a phone the pages scroll vertically only (tables scroll inside their boxes).
    browser.set_window_size(390, 844)
    for url in ("/", "/regions/35"):
        browser.get(browser.base + url)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, url
    shot(browser, "region-phone")


def test_bar_chart_scales_escapes_and_leaves_gaps(app):
    from decimal import Decimal

    from fieldcheck.web.charts import GAP, Bar, bar_chart

    with app.test_request_context():
        svg = str(
            bar_chart(
                [Bar("<Kab. A>", Decimal("25.5"), "merah"), GAP, Bar("B" * 60, 120, None)],
                label='Skor "uji"',
            )
        )
    assert 'aria-label="Skor &#34;uji&#34;"' in svg and "<Kab. A>" not in svg
    widths = re.findall(r'<rect x="230" y="\d+" width="([0-9.]+)"', svg)
    assert widths == ["91.8", "360.0"]  # 25.5 % of 360, and a value over the maximum capped
    assert "25.50" in svg and 'class="zone-fill-none"' in svg and ">…</text>" in svg
    assert "B" * 60 + ": 120.00</title>" in svg and "B" * 33 + "…</text>" in svg
