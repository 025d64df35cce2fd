"""Integrity flags: a visit against its neighbours in time (impossible travel), against its
unit's place, and its photos against their EXIF and other visits; thresholds from the config."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, or_, select

from fieldcheck.core import integrity
from fieldcheck.evidence.models import InspectionFlag, InspectionPhoto, Photo
from fieldcheck.evidence.state import evidence_state, exif_time
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.units.models import Unit


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
                    exif_taken_at=exif_time(photo),
                    used_by=tuple(sorted(used.get(photo.sha256, []))),
                    exif_lat=photo.exif_lat,
                    exif_lon=photo.exif_lon,
                )
            )
    zone = ZoneInfo(inspection.unit.region.timezone)
    return integrity.evidence_flags(state.items, set(received)) + integrity.photo_flags(
        visit, photos, zone, limits
    )
