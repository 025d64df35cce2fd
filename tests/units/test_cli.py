"""CLI: users create, import-units, seed-demo."""

from __future__ import annotations

from fieldcheck.auth.models import User
from fieldcheck.units.models import Agency, Unit
from tests.helpers import auth, count_rows

HEADER = "code,name,agency_code,agency_name,agency_kind,region_code,unit_type,lat,lon,services\n"


def test_users_create_prints_the_token_last_and_it_works(runner, client, app):
    result = runner.invoke(
        args=["users", "create", "--name", "Siti", "--role", "supervisor", "--region", "35"]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("fc_")
    assert client.get("/api/v1/units", headers=auth(token)).status_code == 200
    with app.app_context():
        from fieldcheck.auth.models import ApiToken
        from fieldcheck.extensions import db

        stored = db.session.query(ApiToken).one()
        assert token not in (stored.token_hash, stored.prefix)


def test_users_create_refuses_unknown_region_and_role(runner, app):
    assert (
        runner.invoke(
            args=["users", "create", "--name", "X", "--role", "surveyor", "--region", "99"]
        ).exit_code
        != 0
    )
    assert runner.invoke(args=["users", "create", "--name", "X", "--role", "boss"]).exit_code != 0
    for blank in ("", "   "):
        result = runner.invoke(args=["users", "create", "--name", blank, "--role", "admin"])
        assert result.exit_code == 2 and "blank" in result.output
    assert count_rows(app, User) == 0


def test_import_units_then_reimport_updates_without_duplicates(runner, app, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(
        HEADER + "35.15-X,Unit X,AG-1,Agency One,pemkab,35.15,puskesmas,-7.4,112.7,"
        "puskesmas.rawat-jalan\n"
    )
    first = runner.invoke(args=["import-units", str(path)])
    assert first.exit_code == 0, first.output
    assert "1 units added" in first.output
    path.write_text(
        HEADER + "35.15-X,Unit X Baru,AG-1,Agency One,pemkab,35.15,puskesmas,,,"
        "puskesmas.rawat-jalan;adminduk.kk\n"
    )
    second = runner.invoke(args=["import-units", str(path)])
    assert "1 updated" in second.output
    assert count_rows(app, Unit) == 1 and count_rows(app, Agency) == 1
    with app.app_context():
        from fieldcheck.extensions import db

        unit = db.session.query(Unit).one()
        assert (unit.name, unit.lat, unit.service_codes) == (
            "Unit X Baru",
            None,
            ["adminduk.kk", "puskesmas.rawat-jalan"],
        )
        assert unit.agency.region_code == "35.15"


def test_a_bad_row_is_reported_by_line_and_nothing_is_applied(runner, app, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(
        HEADER
        + "35.15-A,Unit A,AG-1,Agency,pemkab,35.15,puskesmas,-7.4,112.7,puskesmas.rawat-jalan\n"
        + "35.15-B,Unit B,AG-1,Agency,pemkab,99.99,puskesmas,-7.4,112.7,puskesmas.rawat-jalan\n"
        + "35.15-C,Unit C,AG-1,Agency,pemkab,35.15,puskesmas,abc,112.7,nope.service\n"
        + "35.15-a,Unit a,AG-1,Agency,pemkab,35.15,puskesmas,,,\n"
    )
    result = runner.invoke(args=["import-units", str(path)])
    assert result.exit_code == 1
    assert ":2:" not in result.output
    assert ":3: unknown region_code 99.99" in result.output
    assert ":4: lat and lon must both be decimal numbers" in result.output
    assert ":4: unknown service code(s): nope.service" in result.output
    assert ":5: code '35.15-a' has characters other than A-Z" in result.output
    assert count_rows(app, Unit) == 0


def test_a_government_unit_outside_its_region_is_refused_not_moved(runner, app, tmp_path, factory):
    """A city government's unit typed into another province would relocate the whole government
    (its agency location becomes "nowhere") and change official aggregates: refused, by line. An
    agency spanning regions by nature moves, and is reported as updated."""
    factory.units()
    path = tmp_path / "units.csv"
    path.write_text(
        HEADER
        + "35.15-PKM-X,Puskesmas X,PEMKOT-13.71,Pemerintah Kota Padang,pemkot,35.15,puskesmas,,,\n"
        + "35.15-KUA-X,KUA X,KEMENAG-35.25,Kantor Kementerian Agama Kab. Gresik,kementerian,"
        "35.15,kua,,,\n"
    )
    result = runner.invoke(args=["import-units", str(path)])
    assert result.exit_code == 1
    assert ":2: PEMKOT-13.71 (pemkot) governs one region" in result.output
    assert ":3:" not in result.output
    with app.app_context():
        from fieldcheck.extensions import db

        padang = db.session.query(Agency).filter_by(code="PEMKOT-13.71").one()
        assert padang.region_code == "13.71"
        assert db.session.query(Unit).filter_by(code="35.15-PKM-X").first() is None

    path.write_text(
        HEADER + "35.15-KUA-X,KUA X,KEMENAG-35.25,Kantor Kementerian Agama Kab. Gresik,"
        "kementerian,35.15,kua,,,\n"
    )
    moved = runner.invoke(args=["import-units", str(path)])
    assert moved.exit_code == 0, moved.output
    assert "0 agencies added, 1 updated" in moved.output
    with app.app_context():
        from fieldcheck.extensions import db

        kemenag = db.session.query(Agency).filter_by(code="KEMENAG-35.25").one()
        assert kemenag.region_code == "35"  # Gresik and Sidoarjo: both in Jawa Timur

    # A provincial government's only unit in a regency: located in the province, not there.
    path.write_text(
        HEADER + "35.16-SAMSAT,Samsat Mojokerto,PEMPROV-35,Pemprov Jatim,pemprov,35.16,samsat,,,\n"
    )
    assert runner.invoke(args=["import-units", str(path)]).exit_code == 0
    with app.app_context():
        from fieldcheck.extensions import db

        assert db.session.query(Agency).filter_by(code="PEMPROV-35").one().region_code == "35"


def test_import_refuses_a_wrong_header(runner, app, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("code,name\nA,B\n")
    result = runner.invoke(args=["import-units", str(path)])
    assert result.exit_code == 1 and ":1: header must be" in result.output


def test_seed_demo_is_repeatable_and_revokes_old_demo_tokens(runner, client, app, tmp_path):
    tokens_file = tmp_path / "tokens.txt"
    first = runner.invoke(args=["seed-demo", "--tokens-file", str(tokens_file)])
    assert first.exit_code == 0, first.output
    old = first.output.split()[-1]
    second = runner.invoke(args=["seed-demo", "--tokens-file", str(tokens_file)])
    new = second.output.split()[-1]
    assert count_rows(app, Unit) == 18 and count_rows(app, User) == 8
    assert client.get("/api/v1/units", headers=auth(old)).status_code == 401
    assert client.get("/api/v1/units", headers=auth(new)).status_code == 200
    assert new in tokens_file.read_text()


def test_seed_demo_keeps_the_tokens_an_admin_issued_to_demo_users(runner, client, app, tmp_path):
    """``make run`` seeds again on every start: only the seed's own tokens (those in the tokens
    file) are replaced; a Collect token an admin made for a demo surveyor keeps working."""
    tokens_file = tmp_path / "tokens.txt"
    first = runner.invoke(args=["seed-demo", "--tokens-file", str(tokens_file)])
    assert first.exit_code == 0, first.output
    rows = [line.split("\t") for line in tokens_file.read_text().splitlines()]
    admin = next(t for role, _, _, t in rows if role == "admin")
    seeded = next(t for role, region, _, t in rows if role == "surveyor" and region == "35")
    with app.app_context():
        from fieldcheck.extensions import db

        surveyor = db.session.query(User).filter_by(username="surveyor-jatim").one().id
    issued = client.post(
        f"/api/v1/users/{surveyor}/tokens",
        json={"client": "odk-collect"},
        headers=auth(admin),
    )
    assert issued.status_code == 201, issued.get_json()
    phone = issued.get_json()["token"]
    again = runner.invoke(args=["seed-demo", "--tokens-file", str(tokens_file)])
    assert again.exit_code == 0, again.output
    assert client.get("/api/v1/units", headers=auth(seeded)).status_code == 401
    assert client.get("/api/v1/units", headers=auth(phone)).status_code == 200
    assert client.get(f"/openrosa/key/{phone}/formList").status_code == 200
