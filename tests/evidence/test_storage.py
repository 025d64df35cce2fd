"""One contract for every storage backend: local files, and S3 over real HTTP (moto's server)."""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Iterator

import pytest

from fieldcheck.evidence.storage import LocalStorage, S3Storage

_buckets = itertools.count()


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A local S3-compatible HTTP server (moto) on 127.0.0.1, for this module only."""
    server_mod = pytest.importorskip("moto.server")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path, monkeypatch):
    """Each backend, empty."""
    if request.param == "local":
        return LocalStorage(tmp_path / "photos")
    import boto3

    endpoint = request.getfixturevalue("s3_endpoint")
    # moto accepts any credentials; set them so boto3 never looks at the host's.
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    bucket = f"fieldcheck-test-{next(_buckets)}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    return S3Storage(bucket, prefix="photos/", client=client)


def _read(storage, key):
    fh = storage.open(key)
    try:
        return fh.read()
    finally:
        fh.close()


def test_put_open_exists_delete(storage):
    key = "ab/cd/abcd" + "0" * 60
    assert not storage.exists(key)
    with pytest.raises(FileNotFoundError):
        storage.open(key)
    data = os.urandom(300_000)
    storage.put_stream(key, io.BytesIO(data), "image/jpeg")
    assert storage.exists(key)
    assert _read(storage, key) == data
    # Same key again (the same photo uploaded twice): still one object, same bytes.
    storage.put_stream(key, io.BytesIO(data), "image/jpeg")
    assert list(storage.keys()) == [key]
    storage.delete(key)
    storage.delete(key)  # idempotent
    assert not storage.exists(key)
    assert list(storage.keys()) == []


class Broken(io.RawIOBase):
    """A stream that dies after some bytes, like a dropped connection."""

    def __init__(self):
        self.sent = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.sent > 100_000:
            raise ConnectionResetError("client went away")
        n = min(len(buffer), 8192)
        buffer[:n] = b"x" * n
        self.sent += n
        return n


def test_a_failed_write_leaves_nothing(storage):
    key = "ef/01/ef01" + "1" * 60
    with pytest.raises(ConnectionResetError):
        storage.put_stream(key, io.BufferedReader(Broken()), "image/png")
    assert not storage.exists(key)
    assert list(storage.keys()) == []


def test_local_storage_refuses_keys_outside_its_root(tmp_path):
    storage = LocalStorage(tmp_path / "photos")
    with pytest.raises(ValueError):
        storage.put_stream("../escape", io.BytesIO(b"x"), "image/png")
    assert not (tmp_path / "escape").exists()


def test_local_storage_leaves_no_temp_files(tmp_path):
    storage = LocalStorage(tmp_path / "photos")
    storage.put_stream("aa/bb/file", io.BytesIO(b"data"), "image/png")
    files = [p.name for p in (tmp_path / "photos").rglob("*") if p.is_file()]
    assert files == ["file"]


def test_upload_and_read_back_through_the_app_on_s3(app, client, world, s3_endpoint, monkeypatch):
    import boto3

    from tests.helpers import auth

    from . import images
    from .conftest import fetch, sha, stored_files, upload

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket="fieldcheck-app"
    )
    app.config.update(PHOTO_STORAGE="s3", S3_ENDPOINT_URL=s3_endpoint, S3_BUCKET="fieldcheck-app")
    data = images.webp(seed=30)
    assert upload(client, "/api/v1/photos", data, world.surveyor).status_code == 201
    assert upload(client, "/api/v1/photos", data, world.surveyor).status_code == 200
    status, mimetype, body, _ = fetch(client, f"/api/v1/photos/{sha(data)}", world.surveyor)
    assert (status, mimetype, body) == (200, "image/webp", data)
    assert fetch(client, f"/api/v1/photos/{sha(data)}/preview", world.surveyor)[0] == 200
    assert client.get(f"/api/v1/photos/{sha(data)}", headers=auth(world.admin)).status_code == 404
    keys = sorted(app.extensions["fieldcheck_photo_storage"].keys())
    assert len(keys) == 2 and keys[0].endswith(sha(data))
    assert stored_files(app) == []  # nothing left on the app server's disk
