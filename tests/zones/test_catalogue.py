"""The zone catalogue is the one home of zones: the file, its checks, the database's reference
table and foreign keys, the generated colours, and the three-zone methodology unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from fieldcheck import create_app
from fieldcheck.catalogue import CatalogueError, load_methodology
from fieldcheck.catalogue.models import ZoneCode
from fieldcheck.catalogue.registry import METHODOLOGY_DIR
from fieldcheck.catalogue.zones import ZONES_FILE, load_zones, shipped_zones
from fieldcheck.extensions import db
from tests.helpers import auth, post_json
from tests.zones.conftest import METHODOLOGIES


def test_the_shipped_catalogue_lists_four_zones_worst_first():
    zones = shipped_zones()
    assert [z.code for z in zones] == ["hitam", "merah", "kuning", "hijau"]
    hitam = zones[0]
    assert hitam.confidence == "unverified" and "61/2025" in hitam.source
    assert all(z.colour.startswith("#") and len(z.colour) == 7 for z in zones)


def test_the_zones_table_holds_exactly_the_catalogue_codes(app):
    # A zone added to zones.toml needs a migration inserting its code: this fails until then.
    with app.app_context():
        stored = set(db.session.execute(select(ZoneCode.code)).scalars())
    assert stored == {z.code for z in shipped_zones()}


def test_the_three_zone_methodology_is_unchanged():
    methodology = load_methodology(METHODOLOGY_DIR / "ombudsman-2019.toml")
    assert methodology.zones == ("merah", "kuning", "hijau")
    assert [(str(b.min), b.zone) for b in methodology.bands] == [
        ("81.00", "hijau"),
        ("51.00", "kuning"),
        ("0.00", "merah"),
    ]


def test_a_band_naming_an_unknown_zone_is_refused(tmp_path: Path):
    source = (METHODOLOGIES / "uji-empat-zona.toml").read_text(encoding="utf-8")
    broken = tmp_path / "ungu.toml"
    broken.write_text(source.replace('zone = "hitam"', 'zone = "ungu"'), encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_methodology(broken)
    message = str(caught.value)
    assert "ungu.toml: bands[3].zone" in message and "'ungu'" in message
    assert "hitam, merah, kuning, hijau" in message


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('code = "hitam"', 'code = "Hitam!"', "zones[0].code: must be 1-8 lowercase letters"),
        ('colour = "#1f1f1f"', 'colour = "black"', "zones[0].colour: expected #rrggbb"),
        ('code = "merah"', 'code = "hitam"', "zones[1].code: duplicate zone 'hitam'"),
        ('confidence = "unverified"', 'confidence = "maybe"', "zones[0].confidence: must be"),
    ],
)
def test_a_broken_zone_catalogue_is_refused_naming_the_field(tmp_path, old, new, problem):
    path = tmp_path / "zones.toml"
    path.write_text(ZONES_FILE.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_zones(path)
    assert f"zones.toml: {problem}" in str(caught.value)


def test_the_database_refuses_a_zone_outside_the_catalogue(app, client, factory):
    from fieldcheck.inspections.models import Inspection

    factory.units()
    _id, admin = factory.user("admin")
    body = factory.all_yes_submission()
    created = post_json(client, "/api/v1/inspections", body, admin)
    assert created.status_code == 201, created.get_json()
    with app.app_context():
        with pytest.raises(IntegrityError):
            db.session.execute(
                update(Inspection)
                .where(Inspection.id == created.get_json()["id"])
                .values(zone="ungu")
            )
            db.session.flush()
        db.session.rollback()
        # hitam is a known zone: the database takes it (the methodology decides whether it
        # is used).
        db.session.execute(
            update(Inspection).where(Inspection.id == created.get_json()["id"]).values(zone="hitam")
        )
        db.session.commit()


def test_with_only_three_zone_methodologies_an_override_to_hitam_is_refused(
    database_url, tmp_path, app
):
    # ``app`` (four zones) empties the tables afterwards; this one loads the shipped files only.
    plain = create_app({"DATABASE_URL": database_url, "TESTING": True})
    plain.instance_path = str(tmp_path / "plain")
    from tests.conftest import Factory

    try:
        factory = Factory(plain)
        factory.units()
        _id, admin = factory.user("admin")
        client = plain.test_client()
        response = post_json(
            client, "/api/v1/units/35.15-DUKCAPIL/override", {"zone": "hitam", "reason": "x"}, admin
        )
        assert response.status_code == 422, response.get_json()
        fields = response.get_json()["error"]["details"]["fields"]
        assert "merah, kuning, hijau" in fields["zone"][0]
        maps = client.get("/api/v1/map/provinces", headers=auth(admin)).get_json()
        assert [z["code"] for z in maps["zones"]] == ["merah", "kuning", "hijau"]
    finally:
        with plain.app_context():
            db.engine.dispose()


def test_the_zone_stylesheet_is_generated_from_the_catalogue(client):
    from fieldcheck.web.zones import zones_css_url

    with client.application.test_request_context():
        url = zones_css_url()
    assert client.get("/login").get_data(as_text=True).count(url) == 1
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/css"
    css = response.get_data(as_text=True)
    for zone in shipped_zones():
        assert (
            f".zone-{zone.code} {{ background: {zone.colour}; color: {zone.text_colour}; }}" in css
        )
        assert f".zone-fill-{zone.code} {{ fill: {zone.colour}; }}" in css
    assert response.cache_control.max_age == 86400
    again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    # An older name (a page cached across a release) still gets the current colours.
    stale = client.get("/zones/0123456789abcdef.css")
    assert stale.get_data(as_text=True) == css and stale.cache_control.max_age == 300


def test_extra_methodology_folders_refuse_a_repeated_id(database_url, tmp_path):
    twin = tmp_path / "twin"
    twin.mkdir()
    shutil.copy(METHODOLOGIES / "uji-empat-zona.toml", twin / "a.toml")
    shutil.copy(METHODOLOGIES / "uji-empat-zona.toml", twin / "b.toml")
    with pytest.raises(CatalogueError, match="duplicate methodology id 'uji-empat-zona'"):
        create_app({"DATABASE_URL": database_url, "EXTRA_METHODOLOGY_DIRS": str(twin)})


def test_migrated_constraints_are_foreign_keys(app):
    with app.app_context():
        inspector = db.inspect(db.engine)
        for table in ("inspections", "unit_overrides"):
            keys = {
                (tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            }
            assert (("zone",), "zones") in keys, table
            checks = [c["name"] for c in inspector.get_check_constraints(table)]
            assert f"ck_{table}_zone" not in checks
        assert db.session.execute(text("SELECT count(*) FROM zones")).scalar_one() == 4
