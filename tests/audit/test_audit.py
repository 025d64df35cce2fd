"""The audit log: sealed chain, insert-only triggers, verify CLI, scoped API, full lifecycle."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from fieldcheck.audit.chain import GENESIS
from fieldcheck.audit.sealing import seal
from fieldcheck.audit.services import record
from fieldcheck.audit.verification import verify
from fieldcheck.extensions import db
from tests.audit.insider import tamper
from tests.helpers import post_json
from tests.world import INSPECTIONS, make_world

AUDIT = "/api/v1/audit"


@pytest.fixture
def world(client, factory):
    return make_world(client, factory)


def _tamper(app, statement: str) -> None:
    """Change the log as an attacker with database access would: lift the triggers first."""
    tamper(app, statement)


def _seal(app) -> None:
    with app.app_context():
        seal()


def test_full_lifecycle_is_audited_and_verifiable(world, app, runner):
    original = world.post()
    assert world.review(original["id"], "return", "Foto papan maklumat buram").status_code == 200
    body = world.factory.all_yes_submission(supersedes=original["id"])
    # An unlawful fee for KTP-el: a violation that zeroes the fee component (score 92, not 100),
    # which the agency will object to below.
    body["posted_standards"][0]["fee_idr"] = 25000
    body = world.factory.with_evidence(body, world.token("surveyor"))
    correction = post_json(world.client, INSPECTIONS, body, world.token("surveyor")).get_json()
    assert correction["supersedes_id"] == original["id"]
    assert world.review(correction["id"], "approve").status_code == 200

    def actions(object_id):
        rows = world.get(f"{AUDIT}?object=inspection:{object_id}", "supervisor").get_json()
        return [(r["action"], r["actor"]["id"]) for r in reversed(rows["items"])]

    assert actions(original["id"]) == [
        ("inspection.submit", world.ids["surveyor"]),
        ("inspection.return", world.ids["supervisor"]),
    ]
    assert actions(correction["id"]) == [
        ("inspection.submit", world.ids["surveyor"]),
        ("inspection.approve", world.ids["supervisor"]),
    ]
    entry = world.get(f"{AUDIT}?action=inspection.return", "admin").get_json()["items"][0]
    assert entry["before"]["status"] == "received" and entry["after"]["status"] == "returned"
    assert entry["at"].endswith("Z") and entry["at_wib"].endswith("+07:00")
    _run_publish_override_object_and_rerun(world, runner, correction["id"])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 0 entries sealed, ")  # the sealer has not run yet
    sealed = runner.invoke(args=["audit", "seal"])
    assert sealed.exit_code == 0 and "checkpoint written" in sealed.output, sealed.output
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: ") and ", 0 not yet sealed" in result.output
    assert "vouched for up to link" in result.output

    _tamper(app, f"UPDATE audit_log SET after = NULL WHERE id = {entry['id']}")  # noqa: S608 - a test id
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"Entry {entry['id']} does not match" in result.output and "altered" in result.output


def _zoning_run(world, runner) -> int:
    """Run zoning synchronously through the CLI's runner (``flask rescore``); the new run's id."""
    result = runner.invoke(args=["rescore", "--period", "2026", "--no-progress"])
    assert result.exit_code == 0, result.output
    return world.get("/api/v1/zoning-runs", "admin").get_json()["items"][0]["id"]


def _run_publish_override_object_and_rerun(world, runner, inspection_id: int) -> None:
    """run -> publish -> override -> objection upheld -> next run, each step audited."""
    unit = "35.15-DUKCAPIL"
    first = _zoning_run(world, runner)
    computed = world.get(f"/api/v1/units/{unit}/result?run={first}", "supervisor").get_json()
    assert (computed["score"], computed["zone"], computed["override"]) == (92.0, "hijau", None)

    # A national run is published by a national admin; a regional supervisor may not.
    publish = f"/api/v1/zoning-runs/{first}/publish"
    assert post_json(world.client, publish, {}, world.token("supervisor")).status_code == 403
    published = post_json(world.client, publish, {}, world.token("admin"))
    assert published.status_code == 200 and published.get_json()["is_published"] is True

    override = post_json(
        world.client,
        f"/api/v1/units/{unit}/override",
        {"zone": "merah", "reason": "Pungutan liar dilaporkan warga"},
        world.token("supervisor"),
    )
    assert override.status_code == 201, override.get_json()

    finding = world.get(f"{INSPECTIONS}/{inspection_id}", "supervisor").get_json()["findings"][0]
    assert finding["rule"] == "fee.above_legal"
    objection = post_json(
        world.client,
        f"/api/v1/findings/{finding['id']}/objections",
        {"text": "Tarif Rp25.000 adalah untuk layanan lain, bukan KTP-el"},
        world.token("supervisor"),
    ).get_json()
    decided = post_json(
        world.client,
        f"/api/v1/objections/{objection['id']}/decision",
        {"decision": "upheld", "reason": "Papan tarif keliru dibaca"},
        world.token("supervisor"),
    )
    assert decided.status_code == 200, decided.get_json()
    inspection = world.get(f"{INSPECTIONS}/{inspection_id}", "supervisor").get_json()
    assert inspection["score"] == 100.0  # re-scored at once without the withdrawn finding

    second = _zoning_run(world, runner)
    assert second != first
    shown = world.get(f"/api/v1/units/{unit}/result?run={second}", "supervisor").get_json()
    assert (shown["score"], shown["zone"], shown["is_reproducible"]) == (100.0, "hijau", True)
    assert shown["findings"] == []  # the withdrawn finding stays out of the re-derivation
    assert shown["override"]["zone"] == "merah" and shown["final_zone"] == "merah"
    assert shown["override"]["by"]["id"] == world.ids["supervisor"]
    rows = world.get(f"/api/v1/results?run={second}", "supervisor").get_json()["items"]
    assert [(r["code"], r["zone"], r["final_zone"]) for r in rows] == [(unit, "hijau", "merah")]

    def audited(query: str) -> list[str]:
        items = world.get(f"{AUDIT}?{query}", "admin").get_json()["items"]
        return [i["action"] for i in reversed(items)]

    assert audited(f"object=zoning_run:{first}") == ["zoning_run.request", "zoning_run.publish"]
    assert audited(f"object=unit:{unit}") == ["unit.override"]
    assert audited(f"object=objection:{objection['id']}") == [
        "objection.create",
        "objection.decide",
    ]
    assert audited(f"object=inspection:{inspection_id}")[-1] == "inspection.rescore"
    rescore = world.get(f"{AUDIT}?action=inspection.rescore", "supervisor").get_json()["items"][0]
    assert (rescore["before"]["score"], rescore["after"]["score"]) == ("92.00", "100.00")


def test_relinked_chain_is_detected(world, app, runner):
    world.post()
    _seal(app)
    _tamper(app, f"UPDATE audit_seals SET prev_hash = '{'f' * 64}' WHERE seq = 3")  # noqa: S608 - constant
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "Link 3 (entry 3) does not follow" in result.output


def test_update_delete_and_truncate_are_refused_by_the_database(world, app):
    world.post()
    _seal(app)
    statements = [
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
        "UPDATE audit_seals SET hash = 'x'",
        "DELETE FROM audit_seals",
    ]
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            statements += ["TRUNCATE audit_log CASCADE", "TRUNCATE audit_seals"]
    for statement in statements:
        with app.app_context():
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()


def test_empty_log_verifies(app, runner):
    result = runner.invoke(args=["audit", "verify"])
    assert (result.exit_code, result.output.strip()) == (
        0,
        "ok: 0 entries sealed, 0 not yet sealed",
    )


def test_concurrent_appends_keep_one_chain(app, database_url):
    """Writers in separate threads and connections while a sealer runs: one unbroken chain."""
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with app.app_context():
                for i in range(5):
                    record("test.write", "thing", f"{n}-{i}", after={"n": n, "i": i})
                    db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    def sealer() -> None:
        try:
            with app.app_context():
                for _ in range(5):
                    seal()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=sealer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        seal()
        report = verify()
        first = db.session.execute(text("SELECT prev_hash FROM audit_seals WHERE seq = 1")).scalar()
    assert (report.links, report.unsealed, report.problems, first) == (20, 0, [], GENESIS)


def test_the_chain_check_over_the_api_is_for_national_admins(world, app):
    world.post()
    chain = f"{AUDIT}/chain"
    assert world.get(chain, "supervisor").status_code == 403
    refused = world.get(chain, "admin_out")
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"
    before = world.get(chain, "admin").get_json()
    assert (before["ok"], before["links"], before["vouched_to"]) == (True, 0, None)
    assert before["unsealed"] > 0 and before["problems"] == []
    entry = world.get(f"{AUDIT}?action=inspection.submit", "admin").get_json()["items"][0]
    assert (entry["seq"], entry["hash"]) == (None, None)  # not sealed yet

    _seal(app)
    entry = world.get(f"{AUDIT}?action=inspection.submit", "admin").get_json()["items"][0]
    assert entry["seq"] >= 1 and len(entry["hash"]) == 64 and len(entry["prev_hash"]) == 64
    sealed = world.get(chain, "admin").get_json()
    assert (sealed["ok"], sealed["unsealed"], sealed["links"]) == (True, 0, before["unsealed"])
    assert sealed["vouched_to"]["seq"] == sealed["links"]
    assert sealed["anchored_since"]["at"].endswith("Z")

    _tamper(app, f"UPDATE audit_log SET action = 'x' WHERE id = {entry['id']}")  # noqa: S608
    broken = world.client.get(
        chain, headers={"Authorization": f"Bearer {world.token('admin')}", "Accept-Language": "id"}
    ).get_json()
    assert broken["ok"] is False
    assert [(p["code"], p["entry_id"]) for p in broken["problems"]] == [("altered", entry["id"])]
    assert broken["problems"][0]["message"].startswith(f"Entri {entry['id']} ")


def test_supervisor_sees_entries_of_their_region_only(world):
    world.post()
    world.post(who="admin", unit="13.71-DUKCAPIL")

    def regions(who):
        items = world.get(f"{AUDIT}?object=inspection:1", who).get_json()["items"]
        items += world.get(f"{AUDIT}?object=inspection:2", who).get_json()["items"]
        return sorted({i["region_code"] for i in items})

    assert regions("supervisor") == ["35.15"]
    assert regions("supervisor_out") == ["13.71"]
    assert regions("admin") == ["13.71", "35.15"]
    assert world.get(AUDIT, "surveyor").status_code == 403
    # National user changes (region NULL) are for national readers only.
    national = world.get(f"{AUDIT}?action=user.create", "admin").get_json()["total"]
    regional = world.get(f"{AUDIT}?action=user.create", "supervisor").get_json()["total"]
    assert national == 6 and regional == 3


@pytest.mark.parametrize(
    "query", ["object=inspection", "object=:1", "since=yesterday", "actor=x", "colour=red"]
)
def test_bad_audit_arguments_are_422(world, query):
    response = world.get(f"{AUDIT}?{query}", "admin")
    assert response.status_code == 422
    # The field path is the parameter named.
    assert list(response.get_json()["error"]["details"]["fields"]) == [query.split("=")[0]]
