"""Where photo bytes live: a small interface, a local-filesystem and an S3-compatible backend.

Keys are relative paths such as ``ab/cd/<sha256>``. Writes are all-or-nothing: a reader never sees
a partial object, and a failed or interrupted write leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

from flask import Flask, current_app

CHUNK = 256 * 1024


class Storage(Protocol):
    """The operations evidence needs from a blob store."""

    def put_stream(self, key: str, fileobj: IO[bytes], content_type: str) -> None:
        """Store the rest of ``fileobj`` under ``key`` atomically (replacing any old object)."""

    def open(self, key: str) -> IO[bytes]:
        """A readable binary stream of the object; FileNotFoundError when it is absent."""

    def exists(self, key: str) -> bool:
        """True when an object is stored under ``key``."""

    def delete(self, key: str) -> None:
        """Remove the object; absent objects are fine (deletes are idempotent)."""

    def keys(self) -> Iterator[str]:
        """Every stored key (for audits and tests)."""


class LocalStorage:
    """Files under a root folder; temp file + fsync + ``os.replace`` for atomic writes."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.tmp_dir = self.root / ".tmp"

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        # Keys come from hashes we compute, but a bad key must never escape the root.
        if self.root.resolve() not in path.parents:
            raise ValueError(f"bad storage key {key!r}")
        return path

    def put_stream(self, key: str, fileobj: IO[bytes], content_type: str) -> None:
        """Copy to a temp file beside the target, fsync, then rename over it."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".put-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(fileobj, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        # The rename is durable only once the directory entry is on disk too.
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def open(self, key: str) -> IO[bytes]:
        """The file opened for reading."""
        return self._path(key).open("rb")

    def exists(self, key: str) -> bool:
        """True when the file exists."""
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Unlink the file if present."""
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def keys(self) -> Iterator[str]:
        """Relative paths of stored files (temp files excluded)."""
        if not self.root.exists():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith(".") and ".tmp" not in path.parts:
                yield path.relative_to(self.root).as_posix()


class S3Storage:
    """Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, ...).

    ``upload_fileobj`` streams in parts; S3 makes an object visible only when its upload completes,
    so readers never see half a photo. Credentials come from the environment (boto3's chain).
    """

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        prefix: str = "",
        client: Any = None,
    ) -> None:
        import boto3  # only when S3 storage is configured: a slow import local storage never needs

        self.bucket = bucket
        self.prefix = prefix
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def put_stream(self, key: str, fileobj: IO[bytes], content_type: str) -> None:
        """Upload the stream (multipart for large files)."""
        self.client.upload_fileobj(
            fileobj, self.bucket, self._key(key), ExtraArgs={"ContentType": content_type}
        )

    def open(self, key: str) -> IO[bytes]:
        """The object's body as a stream."""
        from botocore.exceptions import ClientError  # with boto3, only for S3 storage

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise FileNotFoundError(key) from None
            raise
        return response["Body"]

    def exists(self, key: str) -> bool:
        """HEAD the object."""
        from botocore.exceptions import ClientError  # with boto3, only for S3 storage

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        """Delete the object (S3 deletes are idempotent)."""
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def keys(self) -> Iterator[str]:
        """Every key under the prefix."""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                yield item["Key"].removeprefix(self.prefix)


def photo_dir(app: Flask) -> Path:
    """The local photo folder: PHOTO_DIR, else ``<instance>/photos``."""
    return Path(app.config["PHOTO_DIR"] or os.path.join(app.instance_path, "photos"))


def upload_tmp_dir(app: Flask) -> Path:
    """Where uploads are spooled while being hashed and checked (removed when done)."""
    path = photo_dir(app) / ".tmp" if app.config["PHOTO_STORAGE"] == "local" else None
    if path is None:
        path = Path(app.instance_path) / "upload-tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def get_storage(app: Flask | None = None) -> Storage:
    """The app's configured storage (built once per app)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    storage = app.extensions.get("fieldcheck_photo_storage")
    if storage is None:
        if app.config["PHOTO_STORAGE"] == "s3":
            storage = S3Storage(
                bucket=app.config["S3_BUCKET"],
                endpoint_url=app.config["S3_ENDPOINT_URL"] or None,
                region=app.config["S3_REGION"],
                prefix=app.config["S3_PREFIX"],
            )
        else:
            storage = LocalStorage(photo_dir(app))
        app.extensions["fieldcheck_photo_storage"] = storage
    return storage
