"""Evidence services: receive photos safely, link them to inspections, compute integrity flags.

Upload pipeline: the multipart body is read from the request stream in chunks into a temp file
while it is hashed and counted (never held whole in memory; 413 past PHOTO_MAX_BYTES), then the
file is decoded by Pillow to prove it is a whole JPEG/PNG/WebP of acceptable size, then the
original and a preview go to storage under the SHA-256. Any refusal deletes the temp file.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from flask import current_app
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from fieldcheck.auth.models import User
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import utcnow
from fieldcheck.core import integrity
from fieldcheck.errors import ApiError
from fieldcheck.evidence.models import (
    EvidenceWaiver,
    InspectionFlag,
    InspectionPhoto,
    Photo,
    PhotoUpload,
)
from fieldcheck.evidence.storage import get_storage, upload_tmp_dir
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.units.models import Unit

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
#: Pillow format -> the MIME type we store and serve. Nothing else is accepted.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
#: Multipart framing allowance on top of PHOTO_MAX_BYTES for the request-level cap.
MULTIPART_OVERHEAD = 64 * 1024
#: EXIF tags.
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011


# --- hooks for work merged later ---------------------------------------------------------------


def audit_event(
    actor: User | None,
    action: str,
    object_ref: str,
    details: dict[str, Any],
    region: str | None = None,
) -> None:
    """Record an evidence action in the audit log, in the same transaction as the change."""
    from fieldcheck.audit.services import record

    object_type, _, object_id = object_ref.partition(":")
    record(action, object_type, object_id, after=details, actor=actor, region=region)


# --- receiving bytes -----------------------------------------------------------------------------


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
            "unsupported_media_type", "Send the photo as multipart/form-data, field file."
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
                                f"The photo is larger than {max_bytes} bytes.",
                                {"max_bytes": max_bytes},
                            )
                        digest.update(event.data)
                        out.write(event.data)
                    elif isinstance(event, Epilogue):
                        complete = True
                        break
                    event = _next_event(decoder)
                if not chunk and not complete:
                    raise ApiError("bad_request", "The upload ended before it was complete.")
        if not seen_file:
            raise ApiError("unsupported_media_type", "The multipart body has no 'file' part.")
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
        raise ApiError("bad_request", "The upload is incomplete or malformed.") from None


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
        "fields": {"file": ["Too many pixels."]},
        "reason": "too_many_pixels",
        "max_pixels": max_pixels,
    }
    if pixels is not None:
        details["pixels"] = pixels
    return ApiError(
        "invalid_image", "The image has too many pixels (possible decompression bomb).", details
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
                "unsupported_media_type", "The file is not a JPEG, PNG or WebP image."
            ) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refuse_bomb(None, max_pixels) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            # Pillow reports truncated or corrupt data as OSError/SyntaxError/EOFError.
            raise ApiError(
                "invalid_image",
                "The image is truncated or corrupt.",
                {"fields": {"file": [f"The image cannot be decoded: {exc}"]}, "reason": "corrupt"},
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


# --- linking photos to inspections ---------------------------------------------------------------


def attach(inspection: Inspection, sha: str, user: User) -> None:
    """Mark ``sha`` received on ``inspection`` (uploaded straight to it), then refresh flags.

    Audited when it is new to the inspection: a photo can lift an approval blocker, and an admin
    may add one to a surveyor's inspection.
    """
    link = _link(inspection.id, sha)
    if link is None:
        link = InspectionPhoto(inspection_id=inspection.id, sha256=sha, is_expected=False)
        db.session.add(link)
    if link.received_at is None:
        link.received_at = utcnow()
        _audit_received(inspection.id, sha, user)
    db.session.flush()
    _refresh_users_of(sha, also=inspection)


def _audit_received(inspection_id: int, sha: str, user: User) -> None:
    from fieldcheck.audit.services import record

    inspection = db.session.get(Inspection, inspection_id)
    record(
        "inspection.photo",
        "inspection",
        inspection_id,
        after={"sha256": sha, "received_from_user_id": user.id},
        actor=user,
        region=None if inspection is None else inspection.unit.region_code,
    )


def deliver(sha: str, user: User) -> list[int]:
    """A photo sent on its own: it completes the user's inspections that await it (their ids)."""
    links = db.session.execute(
        select(InspectionPhoto)
        .join(Inspection, Inspection.id == InspectionPhoto.inspection_id)
        .where(
            InspectionPhoto.sha256 == sha,
            InspectionPhoto.received_at.is_(None),
            Inspection.surveyor_id == user.id,
        )
    ).scalars()
    ids = []
    for link in links:
        link.received_at = utcnow()
        ids.append(link.inspection_id)
        _audit_received(link.inspection_id, sha, user)
    if ids:
        db.session.flush()
        _refresh_users_of(sha)
    return ids


def _link(inspection_id: int, sha: str) -> InspectionPhoto | None:
    return db.session.execute(
        select(InspectionPhoto).where(
            InspectionPhoto.inspection_id == inspection_id, InspectionPhoto.sha256 == sha
        )
    ).scalar_one_or_none()


def _refresh_users_of(sha: str, also: Inspection | None = None) -> None:
    """Recompute photo flags of every inspection that received ``sha`` (reuse is mutual)."""
    ids = set(
        db.session.execute(
            select(InspectionPhoto.inspection_id).where(
                InspectionPhoto.sha256 == sha, InspectionPhoto.received_at.is_not(None)
            )
        ).scalars()
    )
    if also is not None:
        ids.add(also.id)
    for inspection in (
        db.session.execute(select(Inspection).where(Inspection.id.in_(ids)).order_by(Inspection.id))
        .unique()
        .scalars()
    ):
        refresh_photo_flags(inspection)


def on_intake(inspection: Inspection) -> None:
    """Called by intake (inspections.services.submit): link photos, compute all flags.

    Photos the surveyor already uploaded count as received at once; the others are awaited.
    """
    expected = sorted({sha for answer in inspection.answers for sha in answer.photos})
    uploaded = set()
    if expected:
        uploaded = set(
            db.session.execute(
                select(PhotoUpload.sha256).where(
                    PhotoUpload.sha256.in_(expected), PhotoUpload.user_id == inspection.surveyor_id
                )
            ).scalars()
        )
    now = utcnow()
    for sha in expected:
        db.session.add(
            InspectionPhoto(
                inspection_id=inspection.id,
                sha256=sha,
                is_expected=True,
                received_at=now if sha in uploaded else None,
            )
        )
    db.session.flush()
    flags = refresh_flags(inspection)
    # An impossible trip involves two visits: show it on the other one too.
    others = {
        f["details"]["other_inspection_id"] for f in flags if f["code"] == "impossible_travel"
    }
    for sha in uploaded:
        _refresh_users_of(sha, also=inspection)
    for other in db.session.execute(select(Inspection).where(Inspection.id.in_(others))).unique():
        refresh_flags(other[0])


# --- flags ---------------------------------------------------------------------------------------


def thresholds() -> integrity.Thresholds:
    """The configured integrity thresholds."""
    c = current_app.config
    return integrity.Thresholds(
        max_distance_m=c["INTEGRITY_MAX_DISTANCE_M"],
        min_minutes_on_site=c["INTEGRITY_MIN_MINUTES_ON_SITE"],
        max_clock_skew_minutes=c["INTEGRITY_MAX_CLOCK_SKEW_MINUTES"],
        max_receipt_delay_days=c["INTEGRITY_MAX_RECEIPT_DELAY_DAYS"],
        max_speed_kmh=c["INTEGRITY_MAX_SPEED_KMH"],
        exif_margin_minutes=c["INTEGRITY_EXIF_MARGIN_MINUTES"],
    )


def _visit(inspection: Inspection) -> integrity.Visit:
    return integrity.Visit(
        inspection_id=inspection.id,
        unit_code=inspection.unit.code,
        unit_lat=inspection.unit.lat,
        unit_lon=inspection.unit.lon,
        started_at=inspection.started_at,
        finished_at=inspection.finished_at,
        received_at=inspection.received_at,
        lat=inspection.lat,
        lon=inspection.lon,
        accuracy_m=inspection.accuracy_m,
    )


#: The longest trip inside Indonesia (Sabang-Merauke) is ~5,300 km; beyond the time that takes at
#: the configured speed no pair of visits can be impossible, so neighbours are searched that far.
LONGEST_TRIP_KM = 5_300


#: Neighbouring visits compared per intake: this many just before and just after the visit. A
#: surveyor makes a handful of visits a day; the cap keeps a flood of same-time checklists from
#: making intake quadratic, and consecutive visits are the ones impossible travel is about.
NEIGHBOURS_EACH_SIDE = 25


def _neighbours(inspection: Inspection, limits: integrity.Thresholds) -> list[integrity.Visit]:
    window = timedelta(hours=LONGEST_TRIP_KM / limits.max_speed_kmh)
    # Plain columns, not Inspection objects: this runs on every intake and must not load the
    # stored payloads and breakdowns of the surveyor's other visits.
    base = (
        select(
            Inspection.id,
            Unit.code,
            Unit.lat,
            Unit.lon,
            Inspection.started_at,
            Inspection.finished_at,
            Inspection.received_at,
            Inspection.lat,
            Inspection.lon,
            Inspection.accuracy_m,
        )
        .join(Unit, Unit.id == Inspection.unit_id)
        .where(
            Inspection.surveyor_id == inspection.surveyor_id,
            Inspection.id != inspection.id,
            Inspection.started_at <= inspection.finished_at + window,
            Inspection.finished_at >= inspection.started_at - window,
        )
    )
    before = base.where(Inspection.started_at <= inspection.started_at).order_by(
        Inspection.started_at.desc(), Inspection.id.desc()
    )
    after = base.where(Inspection.started_at > inspection.started_at).order_by(
        Inspection.started_at, Inspection.id
    )
    rows = [
        *db.session.execute(before.limit(NEIGHBOURS_EACH_SIDE)).all(),
        *db.session.execute(after.limit(NEIGHBOURS_EACH_SIDE)).all(),
    ]
    return [
        integrity.Visit(
            inspection_id=r[0],
            unit_code=r[1],
            unit_lat=r[2],
            unit_lon=r[3],
            started_at=r[4],
            finished_at=r[5],
            received_at=r[6],
            lat=r[7],
            lon=r[8],
            accuracy_m=r[9],
        )
        for r in rows
    ]


def refresh_flags(inspection: Inspection) -> list[dict[str, Any]]:
    """Recompute every integrity flag of ``inspection`` from stored data and store them."""
    limits = thresholds()
    visit = _visit(inspection)
    flags = integrity.visit_flags(visit, _neighbours(inspection, limits), limits)
    flags += _photo_flags(inspection, visit, limits)
    _store_flags(inspection, flags)
    return flags


def refresh_photo_flags(inspection: Inspection) -> list[dict[str, Any]]:
    """Recompute only the photo-dependent flags (a photo or waiver arrived)."""
    limits = thresholds()
    flags = integrity.merge(
        inspection.flags or [], _photo_flags(inspection, _visit(inspection), limits)
    )
    _store_flags(inspection, flags)
    return flags


def _store_flags(inspection: Inspection, flags: list[dict[str, Any]]) -> None:
    inspection.flags = flags
    db.session.execute(delete(InspectionFlag).where(InspectionFlag.inspection_id == inspection.id))
    for code in sorted({f["code"] for f in flags}):
        db.session.add(InspectionFlag(inspection_id=inspection.id, code=code))
    db.session.flush()


@dataclass
class EvidenceState:
    """Expected and received photos, photo_required items and waivers of one inspection."""

    links: list[InspectionPhoto]
    items: list[integrity.EvidenceItem]

    @property
    def received(self) -> set[str]:
        """SHA-256 of photos received."""
        return {link.sha256 for link in self.links if link.received_at is not None}


def evidence_state(inspection: Inspection) -> EvidenceState:
    """Load what the evidence rules need about ``inspection``."""
    links = list(
        db.session.execute(
            select(InspectionPhoto)
            .where(InspectionPhoto.inspection_id == inspection.id)
            .order_by(InspectionPhoto.sha256)
        ).scalars()
    )
    waivers = {
        w.indicator_code: w
        for w in db.session.execute(
            select(EvidenceWaiver).where(EvidenceWaiver.inspection_id == inspection.id)
        ).scalars()
    }
    methodology = get_registry().methodology(inspection.methodology_id)
    required = (
        {i.code for i in methodology.indicators if i.photo_required} if methodology else set()
    )
    items = [
        integrity.EvidenceItem(
            indicator=answer.indicator_code,
            answer=answer.value,
            photos=tuple(answer.photos or ()),
            waiver_reason=waivers[answer.indicator_code].reason
            if answer.indicator_code in waivers
            else None,
            waived_by=waivers[answer.indicator_code].waived_by
            if answer.indicator_code in waivers
            else None,
        )
        for answer in inspection.answers
        if answer.indicator_code in required
    ]
    return EvidenceState(links, items)


def _correction_chain(inspection: Inspection) -> set[int]:
    """The inspection and its corrections, both ways (A returned, B corrects A, C corrects B)."""
    chain = {inspection.id}
    frontier = [inspection.id]
    while frontier:
        rows = db.session.execute(
            select(Inspection.id, Inspection.supersedes_id).where(
                or_(Inspection.id.in_(frontier), Inspection.supersedes_id.in_(frontier))
            )
        ).all()
        found = {i for row in rows for i in row if i is not None} - chain
        chain |= found
        frontier = list(found)
    return chain


def _photo_flags(
    inspection: Inspection, visit: integrity.Visit, limits: integrity.Thresholds
) -> list[dict[str, Any]]:
    state = evidence_state(inspection)
    received = sorted(state.received)
    photos: list[integrity.PhotoInfo] = []
    if received:
        used: dict[str, list[int]] = {}
        # A corrected resubmission carries its returned version's photos: the same visit's
        # evidence, not a photo passed off as another visit's.
        own = _correction_chain(inspection)
        for sha, other in db.session.execute(
            select(InspectionPhoto.sha256, InspectionPhoto.inspection_id).where(
                InspectionPhoto.sha256.in_(received),
                InspectionPhoto.received_at.is_not(None),
                InspectionPhoto.inspection_id.not_in(own),
            )
        ):
            used.setdefault(sha, []).append(other)
        for photo in db.session.execute(
            select(Photo).where(Photo.sha256.in_(received)).order_by(Photo.sha256)
        ).scalars():
            photos.append(
                integrity.PhotoInfo(
                    sha256=photo.sha256,
                    exif_taken_at=_exif_time(photo),
                    used_by=tuple(sorted(used.get(photo.sha256, []))),
                    exif_lat=photo.exif_lat,
                    exif_lon=photo.exif_lon,
                )
            )
    zone = ZoneInfo(inspection.unit.region.timezone)
    return integrity.evidence_flags(state.items, set(received)) + integrity.photo_flags(
        visit, photos, zone, limits
    )


def _exif_time(photo: Photo) -> datetime | None:
    if photo.exif_taken_at is None:
        return None
    if photo.exif_utc_offset:
        try:
            sign = -1 if photo.exif_utc_offset[0] == "-" else 1
            hours, minutes = photo.exif_utc_offset[1:].split(":")
            offset = timedelta(hours=int(hours), minutes=int(minutes)) * sign
            return photo.exif_taken_at.replace(tzinfo=timezone(offset))
        except (ValueError, IndexError):
            pass
    return photo.exif_taken_at


# --- approval and waivers ---------------------------------------------------------------------


def evidence_blockers_for_ids(ids: Sequence[int]) -> dict[int, list[str]]:
    """For each inspection in ``ids`` with missing photo evidence, the reviewer-facing messages.

    Reads the stored ``evidence_missing`` flags (kept current whenever photos or waivers arrive),
    in a few queries whatever the number of ids, so bulk review stays set-based.
    """
    blockers: dict[int, list[str]] = {}
    ids = list(ids)
    for start in range(0, len(ids), 900):  # stay under every backend's bound-parameter limit
        chunk = ids[start : start + 900]
        rows = db.session.execute(
            select(Inspection.id, Inspection.flags)
            .join(InspectionFlag, InspectionFlag.inspection_id == Inspection.id)
            .where(InspectionFlag.code == "evidence_missing", Inspection.id.in_(chunk))
        ).all()
        for inspection_id, flags in rows:
            blockers[inspection_id] = [
                f["message"] for f in flags or [] if f.get("code") == "evidence_missing"
            ]
    return blockers


def approval_blockers(inspection: Inspection) -> list[str]:
    """Why ``inspection`` cannot be approved yet, e.g. ``["evidence_missing:MP-01"]``.

    Approval (fieldcheck.review) is refused while this is non-empty; bulk review reads the same
    rule set-based through ``evidence_blockers_for_ids``.
    """
    state = evidence_state(inspection)
    return [
        f"evidence_missing:{f['details']['indicator']}"
        for f in integrity.evidence_flags(state.items, state.received)
        if f["code"] == "evidence_missing"
    ]


def waive(inspection: Inspection, indicator: str, reason: str, user: User) -> EvidenceWaiver:
    """Waive a missing photo for one indicator, with a reason (audited); 422 if none is missing."""
    if f"evidence_missing:{indicator}" not in approval_blockers(inspection):
        raise ApiError(
            "validation_failed",
            "This indicator has no missing photo evidence to waive.",
            {"fields": {"indicator": ["No missing evidence for this indicator."]}},
        )
    waiver = EvidenceWaiver(
        inspection_id=inspection.id,
        indicator_code=indicator,
        reason=reason,
        waived_by=user.id,
        waived_at=utcnow(),
    )
    db.session.add(waiver)
    db.session.flush()
    refresh_photo_flags(inspection)
    audit_event(
        user,
        "evidence.waive",
        f"inspection:{inspection.id}",
        {"indicator": indicator, "reason": reason},
        region=inspection.unit.region_code,
    )
    return waiver


def photo_summary(inspection: Inspection) -> dict[str, Any]:
    """``{"expected", "received", "missing", "waived"}`` for the inspection's JSON."""
    state = evidence_state(inspection)
    expected = sorted(link.sha256 for link in state.links if link.is_expected)
    received = sorted(state.received)
    return {
        "expected": expected,
        "received": received,
        "missing": [sha for sha in expected if sha not in state.received],
        "waived": [
            {"indicator": item.indicator, "reason": item.waiver_reason, "by": item.waived_by}
            for item in state.items
            if item.waiver_reason is not None
        ],
    }


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


# --- retention ---------------------------------------------------------------------------------


@dataclass
class PurgeCandidate:
    """A photo only rejected inspections use, the newest of them rejected before the cutoff."""

    sha256: str
    size_bytes: int
    inspection_ids: list[int]


def _rejected_at_column() -> Any:
    # The retention period runs from the rejection (the review's time); the receipt time stands in
    # only for a row rejected without a recorded review time.
    return func.coalesce(Inspection.reviewed_at, Inspection.received_at)


def purge_candidates(older_than_days: int) -> list[PurgeCandidate]:
    """Photos whose every receiving inspection is rejected, all of them before the cutoff."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    decided_at = _rejected_at_column()
    rows = db.session.execute(
        select(Photo.sha256, Photo.size_bytes, Inspection.id, Inspection.status, decided_at)
        .join(InspectionPhoto, InspectionPhoto.sha256 == Photo.sha256)
        .join(Inspection, Inspection.id == InspectionPhoto.inspection_id)
        .where(InspectionPhoto.received_at.is_not(None))
        .order_by(Photo.sha256, Inspection.id)
    ).all()
    by_photo: dict[str, list[Any]] = {}
    for row in rows:
        by_photo.setdefault(row[0], []).append(row)
    result = []
    for sha, uses in by_photo.items():
        if all(u[3] == "rejected" and u[4] is not None and u[4] < cutoff for u in uses):
            result.append(PurgeCandidate(sha, uses[0][1], [u[2] for u in uses]))
    return result


def purge_rejected(older_than_days: int, dry_run: bool = False) -> list[PurgeCandidate]:
    """Delete the blobs and rows of purge candidates (audited); idempotent. Caller commits.

    Blobs go first: if the commit then fails the rows point at nothing and a rerun finishes the
    job; the reverse order could leave blobs no row knows about. Links from inspections to the
    SHA-256 stay, as the record that a photo existed.
    """
    candidates = purge_candidates(older_than_days)
    if dry_run:
        return candidates
    storage = get_storage()
    for candidate in candidates:
        photo = db.session.get(Photo, candidate.sha256)
        if photo is None:
            continue
        storage.delete(photo.storage_key)
        storage.delete(photo.preview_key)
        db.session.execute(delete(PhotoUpload).where(PhotoUpload.sha256 == photo.sha256))
        db.session.delete(photo)
        audit_event(
            None,
            "photos.purge",
            f"photo:{candidate.sha256}",
            {
                "inspections": candidate.inspection_ids,
                "size_bytes": candidate.size_bytes,
                "older_than_days": older_than_days,
            },
        )
    db.session.flush()
    return candidates


def photo_visible_to(sha256: str, user: Any) -> bool:
    """Whether ``user`` may see a stored photo: they uploaded it, an inspection they may see
    received it, or an objection to such an inspection's finding cites it."""
    from sqlalchemy import Text, cast

    from fieldcheck.inspections.models import Inspection
    from fieldcheck.inspections.routes import visible_inspections
    from fieldcheck.review.models import Objection

    own = db.session.execute(
        select(PhotoUpload.id).where(PhotoUpload.sha256 == sha256, PhotoUpload.user_id == user.id)
    ).first()
    if own is not None:
        return True
    visible = visible_inspections(user).with_only_columns(Inspection.id)
    received = visible.join(InspectionPhoto, InspectionPhoto.inspection_id == Inspection.id)
    if db.session.execute(
        received.where(
            InspectionPhoto.sha256 == sha256, InspectionPhoto.received_at.is_not(None)
        ).limit(1)
    ).first():
        return True
    # A 64-hex digest in quotes can only be a whole element of the JSON list.
    cited = visible.join(Objection, Objection.inspection_id == Inspection.id).where(
        cast(Objection.photos, Text).like(f'%"{sha256}"%')
    )
    return db.session.execute(cited.limit(1)).first() is not None


def flags_for(flag_lists: list[list[dict[str, Any]]], user: Any) -> list[list[dict[str, Any]]]:
    """Integrity flags as ``user`` may see them: another inspection a flag names (the same photo
    elsewhere, the same surveyor elsewhere) stays named only if the user may see it.

    Otherwise its id and unit are left out and the message says the other visit lies outside the
    user's view: the flag still warns, without revealing another region's work. One query for
    all the lists (a page of inspections).
    """
    from fieldcheck.inspections.models import Inspection
    from fieldcheck.inspections.routes import visible_inspections

    named: set[int] = set()
    for flags in flag_lists:
        for f in flags or ():
            details = f.get("details") or {}
            named.update(details.get("other_inspection_ids") or ())
            if details.get("other_inspection_id") is not None:
                named.add(details["other_inspection_id"])
    if not named:
        return flag_lists
    seen = set(
        db.session.execute(
            visible_inspections(user)
            .with_only_columns(Inspection.id)
            .where(Inspection.id.in_(sorted(named)))
        ).scalars()
    )
    return [[_as_seen(f, seen) for f in flags or ()] for flags in flag_lists]


def _as_seen(flag: dict[str, Any], seen: set[int]) -> dict[str, Any]:
    details = dict(flag.get("details") or {})
    if flag.get("code") == "photo_reused":
        others = details.get("other_inspection_ids") or []
        kept = [i for i in others if i in seen]
        hidden = len(others) - len(kept)
        if not hidden:
            return flag
        details["other_inspection_ids"] = kept
        named = f" ({', '.join(f'#{i}' for i in kept)})" if kept else ""
        message = (
            f"Foto {details.get('sha256', '')[:12]} juga dipakai pada kunjungan lain{named}; "
            f"{hidden} di antaranya di luar wilayah Anda."
        )
        return {**flag, "details": details, "message": message}
    other = details.get("other_inspection_id")
    if flag.get("code") == "impossible_travel" and other is not None and other not in seen:
        details["other_inspection_id"] = None
        details.pop("other_unit", None)
        gap = max(details.get("gap_minutes") or 0, 0)
        message = (
            f"Surveyor yang sama tercatat pada kunjungan lain, di luar wilayah Anda, berjarak "
            f"{details.get('distance_km')} km dengan selang {gap:.0f} menit; tidak mungkin "
            "ditempuh."
        )
        return {**flag, "details": details, "message": message}
    return flag
