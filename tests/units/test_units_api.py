"""Units, regions, methodologies and services as phones fetch them."""

from __future__ import annotations

from tests.helpers import auth


def test_units_are_listed_within_scope_and_searchable(client, factory):
    factory.units()
    _, jatim = factory.user("surveyor", "35")
    _, admin = factory.user("admin")
    listing = client.get("/api/v1/units", headers=auth(jatim)).get_json()
    assert listing["total"] == 8
    assert all(u["region"]["code"].startswith("35.") for u in listing["items"])
    everything = client.get("/api/v1/units?per_page=500", headers=auth(admin)).get_json()
    assert everything["total"] == 18
    sidoarjo = client.get("/api/v1/units?region=35.15", headers=auth(admin)).get_json()
    assert {u["code"] for u in sidoarjo["items"]} >= {"35.15-DUKCAPIL", "35.15-SATPAS"}
    found = client.get("/api/v1/units?q=imigrasi", headers=auth(admin)).get_json()
    assert {u["code"] for u in found["items"]} == {"13.71-KANIM", "21.71-KANIM"}
    # What is typed is searched for: "_" and "%" are characters, not LIKE wildcards.
    for q in ("_", "%25", "Dinas%25Sidoarjo"):
        assert client.get(f"/api/v1/units?q={q}", headers=auth(admin)).get_json()["total"] == 0
    nul = client.get("/api/v1/units?q=%00", headers=auth(admin))
    assert nul.status_code == 422 and list(nul.get_json()["error"]["details"]["fields"]) == ["q"]
    # In a path a NUL names nothing, on either database (PostgreSQL refused the lookup: 422).
    for url in ("/api/v1/units/35.15-DUKCAPIL%00", "/api/v1/regions/%00"):
        assert client.get(url, headers=auth(admin)).status_code == 404


def test_one_unit_has_agency_region_location_and_services(client, factory):
    factory.units()
    _, token = factory.user("surveyor", "35")
    unit = client.get("/api/v1/units/35.15-DUKCAPIL", headers=auth(token)).get_json()
    assert unit["agency"] == {
        "code": "PEMKAB-35.15",
        "name": "Pemerintah Kabupaten Sidoarjo",
        "kind": "pemkab",
        "region_code": "35.15",
    }
    assert unit["region"] == {"code": "35.15", "name": "Kab. Sidoarjo", "timezone": "Asia/Jakarta"}
    assert unit["location"] == {"lat": -7.4478, "lon": 112.7183}
    assert "adminduk.ktp-el" in unit["services"]
    outside = client.get("/api/v1/units/13.71-DUKCAPIL", headers=auth(token))
    assert outside.status_code == 404


def test_regions_cover_indonesia_with_time_zones(client, factory):
    _, token = factory.user("admin")
    provinces = client.get("/api/v1/regions?level=province&per_page=100", headers=auth(token))
    assert provinces.get_json()["total"] == 38
    regencies = client.get("/api/v1/regions?level=regency", headers=auth(token)).get_json()
    assert regencies["total"] == 514
    papua = client.get("/api/v1/regions/91.71", headers=auth(token)).get_json()
    assert papua["timezone"] == "Asia/Jayapura"
    assert client.get("/api/v1/regions/99", headers=auth(token)).status_code == 404


def test_methodology_is_cacheable_by_etag(client, factory):
    _, token = factory.user("surveyor")
    listing = client.get("/api/v1/methodologies", headers=auth(token)).get_json()
    assert "ombudsman-2019" in {m["id"] for m in listing["items"]}
    first = client.get("/api/v1/methodologies/ombudsman-2019", headers=auth(token))
    body = first.get_json()
    assert first.headers["ETag"]
    indicator = next(i for i in body["indicators"] if i["code"] == "SV-BIAYA")
    assert indicator["scope"] == "service" and indicator["component"] == "biaya"
    assert {
        "code",
        "dimension",
        "question",
        "answer",
        "weight",
        "legal_basis",
        "photo_required",
    } <= set(indicator)
    assert [b["zone"] for b in body["bands"]].count("hijau") >= 1
    assert body["rounding"] == {"places": 2, "mode": "half_up"}
    again = client.get(
        "/api/v1/methodologies/ombudsman-2019",
        headers={**auth(token), "If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304
    assert client.get("/api/v1/methodologies/nope", headers=auth(token)).status_code == 404


def test_services_carry_legal_values_with_citations(client, factory):
    _, token = factory.user("surveyor")
    services = client.get("/api/v1/services", headers=auth(token)).get_json()["items"]
    ktp = next(s for s in services if s["code"] == "adminduk.ktp-el")
    fee = next(v for v in ktp["legal_values"] if v["kind"] == "fee_max")
    assert (fee["value"], fee["citation"]) == (0, "UU 24/2013 Pasal 79A")
    assert fee["valid_from"] and fee["confidence"] in {"verified", "secondary", "unverified"}


def test_reference_lists_page_like_every_other_list(client, factory):
    _, token = factory.user("surveyor")
    everything = client.get("/api/v1/services", headers=auth(token)).get_json()
    second = client.get("/api/v1/services?page=2&per_page=5", headers=auth(token))
    body = second.get_json()
    assert (body["page"], body["per_page"], body["total"]) == (2, 5, everything["total"])
    assert body["items"] == everything["items"][5:10]
    assert (
        second.headers["ETag"]
        != client.get("/api/v1/services", headers=auth(token)).headers["ETag"]
    )
    for url in ("/api/v1/services", "/api/v1/methodologies"):
        for query in ("page=0", "per_page=abc", "colour=red"):
            response = client.get(f"{url}?{query}", headers=auth(token))
            assert response.status_code == 422, (url, query)


def test_in_region_matches_a_region_and_exactly_its_descendants(app):
    """The SQL "in region" condition (a range on SQLite) selects, for every region of the
    Kemendagri list, the region itself and the regions below it, nothing else."""
    from sqlalchemy import select

    from fieldcheck.extensions import db
    from fieldcheck.regions.models import Region
    from fieldcheck.regions.services import in_region

    with app.app_context():
        codes = list(db.session.execute(select(Region.code)).scalars())
        assert len(codes) == 552
        for region in codes:
            found = set(
                db.session.execute(
                    select(Region.code).where(in_region(Region.code, region))
                ).scalars()
            )
            assert found == {c for c in codes if c == region or c.startswith(region + ".")}
