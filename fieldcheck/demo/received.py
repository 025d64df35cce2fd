"""Demo visits still waiting for review: the review queue's first work in Jawa Timur and
Sumatera Barat.

Each is sent as a phone sends it: the photo first (``evidence.upload``, the multipart body of
``POST /api/v1/photos``), then the checklist naming it (``inspections.services.submit``). One
carries a photo with EXIF capture time and GPS at the unit, one many failed items (findings that
cite the law) at a red unit, one a GPS fix far from the unit (an integrity flag). Their
submission ids are fixed per year, so seeding again sends nothing twice.
"""

from __future__ import annotations

import io
import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from PIL import Image, ImageDraw
from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import utcnow
from fieldcheck.demo.inspections import NAMESPACE, _body, send
from fieldcheck.evidence.upload import spool_upload, store_photo
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.services import find_by_submission
from fieldcheck.units.models import Unit

#: The indicator the demo photo documents (the maklumat pelayanan on the wall).
PHOTO_INDICATOR = "MP-01"
#: About 2.2 km north of the unit: far beyond the 300 m an inspection may be from it.
FAR_OFFSET_DEG = 0.02


@dataclass(frozen=True)
class Visit:
    """One waiting demo visit: which unit, when (local hour), and what it shows."""

    unit_code: str
    hour: int
    kind: str  # "photo", "findings" or "far"


VISITS = (
    Visit("35.15-DUKCAPIL", 9, "photo"),
    Visit("35.25-KUA-GRESIK", 13, "findings"),
    Visit("13.71-SATPAS", 10, "far"),
)


def _visit_day(today: date) -> date:
    """Yesterday, kept inside this year (the visits count towards this year's period)."""
    return max(today - timedelta(days=1), today.replace(month=1, day=1))


def demo_photo(taken: datetime, lat: float, lon: float) -> bytes:
    """A small JPEG of a notice board, with EXIF DateTimeOriginal (local time), its UTC offset
    and the GPS position, as a phone camera writes them."""
    image = Image.new("RGB", (480, 360), (226, 232, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 40, 420, 320), fill=(255, 255, 255), outline=(31, 41, 51), width=4)
    draw.text((90, 60), "MAKLUMAT PELAYANAN", fill=(31, 41, 51))
    for row in range(8):
        y = 100 + row * 24
        draw.line((90, y, 390 - (row % 3) * 40, y), fill=(120, 130, 145), width=3)
    exif = Image.Exif()
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    offset = taken.utcoffset() or timedelta(0)
    hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
    sub[0x9011] = f"{'+' if hours >= 0 else '-'}{abs(hours):02d}:{minutes:02d}"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = ("S" if lat < 0 else "N"), _dms(lat)
    gps[3], gps[4] = ("W" if lon < 0 else "E"), _dms(lon)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, exif=exif)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return (float(degrees), float(minutes), round(((value - degrees) * 60 - minutes) * 60, 3))


def _upload(photo: bytes, surveyor: User) -> str:
    """Send ``photo`` as a phone does (multipart, field ``file``); returns its SHA-256."""
    boundary = "fieldcheck-demo-photo"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="maklumat.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    spooled = spool_upload(
        io.BytesIO(body),
        f"multipart/form-data; boundary={boundary}",
        current_app.config["PHOTO_MAX_BYTES"],
    )
    return store_photo(spooled, surveyor).photo.sha256


def seed_received_inspections(surveyors: dict[str, User]) -> int:
    """Send the waiting demo visits not sent yet this year; returns how many were new.

    ``surveyors`` maps a province code to its demo surveyor (who sends the visits there).
    """
    tz = ZoneInfo("Asia/Jakarta")
    today = utcnow().astimezone(tz).date()
    created = 0
    for visit in VISITS:
        submission_id = uuid.uuid5(NAMESPACE, f"received/{visit.unit_code}/{today.year}")
        if find_by_submission(submission_id) is not None:
            continue
        unit = (
            db.session.execute(select(Unit).where(Unit.code == visit.unit_code))
            .unique()
            .scalar_one_or_none()
        )
        surveyor = surveyors.get(visit.unit_code.split(".")[0])
        if unit is None or surveyor is None or unit.lat is None:
            continue
        local = ZoneInfo(unit.region.timezone)
        started = datetime.combine(_visit_day(today), time(visit.hour, 0), tzinfo=local)
        rng = random.Random(f"received/{unit.code}")  # noqa: S311 - demo data, not security
        body = _body(unit, 0, started, rng)
        body["submission_id"] = str(submission_id)
        body["notes"] = "Inspeksi demo (data contoh), menunggu pemeriksaan supervisor."
        if visit.kind == "photo":
            taken = started + timedelta(minutes=12)
            sha = _upload(demo_photo(taken, unit.lat, unit.lon), surveyor)
            body["answers"][PHOTO_INDICATOR] = {"value": "yes", "photos": [sha]}
            # One wide photo of the service hall documents every item that asks for one, so
            # this visit waits for nothing but a supervisor's decision (approvable in the demo).
            methodology = get_registry().methodology(body["methodology"])
            for indicator in methodology.indicators:
                answer = body["answers"].get(indicator.code)
                if indicator.photo_required and answer and answer["value"] == "yes":
                    answer["photos"] = [sha]
        elif visit.kind == "findings":
            # Nothing posted, nothing in place: every obligation observed is a finding.
            body["answers"] = {code: {"value": "no"} for code in body["answers"]}
            for posted in body["posted_standards"]:
                posted["components"] = []
        elif visit.kind == "far":
            body["location"] = {"lat": unit.lat + FAR_OFFSET_DEG, "lon": unit.lon}
        outcome = send(body, surveyor)
        if outcome.created:
            created += 1
    db.session.flush()
    return created


def received_demo_inspections() -> list[Inspection]:
    """The waiting demo visits of this year (for tests and the banner)."""
    year = utcnow().astimezone(ZoneInfo("Asia/Jakarta")).year
    ids = [uuid.uuid5(NAMESPACE, f"received/{v.unit_code}/{year}") for v in VISITS]
    return list(
        db.session.execute(select(Inspection).where(Inspection.submission_id.in_(ids)))
        .unique()
        .scalars()
    )
