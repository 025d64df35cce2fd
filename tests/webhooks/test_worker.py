"""The worker in its real settings: beside real gunicorn while a receiver is slow, as the
scheduler's job, as ``flask --app app worker`` (a process stopped by SIGTERM), and the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import select

from fieldcheck.extensions import db
from tests.helpers import auth
from tests.webhooks.conftest import WEBHOOKS, Receiver, pending, register, work

ROOT = Path(__file__).resolve().parents[2]


def test_the_web_app_answers_while_a_delivery_waits_on_a_slow_receiver(
    hooks_app, client, factory, gunicorn
):
    """A worker (a thread of this process, its own DB session) is stuck in a POST to a
    receiver that does not answer; meanwhile real gunicorn serves reads and an intake write on
    the same database: the worker holds no transaction or lock while it waits."""
    from fieldcheck.webhooks.worker import drain

    factory.units()
    _id, admin = factory.user("admin")
    _sid, surveyor = factory.user("surveyor", "35")
    gate = threading.Event()
    slow = Receiver(gate=gate).start()
    try:
        endpoint = register(client, admin, slow.url, ["inspection.received"])
        assert (
            client.post(f"{WEBHOOKS}/{endpoint['id']}/ping", headers=auth(admin)).status_code == 202
        )
        server = gunicorn(workers=1, threads=2)
        worker = threading.Thread(target=drain, args=(hooks_app,), daemon=True)
        worker.start()
        assert slow.arrived.wait(60), "the worker never reached the receiver"
        assert worker.is_alive() and not gate.is_set()

        listed = requests.get(f"{server.url}{WEBHOOKS}", headers=auth(admin), timeout=30)
        assert listed.status_code == 200 and listed.json()["total"] == 1
        body = factory.all_yes_submission()
        stored = requests.post(
            f"{server.url}/api/v1/inspections", json=body, headers=auth(surveyor), timeout=30
        )
        assert stored.status_code == 201, stored.text
        deliveries = requests.get(
            f"{server.url}{WEBHOOKS}/{endpoint['id']}/deliveries",
            headers=auth(admin),
            timeout=30,
        )
        assert deliveries.json()["items"][0]["state"] == "pending"
        assert worker.is_alive() and not gate.is_set()  # all of that while the POST waited

        gate.set()
        worker.join(60)
        work(hooks_app)
        types = [r.headers["X-Fieldcheck-Event-Type"] for r in slow.requests]
        assert types == ["webhook.ping", "inspection.received"]
    finally:
        slow.stop()


def test_the_scheduler_runs_the_delivery_job(hooks_app, client, factory, receiver):
    from apscheduler.schedulers.background import BackgroundScheduler

    from fieldcheck.webhooks.jobs import JOB_DELIVER
    from fieldcheck.zoning.scheduler import build_scheduler

    _id, admin = factory.user("admin")
    endpoint = register(client, admin, receiver.url, ["inspection.received"])
    client.post(f"{WEBHOOKS}/{endpoint['id']}/ping", headers=auth(admin))
    hooks_app.config["WEBHOOKS_POLL_SECONDS"] = 0.2
    scheduler = build_scheduler(hooks_app, BackgroundScheduler)
    assert scheduler.get_job(JOB_DELIVER) is not None
    scheduler.start()
    try:
        assert receiver.arrived.wait(60)
    finally:
        scheduler.shutdown(wait=True)
    assert pending(hooks_app) == 0
    assert [r.headers["X-Fieldcheck-Event-Type"] for r in receiver.requests] == ["webhook.ping"]


def test_flask_worker_delivers_and_stops_on_sigterm(hooks_app, client, factory, receiver):
    _id, admin = factory.user("admin")
    endpoint = register(client, admin, receiver.url, ["inspection.received"])
    client.post(f"{WEBHOOKS}/{endpoint['id']}/ping", headers=auth(admin))
    env = {
        **os.environ,
        "FIELDCHECK_DATABASE_URL": hooks_app.config["DATABASE_URL"],
        "FIELDCHECK_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true",
        "FIELDCHECK_WEBHOOKS_POLL_SECONDS": "0.2",
        "FIELDCHECK_SECRET_KEY": "test-secret-key-for-the-worker",
    }
    flask = Path(sys.executable).parent / "flask"
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [str(flask), "--app", "app", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert receiver.arrived.wait(90), "the worker process delivered nothing"
        deadline = time.monotonic() + 60
        while pending(hooks_app) and time.monotonic() < deadline:
            time.sleep(0.1)  # the worker records the answer after the receiver got it
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output.decode()
    assert b"webhook worker stopped" in output
    assert len(receiver.requests) == 1 and pending(hooks_app) == 0


def test_cli_lists_adds_and_redelivers(hooks_app, runner, receiver):
    from fieldcheck.webhooks.models import WebhookDelivery

    added = runner.invoke(
        args=["webhooks", "add", "--url", receiver.url, "--event", "inspection.received"]
    )
    assert added.exit_code == 0, added.output
    secret = added.output.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    refused = runner.invoke(
        args=["webhooks", "add", "--url", "ftp://x.org/", "--event", "inspection.received"]
    )
    assert refused.exit_code != 0 and "url" in refused.output
    receiver.default = 500
    with hooks_app.app_context():
        from fieldcheck.outbox.events import queue

        queue("inspection.received", {"inspection_id": 1}, region="35.15")
        db.session.commit()
    done = runner.invoke(args=["worker", "--once"])
    assert done.exit_code == 0, done.output
    work(hooks_app)
    listing = runner.invoke(args=["webhooks", "list"])
    assert "dead 1" in listing.output and receiver.url in listing.output
    dead = runner.invoke(args=["webhooks", "deliveries", "1", "--state", "dead"])
    assert "inspection.received" in dead.output
    receiver.default = 200
    again = runner.invoke(args=["webhooks", "redeliver", "--dead-of", "1"])
    assert again.exit_code == 0 and "queued again" in again.output
    work(hooks_app)
    with hooks_app.app_context():
        states = db.session.execute(select(WebhookDelivery.state)).scalars().all()
    assert states == ["delivered"]
    assert len(receiver.requests) == 4 and len({r.body for r in receiver.requests}) == 1


def test_endpoint_changes_and_redeliveries_are_audited_without_the_secret(
    hooks_app, client, factory, receiver
):
    from fieldcheck.audit.models import AuditEntry

    _id, admin = factory.user("admin")
    endpoint = register(client, admin, receiver.url, ["inspection.received"], secret="s" * 20)
    assert endpoint["secret"] == "s" * 20
    rotated = client.patch(
        f"{WEBHOOKS}/{endpoint['id']}", json={"rotate_secret": True}, headers=auth(admin)
    ).get_json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != "s" * 20
    assert (
        "secret" not in client.get(f"{WEBHOOKS}/{endpoint['id']}", headers=auth(admin)).get_json()
    )
    ping = client.post(f"{WEBHOOKS}/{endpoint['id']}/ping", headers=auth(admin)).get_json()
    work(hooks_app)
    # Signed with the rotated secret.
    from tests.webhooks.test_delivery import documented_verifier

    assert documented_verifier()(
        rotated["secret"], receiver.requests[0].headers, receiver.requests[0].body
    )
    url = f"{WEBHOOKS}/{endpoint['id']}/deliveries/{ping['id']}/redeliver"
    assert client.post(url, headers=auth(admin)).status_code == 202
    assert client.delete(f"{WEBHOOKS}/{endpoint['id']}", headers=auth(admin)).status_code == 204
    assert client.get(f"{WEBHOOKS}/{endpoint['id']}", headers=auth(admin)).status_code == 404
    with hooks_app.app_context():
        entries = db.session.execute(
            select(AuditEntry.action, AuditEntry.after, AuditEntry.before).order_by(AuditEntry.id)
        ).all()
    actions = [e.action for e in entries if e.action.startswith("webhook.")]
    assert actions == ["webhook.create", "webhook.update", "webhook.redeliver", "webhook.delete"]
    for entry in entries:
        assert "whsec_" not in str(entry.after) + str(entry.before)
        assert "s" * 20 not in str(entry.after) + str(entry.before)
