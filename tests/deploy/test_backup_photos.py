"""scripts/backup.py copies photos from either storage (local files, S3 over real HTTP with
moto's server), only new ones, and never lets an object that does not match its sha256 in."""

from __future__ import annotations

import hashlib
import importlib.util
import io
from pathlib import Path

import pytest

from fieldcheck import create_app
from fieldcheck.evidence.storage import get_storage

ROOT = Path(__file__).resolve().parents[2]


def _backup_module():
    spec = importlib.util.spec_from_file_location("backup", ROOT / "scripts" / "backup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=["local", "s3"])
def photo_app(request, tmp_path, monkeypatch):
    """An app whose photo storage is each backend, empty."""
    settings = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "TESTING": True}
    if request.param == "s3":
        server_mod = pytest.importorskip("moto.server")
        server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        request.addfinalizer(server.stop)
        host, port = server.get_host_and_port()
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.setenv(key, "testing")
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        settings |= {
            "PHOTO_STORAGE": "s3",
            "S3_BUCKET": "photos-backup-test",
            "S3_ENDPOINT_URL": f"http://{host}:{port}",
        }
    else:
        settings["PHOTO_DIR"] = str(tmp_path / "photos")
    app = create_app(settings)
    if request.param == "s3":
        get_storage(app).client.create_bucket(Bucket="photos-backup-test")
    return app


def test_photos_are_copied_once_and_checked(photo_app, tmp_path):
    backup = _backup_module()
    storage = get_storage(photo_app)
    good = b"a photo" * 1000
    sha = hashlib.sha256(good).hexdigest()
    storage.put_stream(f"{sha[:2]}/{sha[2:4]}/{sha}", io.BytesIO(good), "image/jpeg")
    storage.put_stream(f"previews/{sha[:2]}/{sha[2:4]}/{sha}.jpg", io.BytesIO(b"p"), "image/jpeg")
    bad_sha = hashlib.sha256(b"what was uploaded").hexdigest()
    bad_key = f"{bad_sha[:2]}/{bad_sha[2:4]}/{bad_sha}"
    storage.put_stream(bad_key, io.BytesIO(b"rotted"), "image/jpeg")

    first = backup.copy_photos(photo_app, tmp_path / "backup-photos")
    assert first["copied"] == 2 and first["corrupt_at_source"] == [bad_key]
    assert (tmp_path / "backup-photos" / sha[:2] / sha[2:4] / sha).read_bytes() == good
    assert not (tmp_path / "backup-photos" / bad_key).exists()

    second = backup.copy_photos(photo_app, tmp_path / "backup-photos")
    assert second["copied"] == 0 and second["already_there"] == 2
