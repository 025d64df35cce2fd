"""kill -9 under load loses nothing acknowledged (issue 14): clients submit through real
gunicorn, the master and its workers are SIGKILLed mid-load, and after a restart every
submission that got 200/201 is stored exactly once, with its audit entry."""

from __future__ import annotations

import threading
import time
import uuid

import requests
from sqlalchemy import func, select

from fieldcheck.audit.models import AuditEntry
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection

CLIENTS = 8
#: Acknowledgements to wait for before the kill (the load is well under way by then).
ACKED_BEFORE_KILL = 40


def test_kill_9_under_load_loses_nothing_acknowledged(gunicorn, factory, app):
    factory.units()
    tokens = [factory.user("surveyor", "35", name=f"surveyor {i}")[1] for i in range(4)]
    server = gunicorn()
    acked: dict[str, int] = {}  # submission_id -> inspection id
    sent: dict[str, tuple[dict, str]] = {}  # submission_id -> (body, token) of acknowledged ones
    statuses: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(number: int) -> None:
        session = requests.Session()
        token = tokens[number % len(tokens)]
        session.headers["Authorization"] = f"Bearer {token}"
        while not stop.is_set():
            body = factory.submission()
            try:
                response = session.post(server.url + "/api/v1/inspections", json=body, timeout=30)
            except requests.RequestException:
                continue  # the server is gone (killed): not acknowledged, may or may not be stored
            with lock:
                statuses.append(response.status_code)
                if response.status_code in (200, 201):
                    acked[body["submission_id"]] = response.json()["id"]
                    sent[body["submission_id"]] = (body, token)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    while len(acked) < ACKED_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill9()  # mid-load: requests are in flight in every worker
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    assert len(acked) >= ACKED_BEFORE_KILL, (statuses[-5:], server.output())
    assert not [s for s in statuses if s >= 500], sorted(set(statuses))

    restarted = gunicorn()
    with app.app_context():
        stored = dict(
            db.session.execute(
                select(Inspection.submission_id, func.count())
                .where(Inspection.submission_id.in_([uuid.UUID(s) for s in acked]))
                .group_by(Inspection.submission_id)
            ).all()
        )
        audited = {
            int(object_id)
            for (object_id,) in db.session.execute(
                select(AuditEntry.object_id).where(
                    AuditEntry.action == "inspection.submit",
                    AuditEntry.object_type == "inspection",
                )
            )
        }
    lost = [s for s in acked if stored.get(uuid.UUID(s)) != 1]
    assert lost == [], f"{len(lost)} of {len(acked)} acknowledged submissions not stored once"
    assert set(acked.values()) <= audited, "an acknowledged submission has no audit entry"

    # The restarted service knows them: a phone resending one gets the same inspection back.
    sample_id, inspection_id = next(iter(acked.items()))
    body, token = sent[sample_id]
    resend = requests.post(
        restarted.url + "/api/v1/inspections",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert (resend.status_code, resend.json()["id"]) == (200, inspection_id), resend.text[:300]
