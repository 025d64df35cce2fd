"""GET /metrics: who may read it, request and intake counts, figures read from the database."""

from __future__ import annotations

from datetime import UTC, datetime

from fieldcheck.extensions import db
from fieldcheck.zoning.models import Lease, OutboxEvent
from fieldcheck.zoning.scheduler import HEARTBEAT_NAME
from tests.helpers import auth, post_json
from tests.ops.metrics import value

INTAKE = "fieldcheck_intake_submissions_total"
REQUESTS = "fieldcheck_http_requests_total"


def scrape(client, **kwargs) -> str:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return response.get_data(as_text=True)


def test_only_loopback_reads_metrics_without_a_token(app, client):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    remote = client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert remote.status_code == 403 and remote.get_json()["error"]["code"] == "forbidden"


def test_with_a_metrics_token_it_is_required_from_anywhere(app, client):
    app.config["METRICS_TOKEN"] = "scrape-secret-123"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=auth("wrong")).status_code == 401
    remote = client.get(
        "/metrics", headers=auth("scrape-secret-123"), environ_base={"REMOTE_ADDR": "192.0.2.10"}
    )
    assert remote.status_code == 200 and b"fieldcheck_http_requests_total" in remote.data


def test_requests_by_route_and_intake_by_outcome(app, client, factory):
    factory.units()
    _, token = factory.user("surveyor", "35")
    _, sumbar = factory.user("surveyor", "13")
    before = scrape(client)
    body = factory.all_yes_submission()
    assert post_json(client, "/api/v1/inspections", body, token).status_code == 201
    assert post_json(client, "/api/v1/inspections", body, token).status_code == 200
    changed = {**body, "notes": "another body under the same submission_id"}
    assert post_json(client, "/api/v1/inspections", changed, token).status_code == 409
    assert post_json(client, "/api/v1/inspections", {"x": 1}, token).status_code == 422
    outside = post_json(client, "/api/v1/inspections", factory.all_yes_submission(), sumbar)
    assert outside.status_code == 403
    assert client.get("/api/v1/inspections/999999", headers=auth(token)).status_code == 404
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    for outcome in ("created", "resend", "conflict", "invalid", "out_of_scope"):
        assert delta(INTAKE, outcome=outcome) == 1, outcome
    route = {"endpoint": "inspections.create_inspection", "method": "POST"}
    assert delta(REQUESTS, status="2xx", **route) == 2
    assert delta(REQUESTS, status="4xx", **route) == 3
    latency = "fieldcheck_http_request_duration_seconds_count"
    assert delta(latency, status="2xx", **route) == 2
    # Paths with ids are one series, named by the endpoint.
    assert delta(REQUESTS, endpoint="inspections.get_inspection", method="GET", status="4xx") == 1
    assert "/api/v1/inspections/999999" not in after


def test_scheduler_heartbeat_runs_and_outbox_are_read_at_scrape(app, client):
    beat = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
    text = scrape(client)
    assert value(text, "fieldcheck_outbox_backlog") == 0
    assert "\nfieldcheck_scheduler_heartbeat_timestamp_seconds " not in text  # no beat yet
    with app.app_context():
        db.session.add(Lease(name=HEARTBEAT_NAME, holder="test", heartbeat_at=beat))
        db.session.add_all(
            [
                OutboxEvent(topic="zone.changed", payload={}),
                OutboxEvent(topic="zone.changed", payload={}, delivered_at=beat),
            ]
        )
        db.session.commit()
    text = scrape(client)
    assert value(text, "fieldcheck_scheduler_heartbeat_timestamp_seconds") == beat.timestamp()
    assert value(text, "fieldcheck_outbox_backlog") == 1
    assert value(text, "fieldcheck_zoning_runs", state="succeeded") == 0
    assert value(text, "fieldcheck_metrics_database_up") == 1


def test_zoning_runs_by_state_with_durations(app, client, runner, factory):
    factory.units()
    result = runner.invoke(args=["rescore", "--period", "2026", "--no-progress"])
    assert result.exit_code == 0, result.output
    text = scrape(client)
    assert value(text, "fieldcheck_zoning_runs", state="succeeded") == 1
    assert value(text, "fieldcheck_zoning_run_duration_seconds_count", state="succeeded") == 1
    assert value(text, "fieldcheck_zoning_run_duration_seconds_sum", state="succeeded") >= 0
