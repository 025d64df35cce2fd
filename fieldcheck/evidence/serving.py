"""Sending a stored photo to someone who may see it: the API's and the pages' one way.

``visible_photo`` applies ``evidence.visibility.photo_visible_to`` (404 otherwise, existence not
revealed); ``send_original``/``send_preview`` stream the bytes from the evidence storage, private
to the reader (content-addressed, so never stale, but authorization applies).

The original is evidence (reports cite its SHA-256), so it is sent byte for byte as it came, and
may carry anything after the image (a ZIP, a PHP script: a polyglot). It is therefore never
something a browser would run or sniff: its Content-Type is the format Pillow decoded at upload
(one of ``IMAGE_TYPES``, else ``application/octet-stream`` as a download), ``nosniff``, a
``Content-Disposition`` naming it ``<sha256>.<ext>`` (no name from the phone), and a CSP that
sandboxes it and allows nothing to load, should a browser render it as a document anyway. The
preview is a JPEG Pillow wrote itself, and gets the same headers.
"""

from __future__ import annotations

import re

from flask import Response, send_file

from fieldcheck.auth.models import User
from fieldcheck.errors import ApiError
from fieldcheck.evidence.models import Photo
from fieldcheck.evidence.storage import get_storage
from fieldcheck.evidence.visibility import photo_visible_to
from fieldcheck.extensions import db
from fieldcheck.i18n import N_

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def visible_photo(sha256: str, user: User) -> Photo:
    """The photo if ``user`` may see it (evidence.visibility.photo_visible_to), else 404."""
    if not SHA256_RE.match(sha256):
        raise ApiError("not_found", N_("No such photo."))
    photo = db.session.get(Photo, sha256)
    if photo is None or not photo_visible_to(sha256, user):
        raise ApiError("not_found", N_("No such photo."))
    return photo


def read_preview(photo: Photo) -> bytes | None:
    """The preview's bytes (for a PDF that embeds it); None when the file is gone."""
    try:
        with get_storage().open(photo.preview_key) as fh:
            return fh.read()
    except FileNotFoundError:
        return None


#: The types a photo may be served as (what upload.inspect_image decodes) and their extension.
IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
#: An image response is a document to nobody: no script, no plugin, no fetch, no form, no frame.
IMAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def send_original(photo: Photo) -> Response:
    """The original photo bytes, streamed, as the image type Pillow decoded (never sniffed)."""
    return _send(photo.storage_key, photo.mime, photo.sha256, photo.sha256)


def send_preview(photo: Photo) -> Response:
    """The JPEG preview (longest side PHOTO_PREVIEW_PX, EXIF orientation applied)."""
    etag = f"{photo.sha256}-preview"
    return _send(photo.preview_key, "image/jpeg", etag, etag)


def _send(key: str, mimetype: str, etag: str, name: str) -> Response:
    try:
        fh = get_storage().open(key)
    except FileNotFoundError:
        raise ApiError("not_found", N_("The photo's file is no longer stored.")) from None
    extension = IMAGE_TYPES.get(mimetype)
    as_image = extension is not None
    response = send_file(
        fh,
        mimetype=mimetype if as_image else "application/octet-stream",
        etag=etag,
        conditional=True,
        max_age=3600,
        # ``name`` is a hex digest: nothing from the sender reaches the header.
        as_attachment=not as_image,
        download_name=f"{name}.{extension or 'bin'}",
    )
    # Content-addressed, so never stale; but only for this user (authorization applies).
    response.cache_control.private = True
    response.cache_control.public = False
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = IMAGE_CSP
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
