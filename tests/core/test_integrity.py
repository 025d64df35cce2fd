"""Integrity rules, table-driven with real coordinates of Indonesian service units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fieldcheck.core.integrity import (
    ALL_CODES,
    EvidenceItem,
    PhotoInfo,
    Thresholds,
    Visit,
    clock_flags,
    duration_flags,
    evidence_flags,
    haversine_m,
    location_flags,
    merge,
    photo_flags,
    travel_flags,
    visit_flags,
)
from fieldcheck.i18n import render

#: Real places (unit coordinates from the demo set, landmarks from public maps).
SIDOARJO = (-7.4478, 112.7183)  # Disdukcapil Kab. Sidoarjo
PADANG = (-0.9471, 100.4172)  # Disdukcapil Kota Padang
PADANG_SATPAS = (-0.9300, 100.3600)  # Satpas Polresta Padang
SURABAYA = (-7.2575, 112.7521)  # Tugu Pahlawan, Surabaya (~21 km from Disdukcapil Sidoarjo)
SIDOARJO_ALUN = (-7.4469, 112.7180)  # Alun-alun Sidoarjo, ~100 m away

LIMITS = Thresholds()
WIB = ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 11, 20, 2, 12, tzinfo=UTC)  # 09:12 WIB


def visit(
    where=SIDOARJO,
    at=SIDOARJO,
    minutes=29,
    accuracy=12.0,
    start=T0,
    received=None,
    ident=1,
    unit="35.15-DUKCAPIL",
):
    """A visit to the unit at ``where`` with a phone fix at ``at`` (None = no GPS)."""
    finished = start + timedelta(minutes=minutes)
    return Visit(
        inspection_id=ident,
        unit_code=unit,
        unit_lat=where[0] if where else None,
        unit_lon=where[1] if where else None,
        started_at=start,
        finished_at=finished,
        received_at=received or finished + timedelta(minutes=5),
        lat=at[0] if at else None,
        lon=at[1] if at else None,
        accuracy_m=accuracy,
    )


def codes(flags):
    return [f["code"] for f in flags]


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        (SIDOARJO, PADANG, 1543),  # Java to Sumatra, across the Java Sea
        (SIDOARJO, SURABAYA, 21.5),
        (PADANG, PADANG_SATPAS, 6.6),
        (SIDOARJO, SIDOARJO, 0.0),
    ],
)
def test_haversine_on_real_places(a, b, km):
    assert haversine_m(*a, *b) / 1000 == pytest.approx(km, rel=0.01, abs=0.05)


@pytest.mark.parametrize(
    ("case", "unit", "phone", "accuracy", "expected"),
    [
        ("on site", SIDOARJO, SIDOARJO, 12, []),
        ("100 m away, inside 300 m", SIDOARJO, SIDOARJO_ALUN, 12, []),
        ("Sidoarjo visit posted from Padang", SIDOARJO, PADANG, 12, ["gps_far"]),
        ("Sidoarjo visit posted from Surabaya", SIDOARJO, SURABAYA, 50, ["gps_far"]),
        # 21 km away but a 25 km accuracy radius could include the unit: benefit of the doubt.
        ("poor fix covering the unit", SIDOARJO, SURABAYA, 25_000, []),
        ("no GPS", SIDOARJO, None, None, ["gps_missing"]),
        ("unit without coordinates", None, PADANG, 12, []),
    ],
)
def test_location(case, unit, phone, accuracy, expected):
    assert codes(location_flags(visit(where=unit, at=phone, accuracy=accuracy), LIMITS)) == expected


def test_gps_far_details_name_the_distance():
    (f,) = location_flags(visit(at=PADANG), LIMITS)
    assert f["severity"] == "serious"
    assert f["details"]["distance_m"] == pytest.approx(1_543_000, rel=0.01)
    assert "km dari unit layanan" in render(f["message"], f["params"], "id")
    assert "km from the service unit" in render(f["message"], f["params"], "en")


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(29, []), (10, []), (9.5, ["short_visit"]), (0, ["short_visit"])],
)
def test_duration(minutes, expected):
    assert codes(duration_flags(visit(minutes=minutes), LIMITS)) == expected


@pytest.mark.parametrize(
    ("received_after_finish", "expected"),
    [
        (timedelta(minutes=5), []),
        (timedelta(minutes=-5), []),  # phone a few minutes ahead: within the allowed skew
        (timedelta(minutes=-45), ["clock_future"]),
        (timedelta(days=6), []),
        (timedelta(days=8), ["late_receipt"]),
    ],
)
def test_clock(received_after_finish, expected):
    v = visit()
    v = visit(received=v.finished_at + received_after_finish)
    assert codes(clock_flags(v, LIMITS)) == expected


def test_impossible_travel_sidoarjo_then_padang_two_hours_later():
    morning = visit(ident=1)
    afternoon = visit(
        where=PADANG,
        at=PADANG,
        start=morning.finished_at + timedelta(hours=2),
        ident=2,
        unit="13.71-DUKCAPIL",
    )
    (f,) = travel_flags(afternoon, [morning], LIMITS)
    assert f["code"] == "impossible_travel"
    assert f["details"]["other_inspection_id"] == 1
    assert f["details"]["distance_km"] == pytest.approx(1543, rel=0.01)
    assert f["details"]["speed_kmh"] > 700
    # Symmetric: the earlier visit sees the later one too.
    assert codes(travel_flags(morning, [afternoon], LIMITS)) == ["impossible_travel"]


@pytest.mark.parametrize(
    ("where", "gap", "expected"),
    [
        (SURABAYA, timedelta(minutes=30), []),  # 21 km in 30 min = 43 km/h
        (SURABAYA, timedelta(minutes=5), ["impossible_travel"]),  # 258 km/h
        (PADANG, timedelta(hours=14), []),  # 1543 km at 120 km/h needs 12.9 h
        (PADANG, timedelta(hours=-1), ["impossible_travel"]),  # overlapping visits
        (SIDOARJO_ALUN, timedelta(0), []),  # next door: no travel to speak of
    ],
)
def test_travel_table(where, gap, expected):
    first = visit(ident=1)
    second = visit(where=where, at=where, start=first.finished_at + gap, ident=2, unit="X")
    assert codes(travel_flags(second, [first], LIMITS)) == expected


def test_evidence_missing_received_and_waived():
    sha = "a" * 64
    items = [
        EvidenceItem("MP-01", "yes", (sha,)),
        EvidenceItem("SP-01", "yes"),
        EvidenceItem("PG-02", "no"),  # a "no" needs no proof of presence
        EvidenceItem("VM-01", "yes", waiver_reason="Kamera rusak", waived_by=7),
    ]
    flags = evidence_flags(items, received=set())
    assert [(f["code"], f["details"]["indicator"]) for f in flags] == [
        ("evidence_missing", "MP-01"),
        ("evidence_missing", "SP-01"),
        ("evidence_waived", "VM-01"),
    ]
    assert flags[0]["details"]["awaited"] == [sha]
    assert codes(evidence_flags(items[:1], received={sha})) == []


def test_photo_flags_reuse_exif_window_and_gps():
    v = visit(ident=5)
    inside = datetime(2026, 11, 20, 9, 20)  # naive local time (WIB), inside 09:12..09:41
    photos = [
        PhotoInfo("1" * 64, exif_taken_at=inside),
        PhotoInfo("2" * 64, exif_taken_at=datetime(2026, 11, 19, 15, 0)),
        PhotoInfo("3" * 64, used_by=(5, 9)),
        PhotoInfo("4" * 64, exif_lat=PADANG[0], exif_lon=PADANG[1]),
        # With an explicit offset: 10:00 WITA is 09:00 WIB, inside the 30 min margin.
        PhotoInfo(
            "5" * 64, exif_taken_at=datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Makassar"))
        ),
    ]
    flags = photo_flags(v, photos, WIB, LIMITS)
    assert [(f["code"], f["details"]["sha256"][0]) for f in flags] == [
        ("exif_outside_visit", "2"),
        ("photo_reused", "3"),
        ("photo_gps_far", "4"),
    ]
    assert flags[1]["details"]["other_inspection_ids"] == [9]


def test_visit_flags_combine_and_merge_keeps_non_photo_flags():
    v = visit(at=PADANG, minutes=3)
    flags = visit_flags(v, [], LIMITS)
    assert codes(flags) == ["gps_far", "short_visit"]
    stored = flags + [{"code": "evidence_missing", "details": {}}]
    fresh = [{"code": "photo_reused", "details": {}}]
    assert codes(merge(stored, fresh)) == ["gps_far", "short_visit", "photo_reused"]


def test_every_flag_message_is_a_msgid_its_params_fill():
    """Each flag's text renders in Indonesian and English with no placeholder left over."""
    first = visit(ident=1, at=None, minutes=4)
    second = visit(where=PADANG, at=PADANG, start=first.finished_at, ident=2, unit="13.71")
    flags = [
        *location_flags(first, LIMITS),
        *location_flags(visit(at=PADANG), LIMITS),
        *duration_flags(first, LIMITS),
        *clock_flags(visit(received=T0), LIMITS),
        *clock_flags(visit(received=T0 + timedelta(days=9)), LIMITS),
        *travel_flags(second, [visit(ident=1)], LIMITS),
        *evidence_flags(
            [EvidenceItem("SP-01", "yes"), EvidenceItem("VM-01", "yes", waiver_reason="Rusak")],
            received=set(),
        ),
        *photo_flags(
            visit(ident=5),
            [
                PhotoInfo("2" * 64, exif_taken_at=datetime(2026, 11, 19, 15, 0)),
                PhotoInfo("3" * 64, used_by=(5, 9)),
                PhotoInfo("4" * 64, exif_lat=PADANG[0], exif_lon=PADANG[1]),
            ],
            WIB,
            LIMITS,
        ),
    ]
    assert {f["code"] for f in flags} == ALL_CODES
    for f in flags:
        indonesian = render(f["message"], f["params"], "id")
        english = render(f["message"], f["params"], "en")
        assert "%(" not in indonesian and "%(" not in english, f["code"]
        assert indonesian != english, f"{f['code']} has no Indonesian text"
    exif = next(f for f in flags if f["code"] == "exif_outside_visit")
    assert "19 November 2026 pukul 15.00 WIB" in render(exif["message"], exif["params"], "id")
