"""Methodology management (issue 16): upload TOML/JSON drafts, refusals naming the problem,
publishing, immutability in the service and in the database, in-force selection, and a second
app instance seeing another's upload."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from fieldcheck import create_app
from fieldcheck.extensions import db
from tests.helpers import auth, post_json
from tests.methodologies.versions import STRICT_BANDS, version_json, version_toml

URL = "/api/v1/methodologies"


def _upload(client, token, body: str, kind: str = "application/toml"):
    return client.post(URL, data=body.encode(), headers=auth(token), content_type=kind)


@pytest.fixture
def admin(factory):
    return factory.user("admin")[1]


def test_upload_toml_and_json_then_list(client, admin, factory, app) -> None:
    _, supervisor = factory.user("supervisor")
    assert _upload(client, supervisor, version_toml(2)).status_code == 403

    toml = _upload(client, admin, version_toml(2))
    assert toml.status_code == 201, toml.get_json()
    body = toml.get_json()
    assert (body["id"], body["version"], body["status"], body["source"]) == (
        "ombudsman-2019",
        2,
        "draft",
        "uploaded",
    )
    assert toml.headers["Location"].endswith("/methodologies/ombudsman-2019/versions/2")

    as_json = _upload(client, admin, version_json(3), "application/json")
    assert as_json.status_code == 201, as_json.get_json()
    assert as_json.get_json()["format"] == "json"

    listed = client.get(f"{URL}/ombudsman-2019/versions", headers=auth(supervisor)).get_json()
    assert [(v["version"], v["status"], v["source"]) for v in listed["items"]] == [
        (1, "published", "shipped"),
        (2, "draft", "uploaded"),
        (3, "draft", "uploaded"),
    ]
    detail = client.get(f"{URL}/ombudsman-2019/versions/3", headers=auth(admin)).get_json()
    assert [float(b["min"]) for b in detail["methodology"]["bands"]] == [0, 90, 98]
    raw = client.get(f"{URL}/ombudsman-2019/versions/3/file", headers=auth(admin))
    assert raw.data == version_json(3).encode()
    assert raw.mimetype == "application/json"

    # A draft is replaced by uploading the same version again; the hash follows the bytes.
    again = _upload(client, admin, version_toml(2, weight_factor=3))
    assert again.status_code == 201
    assert again.get_json()["content_hash"] != body["content_hash"]
    # Without a version, a phone still gets the version in force (drafts only by version).
    current = client.get(f"{URL}/ombudsman-2019", headers=auth(admin)).get_json()
    assert current["version"] == 1
    # Uploads are audited.
    with app.app_context():
        actions = db.session.execute(
            text("SELECT action FROM audit_log WHERE object_type = 'methodology_version'")
        ).scalars()
        assert list(actions) == ["methodology.upload"] * 3


def test_multipart_upload(client, admin) -> None:
    from tests.helpers import upload

    response = upload(client, URL, version_toml(2).encode(), admin, filename="v2.toml")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["format"] == "toml"


@pytest.mark.parametrize(
    "bands, words, kata",
    [
        (STRICT_BANDS.replace('min = "90.00"', 'min = "89.00"'), "overlap", "tumpang tindih"),
        (
            STRICT_BANDS.replace('min = "90.00"', 'min = "91.00"'),
            "gap between 89.99",
            "celah antara 89.99",
        ),
        (STRICT_BANDS.replace('zone = "kuning"', 'zone = "ungu"'), "got 'ungu'", "'ungu'"),
    ],
    ids=["overlap", "gap", "unknown-zone"],
)
def test_a_rejected_file_names_the_problem(client, admin, bands, words, kata) -> None:
    response = _upload(client, admin, version_toml(2, bands))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    (message,) = error["details"]["fields"]["file"]
    assert "bands" in message and words in message
    # In Indonesian: the same envelope, the loader's message in the reader's language.
    indonesian = client.post(
        URL,
        data=version_toml(2, bands).encode(),
        headers={**auth(admin), "Accept-Language": "id"},
        content_type="application/toml",
    )
    assert kata in indonesian.get_json()["error"]["details"]["fields"]["file"][0]
    assert indonesian.get_json()["error"]["message"] != error["message"]


def test_bad_uploads_are_refused_cleanly(client, admin) -> None:
    from tests.methodologies.versions import SHIPPED

    # Uploads load strictly: the 2019 file as it ships has no confidence marks.
    loose = _upload(client, admin, SHIPPED.replace("version = 1\n", "version = 2\n", 1))
    assert loose.status_code == 422
    assert "confidence" in loose.get_json()["error"]["details"]["fields"]["file"][0]
    assert _upload(client, admin, version_toml(2), "text/plain").status_code == 415
    assert _upload(client, admin, "{not json", "application/json").status_code == 422
    assert _upload(client, admin, "[1, 2]", "application/json").status_code == 422
    assert _upload(client, admin, "").status_code == 422
    # Version 1 is shipped and published; a version must be newer than every existing one.
    shipped = _upload(client, admin, version_toml(1))
    assert shipped.status_code == 409
    assert _upload(client, admin, version_toml(3)).status_code == 201
    older = _upload(client, admin, version_toml(2))
    assert older.status_code == 409
    assert "must grow" in older.get_json()["error"]["message"]


def test_publish_then_immutable_in_service_and_database(client, admin, app) -> None:
    assert _upload(client, admin, version_toml(2)).status_code == 201
    publish = f"{URL}/ombudsman-2019/versions/2/publish"
    assert post_json(client, publish, {}, admin).status_code == 422
    too_early = post_json(client, publish, {"effective_from": "2015-01-01"}, admin)
    assert too_early.status_code == 422
    assert "effective_from" in too_early.get_json()["error"]["details"]["fields"]
    done = post_json(client, publish, {"effective_from": "2026-06-01"}, admin)
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["status"], done.get_json()["effective_from"]) == (
        "published",
        "2026-06-01",
    )
    assert post_json(client, publish, {"effective_from": "2026-07-01"}, admin).status_code == 409
    again = _upload(client, admin, version_toml(2, weight_factor=5))
    assert again.status_code == 409
    assert "can never change" in again.get_json()["error"]["message"]

    # The database refuses it too, whatever the client.
    with app.app_context():
        for statement in (
            "UPDATE methodology_versions SET content = :c WHERE version = 2",
            "UPDATE methodology_versions SET content_hash = 'x' WHERE version = 2",
            "UPDATE methodology_versions SET effective_from = '2027-01-01' WHERE version = 2",
            "UPDATE methodology_versions SET status = 'draft' WHERE version = 2",
            "DELETE FROM methodology_versions WHERE version = 2",
        ):
            with pytest.raises(Exception, match="immutable"):
                db.session.execute(text(statement), {"c": b"changed"})
                db.session.flush()
            db.session.rollback()
        # Retiring stays possible (status and effective_to only).
        db.session.execute(
            text(
                "UPDATE methodology_versions SET status = 'retired', effective_to = '2027-12-31'"
                " WHERE version = 2"
            )
        )
        db.session.commit()
    with app.app_context():
        actions = db.session.execute(
            text("SELECT action FROM audit_log WHERE object_type = 'methodology_version'")
        ).scalars()
        assert list(actions) == ["methodology.upload", "methodology.publish"]


def test_version_in_force_on_a_date(client, admin) -> None:
    assert _upload(client, admin, version_toml(2)).status_code == 201
    publish = f"{URL}/ombudsman-2019/versions/2/publish"
    assert post_json(client, publish, {"effective_from": "2026-06-01"}, admin).status_code == 200
    on = f"{URL}/ombudsman-2019?on="
    assert client.get(on + "2026-05-31", headers=auth(admin)).get_json()["version"] == 1
    assert client.get(on + "2026-06-01", headers=auth(admin)).get_json()["version"] == 2
    assert client.get(on + "2014-12-31", headers=auth(admin)).status_code == 404
    assert client.get(on + "junk", headers=auth(admin)).status_code == 422
    exact = client.get(f"{URL}/ombudsman-2019?version=1", headers=auth(admin)).get_json()
    assert exact["version"] == 1


def test_checklist_is_scored_with_the_version_in_force_on_the_visit_date(
    client, admin, factory
) -> None:
    factory.units()
    assert _upload(client, admin, version_toml(2)).status_code == 201
    publish = f"{URL}/ombudsman-2019/versions/2/publish"
    assert post_json(client, publish, {"effective_from": "2026-06-01"}, admin).status_code == 200

    def submit(day: str, **extra):
        body = factory.all_yes_submission(
            started_at=f"{day}T09:00:00+07:00", finished_at=f"{day}T09:30:00+07:00", **extra
        )
        return post_json(client, "/api/v1/inspections", body, admin)

    before = submit("2026-05-31")
    after = submit("2026-06-01")
    assert before.status_code == after.status_code == 201, (before.get_json(), after.get_json())
    assert before.get_json()["methodology_version"] == 1
    assert after.get_json()["methodology_version"] == 2
    # Naming a version: it must be in force that day (and exist).
    assert submit("2026-07-01", methodology_version=2).status_code == 201
    wrong = submit("2026-05-01", methodology_version=2)
    assert wrong.status_code == 422
    assert "methodology_version" in wrong.get_json()["error"]["details"]["fields"]
    assert submit("2026-05-01", methodology_version=9).status_code == 422


def test_a_second_app_instance_sees_an_upload(client, admin, app, database_url) -> None:
    other = create_app({"DATABASE_URL": database_url, "TESTING": True})
    try:
        _second_instance(other, client, admin)
    finally:
        with other.app_context():
            db.engine.dispose()  # its pooled connections, not left to the garbage collector


def _second_instance(other, client, admin) -> None:
    other_client = other.test_client()
    url = f"{URL}/ombudsman-2019/versions/2"
    # The other process has its registry loaded (and cached) before the upload.
    assert other_client.get(f"{URL}/ombudsman-2019", headers=auth(admin)).status_code == 200
    assert other_client.get(url, headers=auth(admin)).status_code == 404
    assert _upload(client, admin, version_toml(2)).status_code == 201
    seen = other_client.get(url, headers=auth(admin))
    assert seen.status_code == 200
    assert seen.get_json()["status"] == "draft"
    publish = f"{url}/publish"
    assert post_json(client, publish, {"effective_from": "2026-06-01"}, admin).status_code == 200
    assert other_client.get(url, headers=auth(admin)).get_json()["status"] == "published"
    with other.app_context():
        from fieldcheck.catalogue.registry import get_registry

        registry = get_registry().refresh()
        assert registry.in_force("ombudsman-2019", date(2026, 7, 1)).version == 2


def test_cli_upload_list_publish(runner, tmp_path) -> None:
    path = tmp_path / "v2.toml"
    path.write_text(version_toml(2), encoding="utf-8")
    result = runner.invoke(args=["methodologies", "upload", str(path)])
    assert result.exit_code == 0, result.output
    assert "ombudsman-2019 v2: draft" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text(version_toml(3, STRICT_BANDS.replace('"90.00"', '"89.00"')), encoding="utf-8")
    refused = runner.invoke(args=["methodologies", "upload", str(bad)])
    assert refused.exit_code != 0 and "overlap" in refused.output
    published = runner.invoke(
        args=["methodologies", "publish", "ombudsman-2019", "2", "--effective-from", "2026-06-01"]
    )
    assert published.exit_code == 0, published.output
    listed = runner.invoke(args=["methodologies", "list"])
    assert "ombudsman-2019\tv2\tpublished\t2026-06-01" in listed.output
