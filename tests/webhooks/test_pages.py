"""The admin pages for webhooks, in Indonesian: register (the secret once), send a test event,
deliveries with their attempt log, redelivery; admins only, their region only; in Chromium."""

from __future__ import annotations

from sqlalchemy import select

from fieldcheck.extensions import db
from tests.web.conftest import assert_accessible, login, pages_as, shot, waiting
from tests.web.pages import Pages, text_of
from tests.webhooks.conftest import Receiver, work


def _register(admin: Pages, url: str, region: str = "") -> int:
    from fieldcheck.webhooks.models import WebhookEndpoint

    admin.get("/admin/webhooks/new")
    response = admin.post(
        "/admin/webhooks/new",
        {
            "url": url,
            "description": "Sistem kasus Ombudsman",
            "region_code": region,
            "event_types": ["inspection.received", "inspection.reviewed"],
        },
    )
    assert response.status_code == 201, text_of(response)[:800]
    page = text_of(response)
    assert "whsec_" in page and "hanya ditampilkan sekarang" in page
    with admin.client.application.app_context():
        return db.session.execute(
            select(WebhookEndpoint.id).order_by(WebhookEndpoint.id.desc())
        ).scalar()


def test_register_ping_and_redeliver_from_the_pages(demo, hooks_app, receiver):
    work(hooks_app)  # the demo's own events are fanned out before any endpoint exists
    admin = pages_as(demo, "admin")
    listing = text_of(admin.get("/admin/webhooks"))
    assert 'href="/admin/webhooks"' in listing and "Belum ada" in listing
    endpoint_id = _register(admin, receiver.url)
    page = text_of(admin.get(f"/admin/webhooks/{endpoint_id}"))
    assert receiver.url in page and "Kirim peristiwa uji" in page
    assert "whsec_" not in page  # the secret was shown once, on the answer to the form
    assert admin.post(f"/admin/webhooks/{endpoint_id}/ping").status_code == 303
    receiver.statuses = [500]
    hooks_app.config["WEBHOOKS_MAX_ATTEMPTS"] = 1
    work(hooks_app)
    page = text_of(admin.get(f"/admin/webhooks/{endpoint_id}?state=dead"))
    assert "webhook.ping" in page and "HTTP 500" in page
    from fieldcheck.webhooks.models import WebhookDelivery

    with demo.app_context():
        delivery_id = db.session.execute(select(WebhookDelivery.id)).scalar_one()
    detail = text_of(admin.get(f"/admin/webhooks/{endpoint_id}/deliveries/{delivery_id}"))
    assert receiver.requests[0].body.decode() in detail.replace("&#34;", '"')
    again = admin.post(
        f"/admin/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver", {"back": "delivery"}
    )
    assert again.status_code == 303
    work(hooks_app)
    assert len(receiver.requests) == 2 and receiver.requests[0].body == receiver.requests[1].body
    assert "HTTP 200" in text_of(
        admin.get(f"/admin/webhooks/{endpoint_id}/deliveries/{delivery_id}")
    )
    # Pause, rotate the secret (shown once), delete.
    assert admin.post(f"/admin/webhooks/{endpoint_id}/active", {"active": "0"}).status_code == 303
    assert "Dijeda" in text_of(admin.get(f"/admin/webhooks/{endpoint_id}"))
    rotated = admin.post(f"/admin/webhooks/{endpoint_id}/secret")
    assert rotated.status_code == 201 and "whsec_" in text_of(rotated)
    admin.get(f"/admin/webhooks/{endpoint_id}")
    assert admin.post(f"/admin/webhooks/{endpoint_id}/delete").status_code == 303
    assert admin.get(f"/admin/webhooks/{endpoint_id}").status_code == 404


def test_refused_addresses_and_other_roles_and_regions(demo, hooks_app, receiver):
    hooks_app.config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = False
    admin = pages_as(demo, "admin")
    admin.get("/admin/webhooks/new")
    refused = admin.post(
        "/admin/webhooks/new",
        {"url": "http://169.254.169.254/latest", "event_types": ["inspection.received"]},
    )
    assert refused.status_code == 422
    assert "alamat publik" in text_of(refused)
    none = admin.post("/admin/webhooks/new", {"url": "https://example.org/hook"})
    assert none.status_code == 422 and "Pilih setidaknya satu jenis peristiwa" in text_of(none)
    hooks_app.config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = True
    national = _register(admin, receiver.url)
    supervisor = pages_as(demo, "supervisor-jatim")
    assert supervisor.get("/admin/webhooks").status_code == 403
    assert supervisor.post(f"/admin/webhooks/{national}/ping").status_code == 403
    # A regional admin sees only their region's endpoints.
    from tests.web.test_admin import _as, _make_admin

    _make_admin(demo, "13", "admin-sumbar")
    regional = _as(demo, "admin-sumbar")
    assert receiver.url not in text_of(regional.get("/admin/webhooks"))
    assert regional.get(f"/admin/webhooks/{national}").status_code == 404


def test_webhook_pages_in_the_browser(demo, hooks_app, browser):
    from selenium.webdriver.common.by import By

    receiver = Receiver().start()
    work(hooks_app)  # the demo's own events are fanned out before any endpoint exists
    try:
        login(browser, "admin")
        waiting(browser, 10).until(lambda b: "/login" not in b.current_url)
        browser.get(browser.base + "/admin/webhooks/new")
        browser.find_element(By.ID, "url").send_keys(receiver.url)
        browser.find_element(By.ID, "description").send_keys("Dasbor wilayah")
        browser.find_element(By.CSS_SELECTOR, "input[value='inspection.received']").click()
        shot(browser, "webhooks-new")
        assert_accessible(browser)
        browser.find_element(By.CSS_SELECTOR, "form button.primary").click()
        secret = waiting(browser, 30).until(
            lambda b: b.find_elements(By.ID, "secret") and b.find_element(By.ID, "secret")
        )
        assert secret.text.startswith("whsec_")
        shot(browser, "webhooks-secret")
        assert_accessible(browser)
        browser.find_element(By.CSS_SELECTOR, "a.button").click()
        waiting(browser, 30).until(lambda b: "Kirim peristiwa uji" in b.page_source)
        browser.find_element(By.XPATH, "//button[contains(., 'Kirim peristiwa uji')]").click()
        waiting(browser, 30).until(lambda b: "webhook.ping" in b.page_source)
        work(hooks_app)
        browser.refresh()
        shot(browser, "webhooks-endpoint")
        assert_accessible(browser)
        browser.find_element(By.CSS_SELECTOR, "table a").click()
        waiting(browser, 30).until(lambda b: "HTTP 200" in b.page_source)
        shot(browser, "webhooks-delivery")
        assert_accessible(browser)
        assert len(receiver.requests) == 1
    finally:
        receiver.stop()
