"""Receiving a photo: stream the upload to a temp file, prove it is an image, store it once.

The multipart body is read from the request stream in chunks into a temp file while it is hashed
and counted (never held whole in memory; 413 past PHOTO_MAX_BYTES), then the file is decoded by
Pillow to prove it is a whole JPEG/PNG/WebP of acceptable size, then the original and a preview go
to storage under the SHA-256. Any refusal deletes the temp file.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from flask import current_app
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from fieldcheck.auth.models import User
from fieldcheck.clock import utcnow
from fieldcheck.errors import ApiError
from fieldcheck.evidence.models import Photo, PhotoUpload
from fieldcheck.evidence.storage import get_storage, upload_tmp_dir
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, _

CHUNK = 256 * 1024


#: Pillow format -> the MIME type we store and serve. Nothing else is accepted.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


#: Multipart framing allowance on top of PHOTO_MAX_BYTES for the request-level cap.
MULTIPART_OVERHEAD = 64 * 1024


#: EXIF tags.
EXIF_IFD, GPS_IFD = 0x8769, 0x8825


DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011


@dataclass
class Spooled:
    """An upload written to a temp file: where, its SHA-256 and size."""

    path: Path
    sha256: str
    size: int

    def discard(self) -> None:
        """Delete the temp file (idempotent)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def spool_upload(stream: IO[bytes], content_type: str | None, max_bytes: int) -> Spooled:
    """Stream the ``file`` part of a multipart body to a temp file, hashing and counting it.

    415 when the body is not multipart or has no ``file`` part; 413 past ``max_bytes``; 400 when
    the body ends before the multipart closes (an interrupted upload). Nothing is left on disk
    unless a ``Spooled`` is returned.
    """
    mimetype, options = parse_options_header(content_type or "")
    boundary = options.get("boundary")
    if mimetype != "multipart/form-data" or not boundary:
        raise ApiError(
            "unsupported_media_type", N_("Send the photo as multipart/form-data, field file.")
        )
    # The decoder's buffer holds at most one chunk plus a boundary look-ahead: memory stays flat.
    decoder = MultipartDecoder(boundary.encode("latin-1"), max_form_memory_size=2 * CHUNK)
    fd, name = tempfile.mkstemp(dir=upload_tmp_dir(current_app), prefix="upload-")
    spooled = Spooled(Path(name), "", 0)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            in_file = seen_file = complete = False
            while not complete:
                chunk = stream.read(CHUNK)
                decoder.receive_data(chunk or None)
                event = _next_event(decoder)
                while not isinstance(event, NeedData):
                    if isinstance(event, File):
                        in_file = event.name == "file" and not seen_file
                        seen_file = seen_file or in_file
                    elif isinstance(event, Field):
                        in_file = False
                    elif isinstance(event, Data) and in_file:
                        spooled.size += len(event.data)
                        if spooled.size > max_bytes:
                            raise ApiError(
                                "payload_too_large",
                                _("The photo is larger than %(limit)s bytes.", limit=max_bytes),
                                {"max_bytes": max_bytes},
                            )
                        digest.update(event.data)
                        out.write(event.data)
                    elif isinstance(event, Epilogue):
                        complete = True
                        break
                    event = _next_event(decoder)
                if not chunk and not complete:
                    raise ApiError("bad_request", N_("The upload ended before it was complete."))
        if not seen_file:
            raise ApiError("unsupported_media_type", N_("The multipart body has no 'file' part."))
    except BaseException:
        spooled.discard()
        raise
    spooled.sha256 = digest.hexdigest()
    return spooled


def _next_event(decoder: MultipartDecoder) -> Any:
    try:
        return decoder.next_event()
    except ValueError:
        # The decoder's way of saying the body stopped mid-part or is not multipart at all.
        raise ApiError("bad_request", N_("The upload is incomplete or malformed.")) from None


@dataclass
class ImageFacts:
    """What decoding a photo told us."""

    mime: str
    width: int
    height: int
    preview: bytes
    exif_taken_at: datetime | None = None
    exif_utc_offset: str | None = None
    exif_lat: float | None = None
    exif_lon: float | None = None


def _refuse_bomb(pixels: int | None, max_pixels: int) -> ApiError:
    # ``pixels`` is None when Pillow refused the header before giving the size.
    details: dict[str, Any] = {
        "fields": {"file": [N_("Too many pixels.")]},
        "reason": "too_many_pixels",
        "max_pixels": max_pixels,
    }
    if pixels is not None:
        details["pixels"] = pixels
    return ApiError(
        "invalid_image", N_("The image has too many pixels (possible decompression bomb)."), details
    )


def inspect_image(path: Path, max_pixels: int, preview_px: int) -> ImageFacts:
    """Decode the whole file; 415 when it is not JPEG/PNG/WebP, 422 when truncated or a bomb."""
    # Pillow's own bomb guard warns above MAX_IMAGE_PIXELS and raises above twice that; a
    # warning must refuse too (pytest also turns warnings into errors), so escalate it here.
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # noqa: S101 - a truncated file must fail
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path, formats=list(FORMATS)) as probe:
                fmt = probe.format
                width, height = probe.size
                if width * height > max_pixels:
                    raise _refuse_bomb(width * height, max_pixels)
                probe.verify()  # structure and checksums (PNG CRCs) without decoding
            with Image.open(path, formats=[fmt]) as image:
                exif = image.getexif()
                # JPEG can decode at 1/2..1/8 scale: the whole stream is still read (truncation
                # still fails) but memory follows the preview size, not the photo size.
                image.draft("RGB", (preview_px, preview_px))
                image.load()
                preview = ImageOps.exif_transpose(image)
                preview.thumbnail((preview_px, preview_px))
                buffer = io.BytesIO()
                preview.convert("RGB").save(buffer, "JPEG", quality=80, optimize=True)
        except UnidentifiedImageError:
            raise ApiError(
                "unsupported_media_type", N_("The file is not a JPEG, PNG or WebP image.")
            ) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refuse_bomb(None, max_pixels) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            # Pillow reports truncated or corrupt data as OSError/SyntaxError/EOFError.
            raise ApiError(
                "invalid_image",
                N_("The image is truncated or corrupt."),
                {
                    "fields": {
                        "file": [_("The image cannot be decoded: %(reason)s", reason=str(exc))]
                    },
                    "reason": "corrupt",
                },
            ) from None
    facts = ImageFacts(FORMATS[fmt], width, height, buffer.getvalue())
    _read_exif(exif, facts)
    return facts


def _read_exif(exif: Image.Exif, facts: ImageFacts) -> None:
    """Capture time and GPS when present and sane; anything odd is ignored, never fatal."""
    try:
        sub = exif.get_ifd(EXIF_IFD)
        raw = sub.get(DATETIME_ORIGINAL) or exif.get(0x0132)
        if isinstance(raw, str):
            facts.exif_taken_at = datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
        offset = sub.get(OFFSET_TIME_ORIGINAL)
        if isinstance(offset, str) and len(offset.strip("\x00 ")) == 6:
            facts.exif_utc_offset = offset.strip("\x00 ")
    except (ValueError, TypeError, KeyError):
        pass
    try:
        gps = exif.get_ifd(GPS_IFD)
        if gps.get(2) and gps.get(4):
            lat = _dms(gps[2]) * (-1 if str(gps.get(1, "N")).upper().startswith("S") else 1)
            lon = _dms(gps[4]) * (-1 if str(gps.get(3, "E")).upper().startswith("W") else 1)
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                facts.exif_lat, facts.exif_lon = lat, lon
    except (ValueError, TypeError, ZeroDivisionError, KeyError, IndexError):
        pass


def _dms(value: Iterable[Any]) -> float:
    d, m, s = (float(x) for x in value)
    return d + m / 60 + s / 3600


def original_key(sha: str) -> str:
    """Storage key of an original: ``ab/cd/<sha256>``."""
    return f"{sha[:2]}/{sha[2:4]}/{sha}"


def preview_key(sha: str) -> str:
    """Storage key of a preview."""
    return f"previews/{sha[:2]}/{sha[2:4]}/{sha}.jpg"


@dataclass
class Stored:
    """The stored photo and whether this upload created it."""

    photo: Photo
    created: bool


def store_photo(spooled: Spooled, user: User) -> Stored:
    """Check and store a spooled upload under its SHA-256 (once), and record who sent it."""
    try:
        photo = db.session.get(Photo, spooled.sha256)
        created = False
        if photo is None:
            config = current_app.config
            facts = inspect_image(
                spooled.path, config["PHOTO_MAX_PIXELS"], config["PHOTO_PREVIEW_PX"]
            )
            storage = get_storage()
            with spooled.path.open("rb") as fh:
                storage.put_stream(original_key(spooled.sha256), fh, facts.mime)
            storage.put_stream(preview_key(spooled.sha256), io.BytesIO(facts.preview), "image/jpeg")
            photo = Photo(
                sha256=spooled.sha256,
                size_bytes=spooled.size,
                mime=facts.mime,
                width=facts.width,
                height=facts.height,
                exif_taken_at=facts.exif_taken_at,
                exif_utc_offset=facts.exif_utc_offset,
                exif_lat=facts.exif_lat,
                exif_lon=facts.exif_lon,
                uploaded_by=user.id,
                uploaded_at=utcnow(),
                storage_key=original_key(spooled.sha256),
                preview_key=preview_key(spooled.sha256),
            )
            # Two phones may send the same bytes at once: the blob write is idempotent, and the
            # savepoint lets the loser of the row insert carry on with the winner's row.
            try:
                with db.session.begin_nested():
                    db.session.add(photo)
                created = True
            except IntegrityError:
                photo = db.session.get(Photo, spooled.sha256)
                if photo is None:
                    raise
    finally:
        spooled.discard()
    _record_upload(photo.sha256, user)
    return Stored(photo, created)


def _record_upload(sha: str, user: User) -> None:
    exists = db.session.execute(
        select(PhotoUpload.id).where(PhotoUpload.sha256 == sha, PhotoUpload.user_id == user.id)
    ).first()
    if exists is None:
        try:
            with db.session.begin_nested():
                db.session.add(PhotoUpload(sha256=sha, user_id=user.id, uploaded_at=utcnow()))
        except IntegrityError:
            pass  # a concurrent upload by the same user recorded it


def photo_json(photo: Photo, created: bool) -> dict[str, Any]:
    """A stored photo as the API shows it."""
    return {
        "sha256": photo.sha256,
        "created": created,
        "size_bytes": photo.size_bytes,
        "mime": photo.mime,
        "width": photo.width,
        "height": photo.height,
        "exif_taken_at": photo.exif_taken_at.isoformat() if photo.exif_taken_at else None,
        "exif_utc_offset": photo.exif_utc_offset,
        "exif_location": None
        if photo.exif_lat is None
        else {"lat": photo.exif_lat, "lon": photo.exif_lon},
    }
