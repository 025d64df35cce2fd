"""Zoning runs end to end: hand-computed zones, full == incremental, what-if, lease, dead runs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select

from fieldcheck.extensions import db
from tests.helpers import auth

TWO = Decimal("0.01")


def _mean(values):
    values = [v for v in values if v is not None]
    return (sum(values) / len(values)).quantize(TWO, rounding=ROUND_HALF_UP)


def _zone(score):
    return "hijau" if score >= Decimal("81") else "kuning" if score >= Decimal("51") else "merah"


def test_regency_zones_match_a_hand_computation(zoning, client) -> None:
    ids = {
        "35.15-DUKCAPIL": [zoning.inspect("35.15-DUKCAPIL"), zoning.inspect("35.15-DUKCAPIL", 3)],
        "35.15-DPMPTSP": [zoning.inspect("35.15-DPMPTSP", 6)],
        "35.15-SATPAS": [zoning.inspect("35.15-SATPAS", 9)],
        "35.25-DUKCAPIL": [zoning.inspect("35.25-DUKCAPIL", 1)],
        "13.71-DUKCAPIL": [zoning.inspect("13.71-DUKCAPIL", 8)],
    }
    zoning.inspect("35.15-DUKCAPIL", 11, approve=False)  # received, not approved: not counted
    zoning.inspect("35.25-DUKCAPIL", 11, day="2025-06-01")  # another period: not counted
    result = zoning.rescore("--publish")
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output and "published" in result.output
    # Publishing at the command line is audited like publishing through the API.
    run_id = zoning.last_run_id()
    audit = client.get(
        f"/api/v1/audit?object=zoning_run:{run_id}", headers=auth(zoning.admin)
    ).get_json()
    assert [(e["action"], e["actor"]["id"]) for e in reversed(audit["items"])] == [
        ("zoning_run.request", None),
        ("zoning_run.publish", None),
    ]

    stored = zoning.scores()
    unit = {
        code: _mean([stored[i][1] for i in inspection_ids]) for code, inspection_ids in ids.items()
    }
    agency = {
        "PEMKAB-35.15": _mean([unit["35.15-DUKCAPIL"], unit["35.15-DPMPTSP"]]),
        "POLRESTA-35.15": unit["35.15-SATPAS"],
        "PEMKAB-35.25": unit["35.25-DUKCAPIL"],
        "PEMKOT-13.71": unit["13.71-DUKCAPIL"],
    }
    expected = {
        "35.15": _mean([agency["PEMKAB-35.15"], agency["POLRESTA-35.15"]]),
        "35.25": agency["PEMKAB-35.25"],
        "13.71": agency["PEMKOT-13.71"],
    }
    assert len(set(map(_zone, expected.values()))) > 1, "the data should give different zones"

    _, admin = zoning.admin_id, zoning.admin
    body = client.get("/api/v1/results?level=regency", headers=auth(admin)).get_json()
    assert body["is_published"] is True
    got = {r["code"]: (Decimal(str(r["score"])), r["zone"]) for r in body["items"]}
    assert got == {code: (score.quantize(TWO), _zone(score)) for code, score in expected.items()}
    ranks = [r["rank"] for r in body["items"]]
    assert ranks == sorted(ranks) and ranks[0] == 1

    provinces = client.get("/api/v1/results?level=province", headers=auth(admin)).get_json()
    jatim = next(r for r in provinces["items"] if r["code"] == "35")
    three = [agency["PEMKAB-35.15"], agency["POLRESTA-35.15"], agency["PEMKAB-35.25"]]
    assert Decimal(str(jatim["score"])) == _mean(three)


def test_incremental_and_full_runs_agree_exactly(zoning) -> None:
    for code, noes in [
        ("35.15-DUKCAPIL", 2),
        ("35.15-RSUD", 5),
        ("13.71-SATPAS", 7),
        ("32.73-DUKCAPIL", 0),
        ("21.71-KANIM", 10),
    ]:
        zoning.inspect(code, noes)
    assert zoning.rescore("--publish").exit_code == 0
    first = zoning.last_run_id()
    assert zoning.run(first).mode == "full"

    # Changes after the first run: two units get new approved inspections, one is rejected.
    zoning.inspect("35.15-RSUD", 0)
    zoning.inspect("73.71-DUKCAPIL", 4)
    later = zoning.inspect("13.71-SATPAS", 1)
    zoning.approve(later, status="rejected")

    assert zoning.rescore().exit_code == 0
    incremental = zoning.last_run_id()
    run = zoning.run(incremental)
    assert (run.mode, run.base_run_id) == ("incremental", first)
    assert run.counts["units_recomputed"] == 3
    assert run.counts["zone_moves"] >= 1  # 73.71 appears

    assert zoning.rescore("--full").exit_code == 0
    full = zoning.last_run_id()
    assert zoning.run(full).mode == "full"
    assert zoning.run(full).counts["units_recomputed"] == 18
    assert zoning.rows(incremental) == zoning.rows(full)
    assert zoning.rows(incremental) != zoning.rows(first)

    # Re-scoring every inspection from its answers gives the same result as the stored scores.
    assert zoning.rescore("--full", "--from-answers").exit_code == 0
    from_answers = zoning.last_run_id()
    assert zoning.run(from_answers).counts["inspections_rescored"] == 7
    assert zoning.rows(from_answers) == zoning.rows(full)


def test_a_what_if_run_changes_nothing_official(zoning, client, app) -> None:
    from fieldcheck.units.dirty import DirtyUnit
    from fieldcheck.zoning.lifecycle import run_queued
    from fieldcheck.zoning.models import OutboxEvent, ZoningRun

    for code, noes in [("35.15-DUKCAPIL", 4), ("35.15-SATPAS", 6), ("13.71-KANIM", 5)]:
        zoning.inspect(code, noes)
    assert zoning.rescore("--publish").exit_code == 0
    official = zoning.last_run_id()
    before = zoning.rows(official)
    zoning.inspect("32.09-DUKCAPIL", 2)  # a pending change the what-if must not consume

    weights = {"SP-01": 0, "MP-01": 0, "SI-01": 0, "PG-01": 0, "PG-02": 0, "SK-01": 100}
    response = client.post(
        "/api/v1/zoning-runs",
        json={"methodology": "ombudsman-2019", "dry_run": True, "weights": weights, "period": 2026},
        headers=auth(zoning.admin),
    )
    assert response.status_code == 202, response.get_json()
    run_id = response.get_json()["id"]
    assert response.get_json()["state"] == "queued"
    with app.app_context():
        assert [o.state for o in run_queued()] == ["succeeded"]

    run = client.get(f"/api/v1/zoning-runs/{run_id}", headers=auth(zoning.admin)).get_json()
    assert (run["state"], run["dry_run"], run["is_published"]) == ("succeeded", True, False)
    assert run["compared_run_id"] == official
    changes = client.get(
        f"/api/v1/zoning-runs/{run_id}/changes?zone_moves_only=true", headers=auth(zoning.admin)
    ).get_json()
    assert changes["total"] >= 1 and all(c["zone_moved"] for c in changes["items"])

    assert zoning.rows(official) == before
    body = client.get("/api/v1/results", headers=auth(zoning.admin)).get_json()
    assert (body["run_id"], body["is_published"]) == (official, True)
    latest = client.get("/api/v1/results?run=latest", headers=auth(zoning.admin)).get_json()
    assert latest["run_id"] == official  # a dry run is never "latest" either
    with app.app_context():
        assert db.session.get(ZoningRun, official).is_official
        from fieldcheck.units.models import Unit

        pending = db.session.execute(
            select(Unit.code).join(DirtyUnit, DirtyUnit.unit_id == Unit.id).distinct()
        ).scalars()
        assert set(pending) == {"32.09-DUKCAPIL"}
        topics = db.session.execute(select(OutboxEvent.topic)).scalars().all()
        assert "zoning_run.succeeded" in topics
        events = db.session.execute(select(OutboxEvent.payload)).scalars().all()
        assert all(e.get("run_id") != run_id for e in events)
        from fieldcheck.errors import ApiError
        from fieldcheck.zoning.services import publish_run

        try:
            publish_run(db.session.get(ZoningRun, run_id))
        except ApiError as exc:
            assert exc.code == "conflict"
        else:
            raise AssertionError("a dry run was published")


def test_two_runs_at_once_one_runs_and_one_skips(zoning, app) -> None:
    from fieldcheck.zoning.lifecycle import execute
    from fieldcheck.zoning.models import ZoningRun
    from fieldcheck.zoning.services import create_run

    zoning.inspect("35.15-DUKCAPIL", 3)
    inside, go_on = threading.Event(), threading.Event()
    outcome = {}

    def first_run() -> None:
        with app.app_context():
            run = create_run(period=2026)
            db.session.commit()

            def progress(done, total, inspections):
                inside.set()
                go_on.wait(timeout=30)

            outcome["first"] = execute(run.id, progress=progress)

    thread = threading.Thread(target=first_run)
    thread.start()
    assert inside.wait(timeout=30)
    try:
        result = zoning.rescore()
    finally:
        go_on.set()
        thread.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert "skipped: another run holds the lease" in result.output
    assert outcome["first"].state == "succeeded"
    with app.app_context():
        states = dict(db.session.execute(select(ZoningRun.id, ZoningRun.state)).tuples().all())
    assert sorted(states.values()) == ["skipped", "succeeded"]
    # A skipped run did no work: it shows the mode asked for, and none done.
    skipped = next(run_id for run_id, state in states.items() if state == "skipped")
    shown = zoning.client.get(f"/api/v1/zoning-runs/{skipped}", headers=auth(zoning.admin))
    assert (shown.get_json()["mode"], shown.get_json()["requested_mode"]) == (None, "incremental")


def test_a_dead_run_is_marked_failed_and_the_next_run_proceeds(zoning, app) -> None:
    from fieldcheck.zoning import lease
    from fieldcheck.zoning.models import ZoningRun
    from fieldcheck.zoning.services import create_run

    zoning.inspect("35.15-DUKCAPIL", 3)
    zoning.inspect("13.71-KANIM", 8)
    assert zoning.rescore("--publish").exit_code == 0
    official = zoning.last_run_id()
    before = zoning.rows(official)

    # A run that took the lease and then died (kill -9): running, lease never renewed.
    now = datetime.now(UTC)
    app.config["CLOCK"] = lambda: now
    with app.app_context():
        dead = create_run(period=2026, full=True)
        dead.state, dead.started_at = "running", now
        dead_id = dead.id
        db.session.commit()
        assert lease.acquire("zoning", "gone:1:dead", 60, dead_id).acquired
    zoning.inspect("35.15-DUKCAPIL", 0)

    # While its lease is still valid, a new run skips.
    result = zoning.rescore()
    assert "skipped" in result.output

    # Once the lease has expired, the next start marks the dead run failed and proceeds.
    app.config["CLOCK"] = lambda: now + timedelta(seconds=61)
    result = zoning.rescore()
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output
    assert zoning.run(dead_id).state == "failed"
    assert "lease expired" in zoning.run(dead_id).error
    assert zoning.rows(official) == before
    with app.app_context():
        assert db.session.get(ZoningRun, official).is_official


def test_a_skipped_runs_reason_is_stored_as_a_code_and_read_in_the_readers_language(
    zoning, app, client
) -> None:
    from fieldcheck.zoning import lease
    from fieldcheck.zoning.lifecycle import execute
    from fieldcheck.zoning.models import ZoningRun
    from fieldcheck.zoning.services import create_run

    with app.app_context():
        holder, waiting = create_run(period=2026, full=True), create_run(period=2026, full=True)
        holder_id, waiting_id = holder.id, waiting.id
        db.session.commit()
        assert lease.acquire("zoning", "other:1:live", 60, holder_id).acquired
        outcome = execute(waiting_id)
        stored = db.session.get(ZoningRun, waiting_id)
        assert (stored.state, stored.error, stored.error_params) == (
            "skipped",
            "skipped: another run holds the lease (run #%(run_id)s)",
            {"run_id": holder_id},
        )
    # The CLI and the logs say it in English, whoever reads the run over HTTP in their language.
    assert outcome.message == f"skipped: another run holds the lease (run #{holder_id})"
    url = f"/api/v1/zoning-runs/{waiting_id}"
    texts = {
        name: client.get(url, headers={**auth(zoning.admin), **headers}).get_json()["error"]
        for name, headers in (
            ("id", {"Accept-Language": "id-ID,id;q=0.9"}),
            ("en", {"Accept-Language": "en-US,en;q=0.9"}),
            ("none", {}),
        )
    }
    assert texts == {
        "id": f"dilewati: proses penzonaan lain sedang berjalan (proses #{holder_id})",
        "en": f"skipped: another run holds the lease (run #{holder_id})",
        "none": f"skipped: another run holds the lease (run #{holder_id})",  # as errors
    }


@pytest.mark.parametrize(
    "error, params, shown",
    [
        # A reason the service knows, stored as msgid without values (a dead run, reaped).
        (
            "The process running it stopped (its lease expired or its process is gone); "
            "nothing was published.",
            {},
            "Proses yang menjalankannya berhenti (lease-nya kedaluwarsa atau prosesnya hilang); "
            "tidak ada yang diterbitkan.",
        ),
        # The same English sentence stored before migration 0009 (no params): still translated.
        (
            "The process running it stopped (its lease expired or its process is gone); "
            "nothing was published.",
            None,
            "Proses yang menjalankannya berhenti (lease-nya kedaluwarsa atau prosesnya hilang); "
            "tidak ada yang diterbitkan.",
        ),
        # An unexpected exception's text is no message: shown as stored.
        ("ValueError: something odd (100%)", None, "ValueError: something odd (100%)"),
    ],
)
def test_a_failed_runs_reason_is_read_in_the_readers_language(
    zoning, app, client, error, params, shown
) -> None:
    from fieldcheck.zoning.services import create_run

    with app.app_context():
        run = create_run(period=2026, full=True)
        run.state, run.error, run.error_params = "failed", error, params
        db.session.commit()
        run_id = run.id
    body = client.get(
        f"/api/v1/zoning-runs/{run_id}", headers={**auth(zoning.admin), "Accept-Language": "id"}
    ).get_json()
    assert body["error"] == shown
