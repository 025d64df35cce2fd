"""Zoning runs pages: the list and start form, a run's progress and changes, publishing; and the
demo world they start from (a published run, visits waiting for review)."""

from __future__ import annotations

from sqlalchemy import func, select

from fieldcheck.audit.models import AuditEntry
from fieldcheck.auth.models import User
from fieldcheck.extensions import db
from fieldcheck.zoning.lifecycle import run_queued
from fieldcheck.zoning.models import ZoningChange, ZoningResult, ZoningRun
from fieldcheck.zoning.services import create_run
from tests.web.conftest import assert_accessible, login, pages_as, shot, waiting
from tests.web.pages import Pages, text_of


def _user(username: str) -> User:
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def _queue(app, region: str | None = None, **options) -> int:
    """A run queued through the service as the API would queue it; its id."""
    with app.app_context():
        run = create_run(region=region, trigger="api", user=_user("admin"), **options)
        db.session.commit()
        return run.id


def _execute_queue(app) -> list[str]:
    """What the scheduler's queue poll does every few seconds."""
    with app.app_context():
        return [o.state for o in run_queued()]


def _run(app, run_id: int) -> ZoningRun:
    with app.app_context():
        run = db.session.get(ZoningRun, run_id)
        db.session.expunge(run)
        return run


def _runs_count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(ZoningRun)).scalar_one()


def _approve_received(app, unit_code: str) -> None:
    """Approve the demo visit waiting at ``unit_code`` (as a supervisor does in the queue)."""
    from fieldcheck.inspections.models import Inspection
    from fieldcheck.review.decisions import review
    from fieldcheck.units.models import Unit

    with app.app_context():
        inspection = (
            db.session.execute(
                select(Inspection)
                .join(Unit, Unit.id == Inspection.unit_id)
                .where(Unit.code == unit_code, Inspection.status == "received")
            )
            .unique()
            .scalar_one()
        )
        review(inspection, "approve", None, _user("admin"))
        db.session.commit()


def test_demo_world_has_a_published_run_and_visits_waiting(demo, tmp_path):
    from fieldcheck.demo.received import received_demo_inspections
    from fieldcheck.demo.seed import seed_demo
    from fieldcheck.evidence.models import InspectionPhoto, Photo

    with demo.app_context():
        runs = db.session.execute(select(ZoningRun)).scalars().all()
        assert [(r.state, r.is_official, r.scope, r.is_dry_run) for r in runs] == [
            ("succeeded", True, "", False)
        ]
        published = runs[0]
        assert published.published_by == _user("admin").id
        assert (
            db.session.execute(select(AuditEntry).where(AuditEntry.action == "zoning_run.publish"))
            .scalar_one()
            .actor_name.startswith("Admin")
        )
        # A red unit whose approved visits failed items that cite the law.
        red = (
            db.session.execute(
                select(ZoningResult).where(
                    ZoningResult.run_id == published.id,
                    ZoningResult.level == "unit",
                    ZoningResult.zone == "merah",
                )
            )
            .scalars()
            .all()
        )
        assert red
        from fieldcheck.inspections.models import FindingRow

        cited = (
            db.session.execute(
                select(FindingRow.citation).where(
                    FindingRow.inspection_id.in_([i for r in red for i in r.inspection_ids or []])
                )
            )
            .scalars()
            .all()
        )
        assert cited and all("Pasal" in c or "UU" in c for c in cited)

        waiting = received_demo_inspections()
        assert {(i.unit.code, i.status) for i in waiting} == {
            ("35.15-DUKCAPIL", "received"),
            ("35.25-KUA-GRESIK", "received"),
            ("13.71-SATPAS", "received"),
        }
        by_unit = {i.unit.code: i for i in waiting}
        assert "gps_far" in {f["code"] for f in by_unit["13.71-SATPAS"].flags}
        assert by_unit["35.25-KUA-GRESIK"].findings
        photo = db.session.execute(
            select(Photo)
            .join(InspectionPhoto, InspectionPhoto.sha256 == Photo.sha256)
            .where(
                InspectionPhoto.inspection_id == by_unit["35.15-DUKCAPIL"].id,
                InspectionPhoto.received_at.is_not(None),
            )
        ).scalar_one()
        assert photo.exif_taken_at is not None
        assert abs(photo.exif_lat - by_unit["35.15-DUKCAPIL"].unit.lat) < 0.001
        # No photo flag: taken at the unit during the visit.
        assert not {f["code"] for f in by_unit["35.15-DUKCAPIL"].flags} & {
            "photo_far",
            "photo_time_mismatch",
            "photo_reused",
        }
        counts = [
            db.session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (ZoningRun, Photo, InspectionPhoto)
        ]
        # Seeding again adds nothing: no second run, photo or visit.
        seed_demo(tokens_file=tmp_path / "again.txt")
        db.session.commit()
        assert [
            db.session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (ZoningRun, Photo, InspectionPhoto)
        ] == counts
        assert len(received_demo_inspections()) == 3


def test_runs_list_is_guarded_and_scoped(demo, pages: Pages):
    east = _queue(demo, "35")
    west = _queue(demo, "13")
    # Anonymous: to the login page; a surveyor: the 403 page.
    response = pages.get("/runs")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert pages_as(demo, "surveyor-jatim").get("/runs").status_code == 403

    admin = text_of(pages_as(demo, "admin").get("/runs"))
    for run_id in (1, east, west):
        assert f'href="/runs/{run_id}"' in admin
    assert "resmi" in admin and "antre (queued)" in admin
    assert "Jawa Timur" in admin and "Sumatera Barat" in admin

    sumbar = pages_as(demo, "supervisor-sumbar")
    page = sumbar.get("/runs")
    assert page.status_code == 200
    listed = text_of(page)
    assert 'href="/runs/1"' in listed and f'href="/runs/{west}"' in listed
    assert f'href="/runs/{east}"' not in listed and "Jawa Timur" not in listed
    # A run of region 35 does not exist for them, in any of its pages.
    for url in (f"/runs/{east}", f"/runs/{east}/progress"):
        refused = sumbar.get(url)
        assert refused.status_code == 404
        assert "Proses penzonaan tidak ditemukan." in text_of(refused)
    assert sumbar.post(f"/runs/{east}/publish").status_code == 404
    # The national run: no national tallies and no changes of 35 for a supervisor of 13.
    national = text_of(sumbar.get("/runs/1"))
    assert "Unit per zona" not in national and "35." not in national.split("<main")[1]


def test_start_a_run_watch_it_and_publish_it(demo):
    _approve_received(demo, "35.25-KUA-GRESIK")  # a new approved visit: the scores change
    admin = pages_as(demo, "admin")
    admin.get("/runs")
    response = admin.post("/runs", {"methodology": "ombudsman-2019", "period": "", "region": ""})
    assert response.status_code == 303
    run_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert run_id == 2 and _run(demo, run_id).trigger == "web"

    queued = admin.get(f"/runs/{run_id}")
    html = text_of(queued)
    assert "antre (queued)" in html and "sudah masuk antrean" in html
    assert 'hx-trigger="every 2s"' in html and f'hx-get="/runs/{run_id}/progress"' in html
    assert "Terbitkan proses ini" not in html  # not succeeded yet

    assert _execute_queue(demo) == ["succeeded"]
    fragment = admin.get(f"/runs/{run_id}/progress", headers={"HX-Request": "true"})
    assert fragment.headers.get("HX-Refresh") == "true"
    assert "every 2s" not in text_of(fragment)

    done = text_of(admin.get(f"/runs/{run_id}?moves=0"))
    assert "berhasil (succeeded)" in done and "Dibandingkan dengan proses #1." in done
    assert 'href="/units/35.25-KUA-GRESIK"' in done and "KUA Kecamatan Gresik" in done
    assert "26,33" in done and "19,75" in done and "-6,58" in done
    assert 'data-confirm="Terbitkan proses #2 sebagai hasil resmi?"' in done

    published = admin.post(f"/runs/{run_id}/publish")
    assert published.status_code == 303
    page = text_of(admin.get(f"/runs/{run_id}"))
    assert "sekarang menjadi hasil resmi" in page and "Terbitkan proses ini" not in page
    with demo.app_context():
        assert db.session.get(ZoningRun, run_id).is_official
        assert not db.session.get(ZoningRun, 1).is_official
        entry = db.session.execute(
            select(AuditEntry).where(
                AuditEntry.action == "zoning_run.publish", AuditEntry.object_id == str(run_id)
            )
        ).scalar_one()
        assert entry.actor_name == "Admin Ombudsman RI (demo)"
    # Publishing it again is a no-op, said so.
    again = admin.post(f"/runs/{run_id}/publish")
    assert again.status_code == 303
    assert "sudah menjadi hasil resmi" in text_of(admin.get(f"/runs/{run_id}"))

    # A regional supervisor runs and publishes their own province, not the nation.
    jatim = pages_as(demo, "supervisor-jatim")
    jatim.get("/runs")
    own = jatim.post("/runs", {"methodology": "ombudsman-2019", "period": "", "region": ""})
    own_id = int(own.headers["Location"].rsplit("/", 1)[1])
    assert _run(demo, own_id).scope == "35"
    assert _execute_queue(demo) == ["succeeded"]
    jatim.get(f"/runs/{own_id}")
    assert jatim.post(f"/runs/{own_id}/publish").status_code == 303
    assert _run(demo, own_id).is_official
    jatim.get(f"/runs/{run_id}")
    wider = jatim.post("/runs/1/publish")
    assert wider.status_code == 403
    assert "Proses ini mencakup lebih dari wilayah Anda." in text_of(wider)
    assert not _run(demo, 1).is_official


def test_publish_refusals_and_csrf(demo):
    admin = pages_as(demo, "admin")
    queued = _queue(demo)
    admin.get(f"/runs/{queued}")
    refused = admin.post(f"/runs/{queued}/publish")
    assert refused.status_code == 409
    html = text_of(refused)
    assert "Hanya proses yang berhasil yang dapat diterbitkan" in html and "Traceback" not in html
    assert not _run(demo, queued).is_official

    # Without the form's token: refused, nothing published.
    _execute_queue(demo)
    no_token = admin.post(f"/runs/{queued}/publish", csrf=False)
    assert no_token.status_code == 400 and "Muat ulang halaman" in text_of(no_token)
    assert not _run(demo, queued).is_official and _run(demo, 1).is_official
    before = _runs_count(demo)
    assert admin.post("/runs", {"region": ""}, csrf=False).status_code == 400
    assert _runs_count(demo) == before


def test_bad_start_form_input_is_a_422_page(demo):
    admin = pages_as(demo, "admin")
    admin.get("/runs")
    before = _runs_count(demo)
    year = admin.post("/runs", {"methodology": "ombudsman-2019", "period": "20x6"})
    assert year.status_code == 422
    assert "Masukkan tahun" in text_of(year) and 'value="20x6"' in text_of(year)
    region = admin.post("/runs", {"methodology": "ombudsman-2019", "region": "99.99"})
    assert region.status_code == 422 and "Kode wilayah tidak dikenal." in text_of(region)
    method = admin.post("/runs", {"methodology": "nope"})
    assert method.status_code == 422 and "Metodologi tidak dikenal." in text_of(method)
    weights = admin.post("/runs", {"what_if": "1", "weight-MP-01": "banyak", "weight-XX-99": "2"})
    assert weights.status_code == 422
    html = text_of(weights)
    assert "Harus berupa angka 0 atau lebih." in html and 'value="banyak"' in html
    assert "Indikator tidak dikenal" in html
    not_what_if = admin.post("/runs", {"weight-MP-01": "2"})
    assert not_what_if.status_code == 422
    assert "Bobot rancangan hanya diizinkan pada simulasi (what-if)." in text_of(not_what_if)
    sumbar = pages_as(demo, "supervisor-sumbar")
    sumbar.get("/runs")
    outside = sumbar.post("/runs", {"region": "35"})
    assert outside.status_code == 403
    assert "Wilayah ini berada di luar cakupan Anda." in text_of(outside)
    assert _runs_count(demo) == before
    # English pages say the same in English.
    admin.post("/language", {"lang": "en", "next": "/runs"})
    english = admin.post("/runs", {"methodology": "ombudsman-2019", "period": "20x6"})
    assert english.status_code == 422 and "Enter a year, such as" in text_of(english)


def test_a_what_if_shows_the_zone_moves_it_would_cause(demo):
    admin = pages_as(demo, "admin")
    admin.get("/runs")
    # Only the complaint handling counts: every unit's score is that item alone.
    weights = {f"weight-{code}": "0" for code in ("SP-01", "MP-01", "SI-01", "SR-01")}
    response = admin.post("/runs", {"what_if": "1", "weight-PG-01": "2,5", **weights, "region": ""})
    assert response.status_code == 303, text_of(response)[:2000]
    run_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert _run(demo, run_id).weights["PG-01"] == 2.5
    assert _execute_queue(demo) == ["succeeded"]
    page = text_of(admin.get(f"/runs/{run_id}"))
    assert "Perpindahan zona yang akan terjadi" in page and "simulasi (what-if)" in page
    with demo.app_context():
        moves = (
            db.session.execute(
                select(ZoningChange).where(
                    ZoningChange.run_id == run_id, ZoningChange.is_zone_move.is_(True)
                )
            )
            .scalars()
            .all()
        )
    assert moves, "the draft weights move no zone: pick other weights"
    for move in moves[:3]:
        assert move.name in page
    assert "Terbitkan proses ini" not in page
    refused = admin.post(f"/runs/{run_id}/publish")
    assert refused.status_code == 409
    assert "Simulasi (what-if) tidak pernah dapat diterbitkan." in text_of(refused)


def test_runs_pages_in_a_browser(demo, browser):
    from selenium.webdriver.common.by import By

    _approve_received(demo, "35.25-KUA-GRESIK")
    _queue(demo, dry_run=True, weights={"PG-01": 5, "SP-01": 0, "MP-01": 0})
    _execute_queue(demo)
    _queue(demo, "35")  # left queued: the list shows one waiting
    login(browser, "admin")
    waiting(browser, 10).until(lambda d: "/login" not in d.current_url)
    browser.get(browser.base + "/runs")
    assert browser.find_element(By.CSS_SELECTOR, "h1").text == "Proses zonasi"
    shot(browser, "runs-runs")
    assert_accessible(browser)
    browser.get(browser.base + "/runs/2")
    assert browser.find_elements(By.CSS_SELECTOR, "table.changes tbody tr")
    shot(browser, "runs-run")
    assert_accessible(browser)
    # A queued run polls its progress, and the page reloads itself once the run is done.
    browser.get(browser.base + "/runs/3")
    assert "antre" in browser.find_element(By.ID, "run-progress").text
    shot(browser, "runs-run-queued")
    _execute_queue(demo)
    waiting(browser, 10).until(lambda d: "berhasil" in d.find_element(By.ID, "run-progress").text)
    assert browser.find_element(By.CSS_SELECTOR, "form[data-confirm] button.primary")
    browser.set_window_size(390, 844)  # a phone
    browser.get(browser.base + "/runs/2")
    shot(browser, "runs-run-phone")
    assert_accessible(browser)
