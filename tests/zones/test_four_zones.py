"""A four-zone methodology (lowest band hitam) end to end: scoring, a run, the dashboard, the
map, an export filter and an override, through HTTP on the real database (issue 16)."""

from __future__ import annotations

import csv
import io

from tests.helpers import post_json
from tests.zones.conftest import FOUR

ORDER = ["hitam", "merah", "kuning", "hijau"]


def test_an_inspection_scores_into_hitam(four_zones):
    hitam, hijau = four_zones.hitam_inspection, four_zones.hijau_inspection
    assert float(hitam["score"]) < 32 and hitam["zone"] == "hitam", hitam
    assert hijau["zone"] == "hijau"
    got = four_zones.get(f"/api/v1/inspections/{hitam['id']}").get_json()
    assert got["zone"] == "hitam"


def test_the_run_counts_four_zones_at_every_level(four_zones):
    run = four_zones.get(f"/api/v1/zoning-runs/{four_zones.run_id}").get_json()
    zones = run["counts"]["zones"]
    for level in ("unit", "agency", "regency", "province"):
        assert set(zones[level]) == set(ORDER), (level, zones[level])
    assert zones["unit"]["hitam"] == 1 and zones["unit"]["hijau"] == 1
    assert zones["province"]["hitam"] == 1  # Sulawesi Selatan: Makassar's unit alone


def test_the_dashboard_has_a_key_per_zone_worst_first(four_zones):
    body = four_zones.get(f"/api/v1/dashboard?methodology={FOUR}").get_json()
    assert body["results"]["run_id"] == four_zones.run_id
    zones = body["results"]["zones"]
    for level in ("unit", "agency", "regency", "province"):
        assert list(zones[level]) == ORDER, level
    assert zones["unit"] == {"hitam": 1, "merah": 0, "kuning": 0, "hijau": 1}
    assert list(body["results"]["final_zones"]["unit"]) == ORDER


def test_the_map_shows_hitam_with_its_legend(four_zones):
    body = four_zones.get(f"/api/v1/map/provinces?methodology={FOUR}").get_json()
    by_code = {f["properties"]["code"]: f["properties"] for f in body["features"]}
    assert by_code["73"]["zone"] == "hitam"
    assert by_code["35"]["zone"] == "hijau"
    legend = {z["code"]: z for z in body["zones"]}
    assert [z["code"] for z in body["zones"]] == ORDER
    assert legend["hitam"]["colour"] == "#1f1f1f" and legend["hitam"]["name"] == "black"
    headers = {"Authorization": f"Bearer {four_zones.admin}", "Accept-Language": "id"}
    in_id = four_zones.client.get(f"/api/v1/map/provinces?methodology={FOUR}", headers=headers)
    assert in_id.get_json()["zones"][0]["name"] == "hitam"


def test_results_export_filtered_by_hitam(four_zones):
    response = four_zones.get(f"/api/v1/exports/results?methodology={FOUR}&zone=hitam")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 2, rows  # the header and Makassar's unit
    assert "73.71-DUKCAPIL" in rows[1] and "hitam" in rows[1]
    unknown = four_zones.get(f"/api/v1/exports/results?methodology={FOUR}&zone=ungu")
    assert unknown.status_code == 422
    assert "zone" in unknown.get_json()["error"]["details"]["fields"]


def test_an_override_to_hitam_is_accepted_and_counted(four_zones):
    response = post_json(
        four_zones.client,
        "/api/v1/units/35.15-DUKCAPIL/override",
        {"zone": "hitam", "reason": "Temuan lapangan berat"},
        four_zones.admin,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["zone"] == "hitam"
    body = four_zones.get(f"/api/v1/dashboard?methodology={FOUR}").get_json()
    assert body["results"]["final_zones"]["unit"] == {
        "hitam": 2,
        "merah": 0,
        "kuning": 0,
        "hijau": 0,
    }
    result = four_zones.get(f"/api/v1/units/35.15-DUKCAPIL/result?methodology={FOUR}").get_json()
    assert result["final_zone"] == "hitam"


def test_the_zone_catalogue_and_the_methodology_name_the_four_zones(four_zones):
    body = four_zones.get("/api/v1/zones").get_json()
    assert [z["code"] for z in body["items"]] == ORDER
    hitam = body["items"][0]
    assert hitam["confidence"] == "unverified" and "2025" in hitam["source"]
    methodology = four_zones.get(f"/api/v1/methodologies/{FOUR}").get_json()
    assert methodology["zones"] == ORDER
    shipped = four_zones.get("/api/v1/methodologies/ombudsman-2019").get_json()
    assert shipped["zones"] == ["merah", "kuning", "hijau"]
