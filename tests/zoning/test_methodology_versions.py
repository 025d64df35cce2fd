"""Issue 16: a what-if with a draft methodology version and its zone diff; publishing it and
running again changes the zones; re-running the earlier run reproduces every stored number."""

from __future__ import annotations

from tests.helpers import auth, post_json
from tests.methodologies.versions import version_toml


def _execute(app, run_id: int) -> str:
    from fieldcheck.zoning.lifecycle import execute

    with app.app_context():
        return execute(run_id).state


def _upload_v2(client, admin) -> None:
    response = client.post(
        "/api/v1/methodologies",
        data=version_toml(2).encode(),
        headers=auth(admin),
        content_type="application/toml",
    )
    assert response.status_code == 201, response.get_json()


def test_what_if_with_a_draft_then_publish_then_rerun_reproduces(zoning, client, app) -> None:
    admin = zoning.admin
    # Scores 100, ~90 and lower: version 2's stricter bands move the middle ones down.
    for code, noes in [
        ("35.15-DUKCAPIL", 0),
        ("35.15-SATPAS", 2),
        ("35.78-DUKCAPIL", 4),
        ("13.71-KANIM", 9),
    ]:
        zoning.inspect(code, noes)
    assert zoning.rescore("--publish").exit_code == 0
    v1_run = zoning.last_run_id()
    v1_rows = zoning.rows(v1_run)
    assert zoning.run(v1_run).methodology_version == 1

    _upload_v2(client, admin)
    # An official run may not use a draft; a what-if may.
    official = post_json(
        client, "/api/v1/zoning-runs", {"methodology": "ombudsman-2019", "version": 2}, admin
    )
    assert official.status_code == 422
    assert "methodology" in official.get_json()["error"]["details"]["fields"]
    missing = post_json(
        client,
        "/api/v1/zoning-runs",
        {"methodology": "ombudsman-2019", "version": 7, "dry_run": True},
        admin,
    )
    assert missing.status_code == 422
    what_if = post_json(
        client,
        "/api/v1/zoning-runs",
        {"methodology": "ombudsman-2019", "version": 2, "dry_run": True, "period": 2026},
        admin,
    )
    assert what_if.status_code == 202, what_if.get_json()
    what_if_id = what_if.get_json()["id"]
    assert what_if.get_json()["methodology_version"] == 2
    assert _execute(app, what_if_id) == "succeeded"

    diff = client.get(f"/api/v1/zoning-runs/{what_if_id}/diff", headers=auth(admin)).get_json()
    assert diff["against_run_id"] == v1_run
    assert (diff["methodology_version"], diff["against_methodology_version"]) == (2, 1)
    units = {m["code"]: m for m in diff["items"] if m["level"] == "unit"}
    assert units, diff
    old = {r[1]: r for r in v1_rows if r[0] == "unit"}
    for code, move in units.items():
        assert move["old_zone"] == old[code][6] != move["new_zone"]
        assert move["old_score"] == float(old[code][5])
    # 100 stays hijau under both versions: not a move.
    assert "35.15-DUKCAPIL" not in units
    only_units = client.get(
        f"/api/v1/zoning-runs/{what_if_id}/diff?level=unit&against={v1_run}",
        headers=auth(admin),
    ).get_json()
    assert [m["code"] for m in only_units["items"]] == sorted(units)
    assert (
        client.get(
            f"/api/v1/zoning-runs/{what_if_id}/diff?level=x", headers=auth(admin)
        ).status_code
        == 422
    )

    # Publish version 2 from the start of the period; the next real run uses it.
    publish = "/api/v1/methodologies/ombudsman-2019/versions/2/publish"
    assert post_json(client, publish, {"effective_from": "2026-01-01"}, admin).status_code == 200
    assert zoning.rescore("--full").exit_code == 0
    v2_run = zoning.last_run_id()
    assert zoning.run(v2_run).methodology_version == 2
    v2_rows = zoning.rows(v2_run)
    assert {r[1]: r[6] for r in v2_rows if r[0] == "unit"} != {
        r[1]: r[6] for r in v1_rows if r[0] == "unit"
    }

    # The v1 run again: its own version and hash, and every stored number as before.
    rerun = client.post(f"/api/v1/zoning-runs/{v1_run}/rerun", headers=auth(admin))
    assert rerun.status_code == 202, rerun.get_json()
    body = rerun.get_json()
    assert (body["methodology_version"], body["methodology_hash"]) == (
        1,
        zoning.run(v1_run).methodology_hash,
    )
    assert _execute(app, body["id"]) == "succeeded"
    again = zoning.rows(body["id"])
    assert again == v1_rows
    # Not a what-if of version 2 in disguise: it differs from the v2 run.
    assert again != v2_rows
    # The rerun says which run it repeats and that every number was reproduced (API and page).
    check = client.get(f"/api/v1/zoning-runs/{body['id']}", headers=auth(admin)).get_json()
    assert check["rerun_of"] == v1_run
    assert check["rerun"] == {
        "of": v1_run,
        "reproduced": True,
        "differences": [],
        "difference_count": 0,
    }
    assert (
        client.get(f"/api/v1/zoning-runs/{v1_run}", headers=auth(admin)).get_json()["rerun"] is None
    )
    assert client.post("/api/v1/zoning-runs/999999/rerun", headers=auth(admin)).status_code == 404

    # The command line says so too, and a what-if of version 1 by version is the v1 run's twin.
    result = zoning.runner.invoke(args=["rerun", str(v1_run)])
    assert result.exit_code == 0, result.output
    assert f"every result row equals run #{v1_run}'s" in result.output
    by_version = zoning.rescore("--dry-run", "--methodology-version", "1")
    assert by_version.exit_code == 0, by_version.output
    assert zoning.rows(zoning.last_run_id()) == v1_rows


def test_a_rerun_after_the_data_changed_names_the_rows_that_differ(zoning, client, app) -> None:
    admin = zoning.admin
    zoning.inspect("35.15-DUKCAPIL", 0)
    zoning.inspect("35.78-DUKCAPIL", 4)
    assert zoning.rescore().exit_code == 0
    original = zoning.last_run_id()
    # A visit approved after the run: the same version re-reads the period and differs there.
    zoning.inspect("35.78-DUKCAPIL", 0)
    rerun = client.post(f"/api/v1/zoning-runs/{original}/rerun", headers=auth(admin))
    assert rerun.status_code == 202, rerun.get_json()
    queued = client.get(f"/api/v1/zoning-runs/{rerun.get_json()['id']}", headers=auth(admin))
    assert queued.get_json()["rerun"]["reproduced"] is None  # not run yet
    assert _execute(app, rerun.get_json()["id"]) == "succeeded"
    check = client.get(
        f"/api/v1/zoning-runs/{rerun.get_json()['id']}", headers=auth(admin)
    ).get_json()["rerun"]
    assert check["reproduced"] is False
    assert {"level": "unit", "code": "35.78-DUKCAPIL"} in check["differences"]
    assert {"level": "unit", "code": "35.15-DUKCAPIL"} not in check["differences"]
    assert check["difference_count"] == len(check["differences"])
