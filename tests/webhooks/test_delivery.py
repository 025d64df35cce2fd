"""Delivery to a real local receiver: retries send the same event id and bytes, signatures
verify with the snippet docs/api.md documents, dead-letter after the configured attempts,
manual redelivery, and the refusal of private targets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fieldcheck.extensions import db
from tests.helpers import auth
from tests.webhooks.conftest import WEBHOOKS, Receiver, register, work

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def documented_verifier():
    """``verify_signature`` exactly as docs/api.md shows it (the Webhooks section's snippet)."""
    text = API_MD.read_text(encoding="utf-8")
    section = text[text.index("## Webhooks") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "docs/api.md", "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify_signature"]


def _ping(client, token, endpoint_id):
    response = client.post(f"{WEBHOOKS}/{endpoint_id}/ping", headers=auth(token))
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def _delivery(client, token, endpoint_id, delivery_id):
    response = client.get(f"{WEBHOOKS}/{endpoint_id}/deliveries/{delivery_id}", headers=auth(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_failing_twice_then_succeeding_gets_the_same_event_and_bytes_three_times(
    hooks_app, client, factory, receiver
):
    _id, admin = factory.user("admin")
    receiver.statuses = [500, 503]
    endpoint = register(client, admin, receiver.url, ["inspection.received"])
    delivery = _ping(client, admin, endpoint["id"])

    work(hooks_app)

    assert len(receiver.requests) == 3
    bodies = {r.body for r in receiver.requests}
    assert len(bodies) == 1  # the exact same bytes every time
    ids = {r.headers["X-Fieldcheck-Event-Id"] for r in receiver.requests}
    assert ids == {delivery["event_id"]} == {receiver.requests[0].json["id"]}
    assert [r.headers["X-Fieldcheck-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    first = receiver.requests[0]
    assert first.json["type"] == "webhook.ping" == first.headers["X-Fieldcheck-Event-Type"]
    assert first.json["data"] == {"endpoint_id": endpoint["id"]}

    verify = documented_verifier()
    for request in receiver.requests:
        assert verify(endpoint["secret"], request.headers, request.body)
        assert not verify("whsec_not-the-secret-at-all", request.headers, request.body)
        assert not verify(endpoint["secret"], request.headers, request.body + b" ")

    detail = _delivery(client, admin, endpoint["id"], delivery["id"])
    assert (detail["state"], detail["attempts"]) == ("delivered", 3)
    assert [a["status_code"] for a in detail["log"]] == [500, 503, 200]
    assert [a["number"] for a in detail["log"]] == [1, 2, 3]
    assert detail["log"][0]["response_snippet"] == '{"ok": false}'
    assert detail["body"].encode() == receiver.requests[0].body


def test_a_receiver_that_always_fails_ends_dead_and_redelivery_sends_the_same_bytes(
    hooks_app, client, factory
):
    _id, admin = factory.user("admin")
    receiver = Receiver(default=500).start()
    try:
        endpoint = register(client, admin, receiver.url, ["inspection.received"])
        delivery = _ping(client, admin, endpoint["id"])
        work(hooks_app)
        assert len(receiver.requests) == 3  # WEBHOOKS_MAX_ATTEMPTS in hooks_app
        detail = _delivery(client, admin, endpoint["id"], delivery["id"])
        assert (detail["state"], detail["attempts"], detail["last_status_code"]) == (
            "dead",
            3,
            500,
        )
        dead = client.get(
            f"{WEBHOOKS}/{endpoint['id']}/deliveries?state=dead", headers=auth(admin)
        ).get_json()
        assert [d["id"] for d in dead["items"]] == [delivery["id"]]

        receiver.default = 200
        url = f"{WEBHOOKS}/{endpoint['id']}/deliveries/{delivery['id']}/redeliver"
        again = client.post(url, headers=auth(admin))
        assert again.status_code == 202, again.get_json()
        assert again.get_json()["state"] == "pending"
        # Pending: the worker has it, a second redelivery is refused.
        assert client.post(url, headers=auth(admin)).status_code == 409
        work(hooks_app)
        assert len(receiver.requests) == 4
        assert len({r.body for r in receiver.requests}) == 1
        assert receiver.requests[-1].headers["X-Fieldcheck-Attempt"] == "1"
        detail = _delivery(client, admin, endpoint["id"], delivery["id"])
        assert (detail["state"], detail["attempts"]) == ("delivered", 1)
        assert len(detail["log"]) == 4
        # A delivered delivery can be sent again too (a receiver that lost it).
        assert client.post(url, headers=auth(admin)).status_code == 202
        work(hooks_app)
        assert len(receiver.requests) == 5
    finally:
        receiver.stop()


def test_connection_refused_ends_dead_with_the_error_logged(hooks_app, client, factory):
    from tests.serving import free_port

    _id, admin = factory.user("admin")
    url = f"http://127.0.0.1:{free_port()}/nobody-listens"
    endpoint = register(client, admin, url, ["inspection.received"])
    delivery = _ping(client, admin, endpoint["id"])
    work(hooks_app)
    detail = _delivery(client, admin, endpoint["id"], delivery["id"])
    assert detail["state"] == "dead"
    assert [a["status_code"] for a in detail["log"]] == [None, None, None]
    assert all("ConnectionError" in a["error"] for a in detail["log"])


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "https://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_default_config_refuses_private_targets(app, client, factory, url):
    _id, admin = factory.user("admin")
    response = client.post(
        WEBHOOKS, json={"url": url, "event_types": ["inspection.received"]}, headers=auth(admin)
    )
    assert response.status_code == 422
    assert "url" in response.get_json()["error"]["details"]["fields"]


@pytest.mark.parametrize(
    "url", ["ftp://example.org/x", "file:///etc/passwd", "http:///nohost", "https://u:p@x.org/"]
)
def test_only_http_urls_with_a_host(hooks_app, client, factory, url):
    _id, admin = factory.user("admin")
    response = client.post(
        WEBHOOKS, json={"url": url, "event_types": ["inspection.received"]}, headers=auth(admin)
    )
    assert response.status_code == 422
    assert "url" in response.get_json()["error"]["details"]["fields"]


def test_the_target_is_checked_again_at_delivery(hooks_app, client, factory, receiver):
    """Registered while private targets were allowed; refused when the config no longer allows
    them: the check runs at every delivery (DNS may change), nothing reaches the receiver."""
    _id, admin = factory.user("admin")
    endpoint = register(client, admin, receiver.url, ["inspection.received"])
    delivery = _ping(client, admin, endpoint["id"])
    hooks_app.config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = False
    work(hooks_app)
    assert receiver.requests == []
    detail = _delivery(client, admin, endpoint["id"], delivery["id"])
    assert detail["state"] == "dead"
    assert all(a["error"].startswith("target refused") for a in detail["log"])


def test_redirects_are_not_followed(hooks_app, client, factory, receiver):
    _id, admin = factory.user("admin")
    receiver.default = 302
    endpoint = register(client, admin, receiver.url, ["inspection.received"])
    delivery = _ping(client, admin, endpoint["id"])
    work(hooks_app)
    assert len(receiver.requests) == 3
    assert _delivery(client, admin, endpoint["id"], delivery["id"])["state"] == "dead"


def test_two_workers_never_send_one_delivery_twice(hooks_app, client, factory, receiver):
    """Two workers draining at once (threads, each its own session): every event arrives once."""
    import threading

    from fieldcheck.webhooks.worker import drain

    _id, admin = factory.user("admin")
    endpoint = register(client, admin, receiver.url, ["inspection.received"])
    for _ in range(30):
        _ping(client, admin, endpoint["id"])
    hooks_app.config["WEBHOOKS_BATCH"] = 4
    errors: list[BaseException] = []

    def run() -> None:
        try:
            drain(hooks_app)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    work(hooks_app)  # whatever a busy lock left for later
    assert errors == []
    ids = [r.headers["X-Fieldcheck-Event-Id"] for r in receiver.requests]
    assert len(ids) == 30 and len(set(ids)) == 30


def test_a_paused_endpoint_keeps_its_deliveries_pending(hooks_app, client, factory, receiver):
    from tests.webhooks.conftest import pending

    _id, admin = factory.user("admin")
    endpoint = register(client, admin, receiver.url, ["inspection.received"])
    response = client.patch(
        f"{WEBHOOKS}/{endpoint['id']}", json={"is_active": False}, headers=auth(admin)
    )
    assert response.status_code == 200 and response.get_json()["is_active"] is False
    _ping(client, admin, endpoint["id"])
    from fieldcheck.webhooks.worker import drain

    drain(hooks_app)
    assert receiver.requests == [] and pending(hooks_app) == 1
    client.patch(f"{WEBHOOKS}/{endpoint['id']}", json={"is_active": True}, headers=auth(admin))
    work(hooks_app)
    assert len(receiver.requests) == 1
    with hooks_app.app_context():
        db.session.remove()
