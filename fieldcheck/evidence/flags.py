"""Integrity flags: a visit against its neighbours in time (impossible travel), against its
unit's place, and its photos against their EXIF and other visits; thresholds from the config."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, bindparam, delete, insert, or_, select, union_all

from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import utcnow
from fieldcheck.core import integrity
from fieldcheck.evidence.models import InspectionFlag, InspectionPhoto, Photo, PhotoUpload
from fieldcheck.evidence.state import evidence_state, exif_time
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.services import Received
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


def _has_place() -> Any:
    """SQL: the visit has a place to travel from (the unit's coordinates or a GPS fix)."""
    return or_(
        and_(Unit.lat.is_not(None), Unit.lon.is_not(None)),
        and_(Inspection.lat.is_not(None), Inspection.lon.is_not(None)),
    )


def _nearest_statement() -> Any:
    """The surveyor's nearest earlier and nearest later visit with a place, in one statement
    (built once per process; see ``_neighbours``)."""
    when = Inspection.started_at.type
    base = (
        # Plain columns, not Inspection objects: this runs on every intake and must not load
        # the stored payloads and breakdowns of the surveyor's other visits.
        select(
            Inspection.id,
            Unit.code,
            Unit.lat,
            Unit.lon,
            Inspection.started_at,
            Inspection.finished_at,
            Inspection.received_at,
            Inspection.lat.label("visit_lat"),
            Inspection.lon.label("visit_lon"),
            Inspection.accuracy_m,
        )
        .join(Unit, Unit.id == Inspection.unit_id)
        .where(
            Inspection.surveyor_id == bindparam("surveyor_id"),
            Inspection.id != bindparam("exclude_id"),
            _has_place(),
        )
    )
    before = (
        base.where(
            Inspection.started_at <= bindparam("started_at", type_=when),
            Inspection.started_at >= bindparam("earliest", type_=when),
        )
        .order_by(Inspection.started_at.desc(), Inspection.id.desc())
        .limit(1)
        .subquery()
    )
    after = (
        base.where(
            Inspection.started_at > bindparam("started_at", type_=when),
            Inspection.started_at <= bindparam("latest", type_=when),
        )
        .order_by(Inspection.started_at, Inspection.id)
        .limit(1)
        .subquery()
    )
    return union_all(select(before), select(after))


NEAREST = _nearest_statement()


def _neighbours(
    surveyor_id: int, visit: integrity.Visit, limits: integrity.Thresholds
) -> list[integrity.Visit]:
    """The surveyor's nearest earlier and nearest later visit with a place (one query).

    Impossible travel is about consecutive visits: if a visit is reachable from its nearest
    neighbour on each side, a farther one that is not means the trip between those two
    neighbours was impossible, and that pair carries the flag (triangle inequality). With the
    index on (surveyor_id, started_at, id) (migration 0012) each side reads one index entry;
    beyond the longest trip at the configured speed no pair can be impossible, so nothing
    farther away in time is read.
    """
    window = timedelta(hours=LONGEST_TRIP_KM / limits.max_speed_kmh)
    rows = db.session.execute(
        NEAREST,
        {
            "surveyor_id": surveyor_id,
            "exclude_id": visit.inspection_id or 0,
            "started_at": visit.started_at,
            "earliest": visit.started_at - window,
            "latest": visit.finished_at + window,
        },
    ).all()
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
    flags = integrity.visit_flags(visit, _neighbours(inspection.surveyor_id, visit, limits), limits)
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


def _correction_chain(ids: set[int]) -> set[int]:
    """These inspections and their corrections, both ways (A returned, B corrects A, C corrects
    B)."""
    chain = set(ids)
    frontier = list(ids)
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


def _photo_infos(received: list[str], own: set[int]) -> list[integrity.PhotoInfo]:
    """The received photos' EXIF facts and the other inspections (not in ``own``, the visit's
    correction chain) that received them too."""
    if not received:
        return []
    used: dict[str, list[int]] = {}
    # A corrected resubmission carries its returned version's photos: the same visit's
    # evidence, not a photo passed off as another visit's.
    for sha, other in db.session.execute(
        select(InspectionPhoto.sha256, InspectionPhoto.inspection_id).where(
            InspectionPhoto.sha256.in_(received),
            InspectionPhoto.received_at.is_not(None),
            InspectionPhoto.inspection_id.not_in(own),
        )
    ):
        used.setdefault(sha, []).append(other)
    return [
        integrity.PhotoInfo(
            sha256=photo.sha256,
            exif_taken_at=exif_time(photo),
            used_by=tuple(sorted(used.get(photo.sha256, []))),
            exif_lat=photo.exif_lat,
            exif_lon=photo.exif_lon,
        )
        for photo in db.session.execute(
            select(Photo).where(Photo.sha256.in_(received)).order_by(Photo.sha256)
        ).scalars()
    ]


def _photo_flags(
    inspection: Inspection, visit: integrity.Visit, limits: integrity.Thresholds
) -> list[dict[str, Any]]:
    state = evidence_state(inspection)
    received = sorted(state.received)
    photos = _photo_infos(received, _correction_chain({inspection.id}) if received else set())
    zone = ZoneInfo(inspection.unit.region.timezone)
    return integrity.evidence_flags(state.items, set(received)) + integrity.photo_flags(
        visit, photos, zone, limits
    )


INSERT_LINKS = insert(InspectionPhoto.__table__)
INSERT_FLAGS = insert(InspectionFlag.__table__)


@dataclass
class NewEvidence:
    """What intake's flag check found out about a new inspection's photos, for storing."""

    expected: list[str]
    uploaded: set[str]


def check_new(received: Received) -> None:
    """Every integrity flag of a checklist about to be stored, and its photo summary, written
    into ``received`` (intake's record; no id yet). Reads only: the caller stores the row once,
    flags included, then calls ``store_new``."""
    limits = thresholds()
    unit = received.unit
    visit = integrity.Visit(
        inspection_id=None,
        unit_code=unit.code,
        unit_lat=unit.lat,
        unit_lon=unit.lon,
        started_at=received.started_at,
        finished_at=received.finished_at,
        received_at=received.received_at,
        lat=received.lat,
        lon=received.lon,
        accuracy_m=received.accuracy_m,
    )
    flags = integrity.visit_flags(visit, _neighbours(received.surveyor_id, visit, limits), limits)
    expected = sorted({sha for answer in received.answers for sha in answer.photos})
    uploaded: set[str] = set()
    if expected:
        # Photos the surveyor already uploaded count as received at once; the others are awaited.
        uploaded = set(
            db.session.execute(
                select(PhotoUpload.sha256).where(
                    PhotoUpload.sha256.in_(expected), PhotoUpload.user_id == received.surveyor_id
                )
            ).scalars()
        )
    methodology = get_registry().methodology(received.methodology_id, received.methodology_version)
    required = {i.code for i in methodology.indicators if i.photo_required} if methodology else ()
    items = [
        integrity.EvidenceItem(
            indicator=answer.indicator_code, answer=answer.value, photos=tuple(answer.photos)
        )
        for answer in received.answers
        if answer.indicator_code in required
    ]
    own = set()
    if uploaded and received.supersedes_id is not None:
        own = _correction_chain({received.supersedes_id})
    photos = _photo_infos(sorted(uploaded), own)
    flags += integrity.evidence_flags(items, uploaded) + integrity.photo_flags(
        visit, photos, ZoneInfo(unit.timezone), limits
    )
    received.flags = flags
    received.photos = {
        "expected": expected,
        "received": sorted(uploaded),
        "missing": [sha for sha in expected if sha not in uploaded],
        "waived": [],
    }
    received.evidence = NewEvidence(expected, uploaded)


def store_new(received: Received) -> list[int]:
    """Store a new inspection's photo links and flag rows (one INSERT each), after intake stored
    the inspection; returns the other inspections its flags name (to recompute theirs)."""
    found: NewEvidence = received.evidence
    if found.expected:
        now = utcnow()
        db.session.execute(
            INSERT_LINKS,
            [
                {
                    "inspection_id": received.id,
                    "sha256": sha,
                    "is_expected": True,
                    "received_at": now if sha in found.uploaded else None,
                }
                for sha in found.expected
            ],
        )
    codes = sorted({f["code"] for f in received.flags})
    if codes:
        db.session.execute(
            INSERT_FLAGS,
            [{"inspection_id": received.id, "code": code} for code in codes],
        )
    named = set()
    for f in received.flags:
        details = f.get("details") or {}
        if details.get("other_inspection_id") is not None:
            named.add(details["other_inspection_id"])
        named.update(details.get("other_inspection_ids") or ())
    return sorted(named)
