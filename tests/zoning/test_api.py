"""Zoning HTTP API: roles, scope, validation errors, pagination, N+1 guard, unit results."""

from __future__ import annotations

import pytest

from tests.helpers import auth, count_queries


@pytest.fixture
def published(zoning):
    """Inspections in Jawa Timur, Sumatera Barat and Jawa Barat, and a published run."""
    for code, noes in [
        ("35.15-DUKCAPIL", 2),
        ("35.15-DUKCAPIL", 4),
        ("35.15-SATPAS", 9),
        ("35.78-DUKCAPIL", 0),
        ("13.71-KANIM", 6),
        ("32.73-DPMPTSP", 11),
    ]:
        zoning.inspect(code, noes)
    assert zoning.rescore("--publish").exit_code == 0
    return zoning


def test_results_are_for_supervisors_and_admins_within_scope(published, client, factory) -> None:
    _, surveyor = factory.user("surveyor", "35")
    _, jatim = factory.user("supervisor", "35")
    assert client.get("/api/v1/results").status_code == 401
    assert client.get("/api/v1/results", headers=auth(surveyor)).status_code == 403

    national = client.get("/api/v1/results?level=province", headers=auth(published.admin))
    assert {r["code"] for r in national.get_json()["items"]} == {"35", "13", "32"}
    scoped = client.get("/api/v1/results?level=unit", headers=auth(jatim)).get_json()
    assert {r["code"][:2] for r in scoped["items"]} == {"35"}
    assert scoped["total"] == 3
    item = scoped["items"][0]
    assert set(item) >= {"code", "name", "level", "score", "zone", "grade", "rank", "run_id"}


def test_results_filters_and_pagination(published, client) -> None:
    admin = published.admin
    everything = client.get("/api/v1/results?level=unit", headers=auth(admin)).get_json()
    merah = client.get("/api/v1/results?level=unit&zone=merah", headers=auth(admin)).get_json()
    assert merah["total"] == sum(1 for r in everything["items"] if r["zone"] == "merah") >= 1
    region = client.get("/api/v1/results?level=unit&region=35.15", headers=auth(admin)).get_json()
    assert {r["code"] for r in region["items"]} == {"35.15-DUKCAPIL", "35.15-SATPAS"}
    page = client.get("/api/v1/results?level=unit&per_page=2&page=2", headers=auth(admin))
    body = page.get_json()
    assert (body["page"], body["per_page"], body["total"], len(body["items"])) == (2, 2, 5, 2)
    assert body["items"] == everything["items"][2:4]


@pytest.mark.parametrize(
    "query, field",
    [
        ("level=city", "level"),
        ("zone=ungu", "zone"),
        ("run=abc", "run"),
        ("region=35x", "region"),
        ("methodology=nope", "methodology"),
        ("colour=red", "colour"),
    ],
)
def test_bad_result_queries_are_422(published, client, query, field) -> None:
    response = client.get(f"/api/v1/results?{query}", headers=auth(published.admin))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]


def test_results_list_runs_a_fixed_number_of_queries(published, client, app) -> None:
    for code, noes in [("13.71-SATPAS", 1), ("32.09-DUKCAPIL", 3), ("73.71-DUKCAPIL", 5)]:
        published.inspect(code, noes)
    assert published.rescore("--publish").exit_code == 0
    counts = []
    for per_page in (2, 8):
        with count_queries(app) as statements:
            response = client.get(
                f"/api/v1/results?level=unit&per_page={per_page}", headers=auth(published.admin)
            )
        assert response.status_code == 200 and len(response.get_json()["items"]) == per_page
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 6


def test_unknown_runs_and_units_are_404(published, client, factory) -> None:
    admin = published.admin
    assert client.get("/api/v1/zoning-runs/999", headers=auth(admin)).status_code == 404
    assert client.get("/api/v1/zoning-runs/999/changes", headers=auth(admin)).status_code == 404
    assert client.get("/api/v1/results?run=999", headers=auth(admin)).status_code == 404
    assert client.get("/api/v1/units/NOPE/result", headers=auth(admin)).status_code == 404
    no_result = client.get("/api/v1/units/21.71-KANIM/result", headers=auth(admin))
    assert no_result.status_code == 404
    _, sumbar = factory.user("supervisor", "13")
    hidden = client.get("/api/v1/units/35.15-DUKCAPIL/result", headers=auth(sumbar))
    assert hidden.status_code == 404


def test_unit_result_explains_the_score(published, client) -> None:
    response = client.get("/api/v1/units/35.15-DUKCAPIL/result", headers=auth(published.admin))
    assert response.status_code == 200
    body = response.get_json()
    assert body["is_published"] is True and body["is_reproducible"] is True
    assert len(body["inspections"]) == 2
    scores = [i["score"] for i in body["inspections"]]
    assert body["score"] == round((scores[0] + scores[1]) / 2 + 1e-9, 2)
    assert {d["code"] for d in body["dimensions"]} >= {"standar_pelayanan", "pengaduan"}
    assert all("citation" in f and f["citation"] for f in body["findings"])
    # As on the inspection: which component a finding concerns, and the sanction the law sets.
    assert all({"component", "sanction"} <= set(f) for f in body["findings"])
    assert any(f["sanction"] for f in body["findings"])
    assert any(i["code"] == "SP-01" and i["value"] is not None for i in body["indicators"])
    assert body["methodology"] == "ombudsman-2019"


def test_unit_result_findings_are_rendered_in_the_readers_language(published, client) -> None:
    url = "/api/v1/units/35.15-DUKCAPIL/result"
    texts = {}
    for language in ("id", "en"):
        response = client.get(url, headers={**auth(published.admin), "Accept-Language": language})
        assert response.headers["Content-Language"] == language
        texts[language] = [f["message"] for f in response.get_json()["findings"]]
    assert texts["id"] and len(texts["id"]) == len(texts["en"])
    assert not any("%(" in text for text in texts["id"] + texts["en"])
    assert texts["id"] != texts["en"]


def test_post_zoning_run_validation_and_roles(published, client, factory) -> None:
    admin = published.admin
    _, surveyor = factory.user("surveyor", "35")
    _, jatim = factory.user("supervisor", "35")
    url = "/api/v1/zoning-runs"
    assert client.post(url, json={}, headers=auth(surveyor)).status_code == 403
    cases = [
        ({"methodology": "nope"}, "methodology"),
        ({"weights": {"SP-01": 2}}, "weights"),
        ({"dry_run": True, "weights": {"XX-99": 2}}, "weights.XX-99"),
        ({"dry_run": True, "weights": {"SP-01": -1}}, "weights.SP-01"),
        ({"region": "99"}, "region"),
        ({"period": 1900}, "period"),
        ({"period": 2010}, "period"),  # before ombudsman-2019 took effect (2015)
        ({"colour": "red"}, "colour"),
        ({"dry_run": "yes"}, "dry_run"),
        ({"dry_run": 1}, "dry_run"),
        ({"full": "true"}, "full"),
    ]
    for body, field in cases:
        response = client.post(url, json=body, headers=auth(admin))
        assert response.status_code == 422, body
        assert field in response.get_json()["error"]["details"]["fields"], body
    assert client.post(url, json={"region": "13"}, headers=auth(jatim)).status_code == 403
    mine = client.post(url, json={}, headers=auth(jatim))
    assert mine.status_code == 202
    assert mine.get_json()["region"] == "35" and mine.headers["Location"].endswith(
        f"/api/v1/zoning-runs/{mine.get_json()['id']}"
    )
    _, sumbar = factory.user("supervisor", "13")
    run_id = mine.get_json()["id"]
    assert client.get(f"/api/v1/zoning-runs/{run_id}", headers=auth(sumbar)).status_code == 404
    listed = client.get("/api/v1/zoning-runs", headers=auth(sumbar)).get_json()
    assert run_id not in {r["id"] for r in listed["items"]}
    # Still queued (no scheduler here): it has no results yet, and says so.
    for path in ("/api/v1/results", "/api/v1/units/35.15-DUKCAPIL/result"):
        early = client.get(f"{path}?run={run_id}", headers=auth(jatim))
        assert early.status_code == 409
        assert early.get_json()["error"]["details"] == {"run_id": run_id, "state": "queued"}


def test_changes_list_zone_moves_against_the_published_run(published, client) -> None:
    published.inspect("35.15-SATPAS", 0)
    published.inspect("35.15-SATPAS", 0)
    published.inspect("35.15-SATPAS", 0)
    assert published.rescore().exit_code == 0
    run_id = published.last_run_id()
    body = client.get(
        f"/api/v1/zoning-runs/{run_id}/changes?level=unit", headers=auth(published.admin)
    ).get_json()
    (change,) = body["items"]
    assert change["code"] == "35.15-SATPAS" and change["old_zone"] != change["new_zone"]
    assert change["zone_moved"] is True and change["delta"] > 0
    assert body["compared_run_id"] == published.last_run_id() - 1


def test_a_regional_publication_is_what_its_region_reads(published, client, factory) -> None:
    """A regional office runs and publishes its region: readers of that region get it by default
    (the latest publication covering them), everyone else keeps the national one. A run of a
    region shows only aggregates it computed whole: no province row for a regency, no row for
    a national agency with one unit there."""
    zoning = published
    factory.units(
        "code,name,agency_code,agency_name,agency_kind,region_code,unit_type,lat,lon,services\n"
        "35.15-BPJS,BPJS Kesehatan Sidoarjo,BPJS,BPJS Kesehatan,lembaga,35.15,kantor,,,\n"
        "13.71-BPJS,BPJS Kesehatan Padang,BPJS,BPJS Kesehatan,lembaga,13.71,kantor,,,\n"
    )
    zoning.inspect("35.15-BPJS", 3)
    zoning.inspect("13.71-BPJS", 1)
    assert zoning.rescore("--publish").exit_code == 0
    national = zoning.last_run_id()
    zoning.inspect("35.15-DUKCAPIL", 10)  # Sidoarjo's office visits again and re-runs
    blank = zoning.rescore("--region", " ", "--publish")  # not silently the whole country
    assert blank.exit_code == 2 and zoning.last_run_id() == national
    assert zoning.rescore("--region", "35.15", "--publish").exit_code == 0
    sidoarjo = zoning.last_run_id()

    rows = {(r[0], r[1]) for r in zoning.rows(sidoarjo)}
    assert {code for level, code in rows if level != "unit"} == {
        "PEMKAB-35.15",
        "POLRESTA-35.15",
        "35.15",
    }
    assert ("unit", "35.15-BPJS") in rows  # the unit is there; its national agency is not
    whole = {(r[0], r[1]) for r in zoning.rows(national)}
    assert {("agency", "BPJS"), ("province", "35")} <= whole

    admin = zoning.admin

    def results(query, token=admin):
        return client.get(f"/api/v1/results?{query}", headers=auth(token)).get_json()

    assert results("level=unit&region=35.15")["run_id"] == sidoarjo
    assert results("level=unit&region=35")["run_id"] == national  # 35.15's run is not all of 35
    assert results("level=unit")["run_id"] == national
    _, jatim = factory.user("supervisor", "35")
    assert results("level=unit", jatim)["run_id"] == national
    _, sidoarjo_office = factory.user("supervisor", "35.15")
    assert results("level=regency", sidoarjo_office)["run_id"] == sidoarjo
    unit = client.get("/api/v1/units/35.15-DUKCAPIL/result", headers=auth(admin)).get_json()
    assert unit["run_id"] == sidoarjo
    other = client.get("/api/v1/units/35.78-DUKCAPIL/result", headers=auth(admin)).get_json()
    assert other["run_id"] == national

    # The national office publishes again: the newest publication covering 35.15 wins.
    assert zoning.rescore("--publish").exit_code == 0
    assert results("level=unit&region=35.15")["run_id"] == zoning.last_run_id()
    # Then Jawa Timur's office publishes its province: Sidoarjo's users read it too (their
    # region lies in it), as everyone asking about 35 or below does.
    assert zoning.rescore("--region", "35", "--publish").exit_code == 0
    jawa_timur = zoning.last_run_id()
    assert results("level=regency", sidoarjo_office)["run_id"] == jawa_timur
    assert results("level=unit", jatim)["run_id"] == jawa_timur
    assert (
        client.get(f"/api/v1/zoning-runs/{jawa_timur}", headers=auth(sidoarjo_office)).status_code
        == 200
    )
    listed = client.get("/api/v1/zoning-runs", headers=auth(sidoarjo_office)).get_json()
    assert jawa_timur in {r["id"] for r in listed["items"]}
