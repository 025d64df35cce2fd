"""What the evidence rules read about one inspection: expected and received photos,
photo-required answers and their waivers; and the summary the API shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core import integrity
from fieldcheck.evidence.models import EvidenceWaiver, InspectionPhoto, Photo
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection


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
    methodology = get_registry().methodology(
        inspection.methodology_id, inspection.methodology_version
    )
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


def exif_time(photo: Photo) -> datetime | None:
    """When the camera says the photo was taken: aware when it recorded its UTC offset, else the
    camera's naive wall-clock time (the integrity checks read it in the unit's zone)."""
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


@dataclass
class PhotoDetail:
    """One photo of an inspection as a reviewer sees it."""

    sha256: str
    is_expected: bool
    is_received: bool
    #: The EXIF time as an aware datetime (a naive camera time read in the unit's zone).
    taken_at: datetime | None
    #: Metres between the photo's EXIF position and the unit, when both are known.
    distance_m: float | None
    #: The indicators whose answers cite it.
    indicators: list[str]


def photo_details(inspection: Inspection) -> list[PhotoDetail]:
    """The inspection's expected and received photos with EXIF time and distance from the unit."""
    links = evidence_state(inspection).links
    photos = {
        p.sha256: p
        for p in db.session.execute(
            select(Photo).where(Photo.sha256.in_([link.sha256 for link in links]))
        ).scalars()
    }
    cited: dict[str, list[str]] = {}
    for answer in inspection.answers:
        for sha in answer.photos or ():
            cited.setdefault(sha, []).append(answer.indicator_code)
    unit = inspection.unit
    zone = ZoneInfo(unit.region.timezone)
    out = []
    for link in links:
        photo = photos.get(link.sha256)
        taken = exif_time(photo) if photo is not None else None
        if taken is not None and taken.tzinfo is None:
            taken = taken.replace(tzinfo=zone)
        distance = None
        if photo is not None and None not in (photo.exif_lat, photo.exif_lon, unit.lat, unit.lon):
            distance = integrity.haversine_m(photo.exif_lat, photo.exif_lon, unit.lat, unit.lon)
        out.append(
            PhotoDetail(
                sha256=link.sha256,
                is_expected=link.is_expected,
                is_received=link.received_at is not None and photo is not None,
                taken_at=taken,
                distance_m=distance,
                indicators=cited.get(link.sha256, []),
            )
        )
    return out
