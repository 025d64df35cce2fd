"""Integrity checks: did an unannounced visit really happen where, when and how it says?

Pure functions over plain data: a visit, the unit's coordinates, the surveyor's neighbouring visits
and the photos received, in; a list of flag dicts ``{"code", "severity", "message", "details"}``
out, plus ``"params"``: ``message`` is a gettext msgid (marked with ``N_``) whose placeholders
``params`` fills when the flag is read, in the reader's language (fieldcheck.i18n.render).
Flags are for a reviewer to weigh: they never change or drop the submitted data.

Severities: ``"serious"`` (the visit may not have happened as reported), ``"warning"`` (worth a
look), ``"blocking"`` (approval is refused until resolved), ``"info"`` (a recorded decision).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from fieldcheck.core.messages import N_

#: Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8

#: A waiver's reason: long enough to say something, short enough to read (the API's schema and
#: the evidence service both read these).
WAIVER_REASON_MIN = 5
WAIVER_REASON_MAX = 2000

#: Codes that depend on the photos received; recomputed whenever a photo arrives.
PHOTO_CODES = frozenset(
    {"evidence_missing", "evidence_waived", "photo_reused", "exif_outside_visit", "photo_gps_far"}
)
#: Every code this module can emit (the ``flag=`` filter accepts these).
ALL_CODES = PHOTO_CODES | {
    "gps_missing",
    "gps_far",
    "short_visit",
    "clock_future",
    "late_receipt",
    "impossible_travel",
}


@dataclass(frozen=True)
class Thresholds:
    """Configured limits (INTEGRITY_* settings)."""

    max_distance_m: float = 300.0
    min_minutes_on_site: float = 10.0
    max_clock_skew_minutes: float = 10.0
    max_receipt_delay_days: float = 7.0
    max_speed_kmh: float = 120.0
    exif_margin_minutes: float = 30.0


@dataclass(frozen=True)
class Visit:
    """One inspection as the integrity rules see it (times are aware datetimes)."""

    inspection_id: int | None
    unit_code: str
    unit_lat: float | None
    unit_lon: float | None
    started_at: datetime
    finished_at: datetime
    received_at: datetime
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None

    @property
    def place(self) -> tuple[float, float] | None:
        """Where the visit was: the unit's coordinates, else the phone's fix."""
        if self.unit_lat is not None and self.unit_lon is not None:
            return (self.unit_lat, self.unit_lon)
        if self.lat is not None and self.lon is not None:
            return (self.lat, self.lon)
        return None


@dataclass(frozen=True)
class PhotoInfo:
    """A received photo: its hash, EXIF capture time (naive local + optional offset) and GPS."""

    sha256: str
    exif_taken_at: datetime | None = None
    #: Other inspections (ids) that received the same photo.
    used_by: tuple[int, ...] = ()
    exif_lat: float | None = None
    exif_lon: float | None = None


@dataclass(frozen=True)
class EvidenceItem:
    """A ``photo_required`` indicator answered on this visit."""

    indicator: str
    answer: str
    photos: tuple[str, ...] = ()
    waiver_reason: str | None = None
    waived_by: int | None = None


def flag(
    code: str,
    severity: str,
    message: str,
    params: Mapping[str, Any] | None = None,
    **details: Any,
) -> dict[str, Any]:
    """One flag as stored on an inspection: ``message`` is a msgid, ``params`` its values."""
    return {
        "code": code,
        "severity": severity,
        "message": message,
        "params": dict(params or {}),
        "details": details,
    }


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def location_flags(visit: Visit, limits: Thresholds) -> list[dict[str, Any]]:
    """GPS missing, or farther from the unit than allowed even at the edge of its accuracy."""
    if visit.lat is None or visit.lon is None:
        return [flag("gps_missing", "warning", N_("The visit was sent without a GPS location."))]
    if visit.unit_lat is None or visit.unit_lon is None:
        return []  # the unit has no coordinates on file: nothing to compare with
    distance = haversine_m(visit.lat, visit.lon, visit.unit_lat, visit.unit_lon)
    # The phone may have been anywhere within its reported accuracy radius: give it that benefit.
    nearest = max(0.0, distance - (visit.accuracy_m or 0.0))
    if nearest <= limits.max_distance_m:
        return []
    return [
        flag(
            "gps_far",
            "serious",
            N_("The visit was %(distance_m)s from the service unit (limit %(limit_m)s)."),
            {"distance_m": round(distance), "limit_m": round(limits.max_distance_m)},
            distance_m=round(distance),
            accuracy_m=visit.accuracy_m,
            max_distance_m=limits.max_distance_m,
        )
    ]


def duration_flags(visit: Visit, limits: Thresholds) -> list[dict[str, Any]]:
    """Time on site shorter than the configured minimum."""
    minutes = (visit.finished_at - visit.started_at).total_seconds() / 60
    if minutes >= limits.min_minutes_on_site:
        return []
    return [
        flag(
            "short_visit",
            "warning",
            N_("Only %(minutes)s minutes on site (at least %(min_minutes)s minutes)."),
            {"minutes": round(minutes), "min_minutes": round(limits.min_minutes_on_site)},
            minutes=round(minutes, 1),
            min_minutes=limits.min_minutes_on_site,
        )
    ]


def clock_flags(visit: Visit, limits: Thresholds) -> list[dict[str, Any]]:
    """``finished_at`` after receipt (phone clock ahead) or long before it (late or backdated)."""
    ahead = visit.finished_at - visit.received_at
    if ahead > timedelta(minutes=limits.max_clock_skew_minutes):
        return [
            flag(
                "clock_future",
                "warning",
                N_(
                    "Finished %(minutes)s minutes after the server received the data; the "
                    "phone's clock may be wrong."
                ),
                {"minutes": round(ahead.total_seconds() / 60)},
                ahead_minutes=round(ahead.total_seconds() / 60, 1),
            )
        ]
    delay = visit.received_at - visit.finished_at
    if delay > timedelta(days=limits.max_receipt_delay_days):
        return [
            flag(
                "late_receipt",
                "warning",
                N_("Data received %(days)s days after the visit (limit %(limit_days)s days)."),
                {
                    "days": round(delay.total_seconds() / 86400, 1),
                    "limit_days": limits.max_receipt_delay_days,
                },
                delay_days=round(delay.total_seconds() / 86400, 2),
            )
        ]
    return []


def travel_flags(visit: Visit, others: Iterable[Visit], limits: Thresholds) -> list[dict[str, Any]]:
    """The same surveyor at two places farther apart than the time between the visits allows."""
    here = visit.place
    if here is None:
        return []
    result = []
    for other in sorted(others, key=lambda v: v.started_at):
        there = other.place
        if there is None or other.inspection_id == visit.inspection_id:
            continue
        distance = haversine_m(*here, *there)
        if distance <= 2 * limits.max_distance_m:
            continue  # the same place (or next door): no travel to speak of
        first, second = (other, visit) if other.started_at <= visit.started_at else (visit, other)
        gap_h = (second.started_at - first.finished_at).total_seconds() / 3600
        needed_h = distance / 1000 / limits.max_speed_kmh
        if gap_h >= needed_h:
            continue
        speed = None if gap_h <= 0 else round(distance / 1000 / gap_h)
        result.append(
            flag(
                "impossible_travel",
                "serious",
                N_(
                    "The same surveyor was recorded at %(unit)s, %(distance_m)s away, "
                    "%(minutes)s minutes apart; that cannot be travelled "
                    "(at most %(max_kmh)s km/h)."
                ),
                {
                    "unit": other.unit_code,
                    "distance_m": round(distance),
                    "minutes": round(max(gap_h, 0) * 60),
                    "max_kmh": round(limits.max_speed_kmh),
                },
                other_inspection_id=other.inspection_id,
                other_unit=other.unit_code,
                distance_km=round(distance / 1000, 1),
                gap_minutes=round(gap_h * 60, 1),
                speed_kmh=speed,
            )
        )
    return result


def evidence_flags(items: Iterable[EvidenceItem], received: set[str]) -> list[dict[str, Any]]:
    """A ``photo_required`` "yes" needs one of its photos received (or a waiver)."""
    result = []
    for item in sorted(items, key=lambda i: i.indicator):
        if item.answer != "yes" or any(sha in received for sha in item.photos):
            continue
        if item.waiver_reason is not None:
            result.append(
                flag(
                    "evidence_waived",
                    "info",
                    N_("No photo evidence for %(indicator)s; waived by a supervisor: %(reason)s"),
                    {"indicator": item.indicator, "reason": item.waiver_reason},
                    indicator=item.indicator,
                    waived_by=item.waived_by,
                    reason=item.waiver_reason,
                )
            )
            continue
        awaited = [sha for sha in item.photos if sha not in received]
        result.append(
            flag(
                "evidence_missing",
                "blocking",
                N_(
                    "Indicator %(indicator)s was answered 'yes' but its photo evidence has not "
                    "been received."
                ),
                {"indicator": item.indicator},
                indicator=item.indicator,
                awaited=awaited,
            )
        )
    return result


def photo_flags(
    visit: Visit, photos: Iterable[PhotoInfo], zone: tzinfo, limits: Thresholds
) -> list[dict[str, Any]]:
    """Reused photos, EXIF capture times outside the visit, EXIF GPS far from the unit.

    EXIF times carry no zone unless the camera wrote an offset; a naive one is read in the unit's
    own zone (``zone``), which is what the phone's clock showed there.
    """
    result = []
    margin = timedelta(minutes=limits.exif_margin_minutes)
    for photo in sorted(photos, key=lambda p: p.sha256):
        others = sorted(set(photo.used_by) - {visit.inspection_id})
        if others:
            result.append(
                flag(
                    "photo_reused",
                    "serious",
                    N_("Photo %(photo)s is also used on other visits (%(visits)s)."),
                    {"photo": photo.sha256[:12], "visits": [f"#{i}" for i in others]},
                    sha256=photo.sha256,
                    other_inspection_ids=others,
                )
            )
        taken = photo.exif_taken_at
        if taken is not None:
            aware = taken if taken.tzinfo is not None else taken.replace(tzinfo=zone)
            if not visit.started_at - margin <= aware <= visit.finished_at + margin:
                result.append(
                    flag(
                        "exif_outside_visit",
                        "warning",
                        N_("Photo %(photo)s was taken %(taken_at)s, outside the visit."),
                        {"photo": photo.sha256[:12], "taken_at": aware.isoformat()},
                        sha256=photo.sha256,
                        taken_at=aware.isoformat(),
                    )
                )
        if (
            photo.exif_lat is not None
            and photo.exif_lon is not None
            and visit.unit_lat is not None
            and visit.unit_lon is not None
        ):
            distance = haversine_m(photo.exif_lat, photo.exif_lon, visit.unit_lat, visit.unit_lon)
            if distance > limits.max_distance_m:
                result.append(
                    flag(
                        "photo_gps_far",
                        "serious",
                        N_("Photo %(photo)s was taken %(distance_m)s from the service unit."),
                        {"photo": photo.sha256[:12], "distance_m": round(distance)},
                        sha256=photo.sha256,
                        distance_m=round(distance),
                    )
                )
    return result


def visit_flags(
    visit: Visit, neighbours: Iterable[Visit], limits: Thresholds
) -> list[dict[str, Any]]:
    """The flags that depend only on the checklist: place, duration, clock, travel."""
    return (
        location_flags(visit, limits)
        + duration_flags(visit, limits)
        + clock_flags(visit, limits)
        + travel_flags(visit, neighbours, limits)
    )


def merge(stored: Iterable[Mapping[str, Any]], photo_flags_: list[dict[str, Any]]) -> list[dict]:
    """Stored flags with their photo-dependent part replaced by a fresh computation."""
    kept = [dict(f) for f in stored if f.get("code") not in PHOTO_CODES]
    return kept + photo_flags_
