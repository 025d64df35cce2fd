"""Webhooks after the user trial (issue 15): a refused private target names the setting that
allows it (API, page, CLI) and that setting really is read under the names given; the attempt
log tells rounds apart and times attempts to the second; a delivery that ended has no next
attempt in the API; the delivery page does not scroll sideways at 1366 px (Chromium)."""

from __future__ import annotations

import re

from fieldcheck.config import load_config
from tests.helpers import auth, post_json
from tests.web.conftest import assert_accessible, login, pages_as, shot, waiting
from tests.web.pages import text_of
from tests.webhooks.conftest import WEBHOOKS, register, work

SETTING = "webhooks.allow_private_targets"
ENV = "FIELDCHECK_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true"


def test_the_api_refusal_names_the_setting(app, client, factory):
    _id, admin = factory.user("admin")
    response = client.post(
        WEBHOOKS,
        json={"url": "http://127.0.0.1:8080/hook", "event_types": ["inspection.received"]},
        headers=auth(admin),
    )
    assert response.status_code == 422
    (message,) = response.get_json()["error"]["details"]["fields"]["url"]
    assert SETTING in message and ENV in message


def test_the_cli_refusal_names_the_setting(app, runner):
    result = runner.invoke(
        args=["webhooks", "add", "--url", "http://10.1.2.3/hook", "--event", "inspection.received"]
    )
    assert result.exit_code != 0
    assert SETTING in result.output and ENV in result.output


def test_the_page_refusal_names_the_setting_in_indonesian(demo):
    admin = pages_as(demo, "admin")
    admin.get("/admin/webhooks/new")
    refused = admin.post(
        "/admin/webhooks/new",
        {"url": "http://192.168.1.20/hook", "event_types": ["inspection.received"]},
    )
    assert refused.status_code == 422
    page = text_of(refused)
    assert "Operator server dapat mengizinkan" in page
    assert SETTING in page and ENV in page


def test_the_names_in_the_message_are_the_ones_the_config_reads(tmp_path):
    """The TOML key and the environment variable the message gives really turn it on."""
    section, key = SETTING.split(".")
    variable, value = ENV.split("=")
    assert load_config(environ={variable: value})["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] is True
    toml = tmp_path / "config.toml"
    toml.write_text(f"[{section}]\n{key} = {value}\n", encoding="utf-8")
    loaded = load_config(environ={"FIELDCHECK_CONFIG": str(toml)})
    assert loaded["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] is True
    assert load_config(environ={})["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] is False


def _detail(client, token, endpoint_id, delivery_id) -> dict:
    response = client.get(f"{WEBHOOKS}/{endpoint_id}/deliveries/{delivery_id}", headers=auth(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_rounds_and_no_stale_next_attempt_in_the_api(hooks_app, client, factory, receiver):
    _id, admin = factory.user("admin")
    endpoint = register(client, admin, receiver.url, ["inspection.received"])
    ping = client.post(f"{WEBHOOKS}/{endpoint['id']}/ping", headers=auth(admin))
    delivery = ping.get_json()
    assert delivery["state"] == "pending" and delivery["next_attempt_at"] is not None
    receiver.statuses = [500, 500, 500]
    work(hooks_app)
    dead = _detail(client, admin, endpoint["id"], delivery["id"])
    assert dead["state"] == "dead" and dead["next_attempt_at"] is None
    listed = client.get(f"{WEBHOOKS}/{endpoint['id']}/deliveries", headers=auth(admin))
    assert [d["next_attempt_at"] for d in listed.get_json()["items"]] == [None]
    again = client.post(
        f"{WEBHOOKS}/{endpoint['id']}/deliveries/{delivery['id']}/redeliver", headers=auth(admin)
    )
    assert again.status_code == 202 and again.get_json()["next_attempt_at"] is not None
    receiver.statuses = [503]
    work(hooks_app)
    done = _detail(client, admin, endpoint["id"], delivery["id"])
    assert done["state"] == "delivered" and done["next_attempt_at"] is None
    assert [(a["round"], a["number"]) for a in done["log"]] == [
        (1, 1),
        (1, 2),
        (1, 3),
        (2, 1),
        (2, 2),
    ]
    # The receiver saw the same numbers as X-Fieldcheck-Attempt.
    assert [r.headers["X-Fieldcheck-Attempt"] for r in receiver.requests] == list("12312")


def test_the_delivery_page_shows_rounds_seconds_and_the_body_laid_out(demo, hooks_app, receiver):
    from sqlalchemy import select

    from fieldcheck.extensions import db
    from fieldcheck.webhooks.models import WebhookDelivery, WebhookEndpoint

    work(hooks_app)  # the demo's own events are fanned out before any endpoint exists
    admin = pages_as(demo, "admin")
    admin.get("/admin/webhooks/new")
    created = admin.post(
        "/admin/webhooks/new", {"url": receiver.url, "event_types": ["inspection.received"]}
    )
    assert created.status_code == 201
    with demo.app_context():
        endpoint_id = db.session.execute(select(WebhookEndpoint.id)).scalar_one()
    admin.get(f"/admin/webhooks/{endpoint_id}")
    assert admin.post(f"/admin/webhooks/{endpoint_id}/ping").status_code == 303
    receiver.statuses = [500, 500, 500]
    work(hooks_app)
    with demo.app_context():
        delivery_id = db.session.execute(select(WebhookDelivery.id)).scalar_one()
    path = f"/admin/webhooks/{endpoint_id}/deliveries/{delivery_id}"
    admin.get(path)
    assert admin.post(f"{path}/redeliver", {"back": "delivery"}).status_code == 303
    work(hooks_app)
    page = text_of(admin.get(path))
    first = page.index("Putaran 1: pengiriman pertama")
    second = page.index("Putaran 2: dikirim ulang secara manual")
    assert first < second
    # Three attempts under the first heading, one under the second.
    assert page[first:second].count("HTTP 500") == 3
    assert page[second:].count("HTTP 200") == 1 and "HTTP 500" not in page[second:]
    assert "Durasi (ms)" in page and "Durasi (md)" not in page
    # Times to the second, in the endpoint's zone (national: WIB).
    assert len(re.findall(r"pukul \d{2}\.\d{2}\.\d{2} WIB", page)) == 4
    # The body laid out for reading, and the exact bytes the receiver got beside it.
    sent = receiver.requests[0].body.decode()
    unescaped = page.replace("&#34;", '"')
    assert '\n  "type": "webhook.ping",\n' in unescaped
    assert sent in unescaped and "\n" not in sent


def test_the_delivery_page_does_not_scroll_sideways(demo, hooks_app, browser, factory, receiver):
    """A real event's one-line body (inspection.received) at 1366 px: the body wraps inside
    its card, the page has no horizontal scroll."""
    from selenium.webdriver.common.by import By
    from sqlalchemy import select

    from fieldcheck.extensions import db
    from fieldcheck.webhooks.models import WebhookDelivery
    from tests.web.test_review import INSPECTIONS, token_of

    work(hooks_app)
    admin = pages_as(demo, "admin")
    admin.get("/admin/webhooks/new")
    created = admin.post(
        "/admin/webhooks/new", {"url": receiver.url, "event_types": ["inspection.received"]}
    )
    assert created.status_code == 201
    token = token_of(demo, "surveyor-jatim")
    response = post_json(demo.test_client(), INSPECTIONS, factory.submission(), token)
    assert response.status_code == 201, response.get_json()
    work(hooks_app)
    with demo.app_context():
        delivery = db.session.execute(select(WebhookDelivery)).scalar_one()
        endpoint_id, delivery_id, body = delivery.endpoint_id, delivery.id, bytes(delivery.body)
    assert len(body) > 300 and b"\n" not in body  # one long line, as stored and sent
    login(browser, "admin")
    waiting(browser, 10).until(lambda b: "/login" not in b.current_url)
    browser.get(f"{browser.base}/admin/webhooks/{endpoint_id}/deliveries/{delivery_id}")
    waiting(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "pre.payload"))
    assert browser.get_window_size()["width"] == 1366
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1"
    )
    # Every card ends inside the window.
    rights = browser.execute_script(
        "return Array.from(document.querySelectorAll('.card'))"
        ".map(c => c.getBoundingClientRect().right)"
    )
    width = browser.execute_script("return window.innerWidth")
    assert rights and max(rights) <= width
    # The exact bytes, opened, wrap inside their box too.
    browser.find_element(By.CSS_SELECTOR, "details summary").click()
    raw = browser.find_element(By.CSS_SELECTOR, "pre.payload.raw")
    assert raw.is_displayed()
    assert browser.execute_script(
        "return arguments[0].scrollWidth <= arguments[0].clientWidth + 1", raw
    )
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1"
    )
    shot(browser, "webhooks-delivery-1366")
    assert_accessible(browser)
