"""Photo upload and retrieval through the real app: content checks, dedupe, access, no leftovers."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from PIL import Image

from tests.helpers import auth

from . import images
from .conftest import fetch, multipart, sha, stored_files, submit, upload

KINDS = [
    ("jpeg", images.jpeg, "image/jpeg"),
    ("png", images.png, "image/png"),
    ("webp", images.webp, "image/webp"),
]


@pytest.fixture
def inspection(client, factory, world):
    """A stored Sidoarjo inspection by the world's surveyor; its id."""
    response = submit(client, factory, world.surveyor)
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.mark.parametrize(("kind", "make", "mime"), KINDS)
def test_real_images_upload_and_come_back_to_those_who_may_see_them(
    client, app, world, inspection, kind, make, mime
):
    data = make()
    response = upload(client, f"/api/v1/inspections/{inspection}/photos", data, world.surveyor)
    assert response.status_code == 201, response.json
    assert response.json["sha256"] == sha(data)
    assert response.json["mime"] == mime
    assert response.json["inspection"]["photos"]["received"] == [sha(data)]

    for token in (world.surveyor, world.supervisor, world.admin):
        status, mimetype, body, headers = fetch(client, f"/api/v1/photos/{sha(data)}", token)
        assert (status, mimetype, body) == (200, mime, data)
        assert "private" in headers["Cache-Control"]
        status, mimetype, body, _ = fetch(client, f"/api/v1/photos/{sha(data)}/preview", token)
        assert (status, mimetype) == (200, "image/jpeg")
        with Image.open(io.BytesIO(body)) as image:
            assert image.format == "JPEG" and max(image.size) <= 640

    # A supervisor of West Sumatra and another surveyor do not learn it exists.
    for token in (world.outsider, world.other_surveyor):
        assert client.get(f"/api/v1/photos/{sha(data)}", headers=auth(token)).status_code == 404
        assert (
            client.get(f"/api/v1/photos/{sha(data)}/preview", headers=auth(token)).status_code
            == 404
        )
    assert client.get(f"/api/v1/photos/{sha(data)}").status_code == 401
    assert stored_files(app) == sorted(
        [
            f"{sha(data)[:2]}/{sha(data)[2:4]}/{sha(data)}",
            f"previews/{sha(data)[:2]}/{sha(data)[2:4]}/{sha(data)}.jpg",
        ]
    )


def test_preview_applies_exif_orientation(client, world, inspection):
    data = images.jpeg(size=(800, 400), orientation=6)  # rotate 90: portrait on screen
    upload(client, f"/api/v1/inspections/{inspection}/photos", data, world.surveyor)
    _, _, body, _ = fetch(client, f"/api/v1/photos/{sha(data)}/preview", world.surveyor)
    with Image.open(io.BytesIO(body)) as image:
        assert image.size[1] > image.size[0]


def _truncated_jpeg() -> bytes:
    data = images.jpeg()
    return data[: len(data) * 2 // 3]


@pytest.mark.parametrize(
    ("case", "data", "filename", "status", "code"),
    [
        (
            "text renamed .jpg",
            b"Laporan kunjungan\n" * 50,
            "foto.jpg",
            415,
            "unsupported_media_type",
        ),
        ("empty file", b"", "foto.jpg", 415, "unsupported_media_type"),
        ("GIF is not accepted", None, "foto.jpg", 415, "unsupported_media_type"),
        ("truncated JPEG", "truncated", "foto.jpg", 422, "invalid_image"),
        ("decompression bomb", "bomb", "foto.png", 422, "invalid_image"),
        ("oversized", "oversized", "foto.jpg", 413, "payload_too_large"),
    ],
)
def test_bad_uploads_are_refused_and_leave_nothing_on_disk(
    client, app, world, inspection, case, data, filename, status, code
):
    if data is None:
        out = io.BytesIO()
        images.noise((50, 50)).save(out, "GIF")
        data = out.getvalue()
    elif data == "truncated":
        data = _truncated_jpeg()
    elif data == "bomb":
        data = images.bomb()
    elif data == "oversized":
        app.config["PHOTO_MAX_BYTES"] = 200_000
        data = images.jpeg(size=(1200, 900))
        assert len(data) > 200_000
    for url in (f"/api/v1/inspections/{inspection}/photos", "/api/v1/photos"):
        response = upload(client, url, data, world.surveyor, filename=filename)
        assert response.status_code == status, (case, response.json)
        assert response.json["error"]["code"] == code
        details = response.json["error"]["details"]
        if code == "payload_too_large":  # what the phone must shrink the photo to
            assert details["max_bytes"] == 200_000
        if case == "decompression bomb":
            assert details["max_pixels"] == app.config["PHOTO_MAX_PIXELS"]
            assert details.get("pixels", 1) > 0  # its size, when Pillow read that far
    assert stored_files(app) == []
    body = client.get(f"/api/v1/inspections/{inspection}", headers=auth(world.surveyor)).json
    assert body["photos"]["received"] == []


def test_not_multipart_is_415(client, world):
    response = client.post(
        "/api/v1/photos",
        data=images.jpeg(),
        content_type="image/jpeg",
        headers=auth(world.surveyor),
    )
    assert response.status_code == 415
    response = upload(client, "/api/v1/photos", images.jpeg(), world.surveyor, field="photo")
    assert response.status_code == 415  # no "file" part


def test_body_over_the_request_cap_is_413_before_reading(client, app, world):
    app.config["PHOTO_MAX_BYTES"] = 10_000
    response = upload(client, "/api/v1/photos", images.jpeg(), world.surveyor)
    assert response.status_code == 413
    assert stored_files(app) == []


def test_interrupted_upload_leaves_no_partial_file(client, app, world):
    data = images.jpeg()
    body, content_type = multipart(data)
    cut = body[: len(body) // 2]
    # The phone announced the whole length but the connection dropped half way.
    response = client.post(
        "/api/v1/photos",
        input_stream=io.BytesIO(cut),
        content_length=len(body),
        content_type=content_type,
        headers=auth(world.surveyor),
    )
    assert response.status_code == 400
    # A body that ends cleanly but without the closing boundary is incomplete too.
    response = client.post(
        "/api/v1/photos",
        data=cut,
        content_type=content_type,
        headers=auth(world.surveyor),
    )
    assert response.status_code == 400
    assert stored_files(app) == []


def test_same_photo_twice_is_stored_once(client, app, world, inspection):
    data = images.jpeg(seed=7)
    first = upload(client, f"/api/v1/inspections/{inspection}/photos", data, world.surveyor)
    again = upload(client, f"/api/v1/inspections/{inspection}/photos", data, world.surveyor)
    solo = upload(client, "/api/v1/photos", data, world.surveyor)
    assert (first.status_code, again.status_code, solo.status_code) == (201, 200, 200)
    assert len(stored_files(app)) == 2  # one original + one preview
    body = client.get(f"/api/v1/inspections/{inspection}", headers=auth(world.surveyor)).json
    assert body["photos"]["received"] == [sha(data)]


def test_exif_time_and_gps_are_read(client, world):
    data = images.jpeg(
        taken=datetime(2026, 11, 20, 9, 20), gps=(-7.4478, 112.7183), offset="+07:00"
    )
    body = upload(client, "/api/v1/photos", data, world.surveyor).json
    assert body["exif_taken_at"] == "2026-11-20T09:20:00"
    assert body["exif_utc_offset"] == "+07:00"
    assert body["exif_location"]["lat"] == pytest.approx(-7.4478, abs=1e-4)
    assert body["exif_location"]["lon"] == pytest.approx(112.7183, abs=1e-4)
    # The uploader may read it back before any checklist references it.
    assert fetch(client, f"/api/v1/photos/{body['sha256']}", world.surveyor)[0] == 200


def test_only_the_inspections_surveyor_or_admin_uploads_to_it(client, world, inspection):
    data = images.png()
    url = f"/api/v1/inspections/{inspection}/photos"
    assert upload(client, url, data, world.other_surveyor).status_code == 404
    assert upload(client, url, data, world.supervisor).status_code == 403
    assert upload(client, url, data, world.admin).status_code == 201
    # An admin's photo can lift an approval blocker on a surveyor's inspection: audited.
    audit = client.get(
        f"/api/v1/audit?object=inspection:{inspection}&action=inspection.photo",
        headers=auth(world.admin),
    ).get_json()
    assert [e["actor"]["name"] for e in audit["items"]] == ["Admin"]


def test_photo_just_over_the_limit_is_stopped_while_streaming(client, app, world):
    data = images.jpeg(seed=11)
    # The request fits the framing allowance, so only the byte count while streaming catches it.
    app.config["PHOTO_MAX_BYTES"] = len(data) - 1
    response = upload(client, "/api/v1/photos", data, world.surveyor)
    assert response.status_code == 413
    assert response.json["error"]["details"]["max_bytes"] == len(data) - 1
    assert stored_files(app) == []
    app.config["PHOTO_MAX_BYTES"] = len(data)
    assert upload(client, "/api/v1/photos", data, world.surveyor).status_code == 201
