"""Photos before/after the checklist, evidence rules and waivers, and integrity flags at intake."""

from __future__ import annotations

from datetime import datetime

import pytest

from fieldcheck.evidence.blockers import approval_blockers
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from tests.helpers import auth, post_json

from . import images
from .conftest import sha, stored_files, submit, upload

PADANG = {"lat": -0.9471, "lon": 100.4172, "accuracy_m": 15}


def codes(body):
    return [f["code"] for f in body["flags"]]


def get(client, inspection_id, token):
    response = client.get(f"/api/v1/inspections/{inspection_id}", headers=auth(token))
    assert response.status_code == 200
    return response.json


def blockers(app, inspection_id):
    with app.app_context():
        return approval_blockers(db.session.get(Inspection, inspection_id))


def with_photo(factory, shas, code="MP-01", **over):
    """An all-yes checklist whose ``code`` answer references ``shas``."""
    body = factory.all_yes_submission(**over)
    body["answers"][code] = {"value": "yes", "photos": list(shas)}
    return body


def test_photos_before_the_json_make_a_complete_inspection(client, app, factory, world):
    a, b = images.jpeg(seed=1), images.png(seed=2)
    for data in (a, b):
        assert upload(client, "/api/v1/photos", data, world.surveyor).status_code == 201
    response = post_json(
        client, "/api/v1/inspections", with_photo(factory, [sha(a), sha(b)]), world.surveyor
    )
    assert response.status_code == 201
    photos = response.json["photos"]
    assert photos["expected"] == photos["received"] == sorted([sha(a), sha(b)])
    assert photos["missing"] == []
    assert "MP-01" not in {f["details"].get("indicator") for f in response.json["flags"]}
    assert len(stored_files(app)) == 4  # two originals, two previews


def test_json_then_photos_in_several_requests(client, app, factory, world):
    a, b = images.jpeg(seed=3), images.webp(seed=4)
    body = with_photo(factory, [sha(a)], "MP-01")
    body["answers"]["SP-01"] = {"value": "yes", "photos": [sha(b)]}
    created = post_json(client, "/api/v1/inspections", body, world.surveyor).json
    iid = created["id"]
    assert created["photos"]["missing"] == sorted([sha(a), sha(b)])
    missing = {
        f["details"]["indicator"] for f in created["flags"] if f["code"] == "evidence_missing"
    }
    assert {"MP-01", "SP-01"} <= missing
    assert "evidence_missing:MP-01" in blockers(app, iid)

    # The first photo arrives on its own (phone got signal), the second straight to the inspection.
    solo = upload(client, "/api/v1/photos", a, world.surveyor).json
    assert solo["completed_inspections"] == [iid]
    upload(client, f"/api/v1/inspections/{iid}/photos", b, world.surveyor)
    after = get(client, iid, world.surveyor)
    assert after["photos"]["missing"] == []
    assert after["photos"]["received"] == sorted([sha(a), sha(b)])
    assert not {"MP-01", "SP-01"} & {
        f["details"].get("indicator") for f in after["flags"] if f["code"] == "evidence_missing"
    }
    assert not {"evidence_missing:MP-01", "evidence_missing:SP-01"} & set(blockers(app, iid))
    # Resending the same JSON changes nothing.
    again = post_json(client, "/api/v1/inspections", body, world.surveyor)
    assert again.status_code == 200 and again.json["photos"]["missing"] == []


def test_another_surveyors_upload_does_not_count_or_leak(client, factory, world):
    data = images.jpeg(seed=5)
    upload(client, "/api/v1/photos", data, world.other_surveyor)
    created = post_json(
        client, "/api/v1/inspections", with_photo(factory, [sha(data)]), world.surveyor
    ).json
    assert created["photos"]["missing"] == [sha(data)]
    status = client.get(f"/api/v1/photos/{sha(data)}", headers=auth(world.surveyor)).status_code
    assert status == 404


def test_waiver_clears_the_blocker_and_is_kept_as_a_flag(client, app, factory, world):
    created = submit(client, factory, world.surveyor).json
    iid = created["id"]
    assert "evidence_missing:MP-01" in blockers(app, iid)
    url = f"/api/v1/inspections/{iid}/evidence-waivers"
    reason = {"indicator": "MP-01", "reason": "Kamera ponsel rusak; dicek lewat video call"}
    assert post_json(client, url, reason, world.surveyor).status_code == 403
    assert post_json(client, url, reason, world.outsider).status_code == 404
    short = post_json(client, url, {"indicator": "MP-01", "reason": ""}, world.supervisor)
    assert short.status_code == 422 and "reason" in short.json["error"]["details"]["fields"]
    not_required = post_json(client, url, {**reason, "indicator": "AT-01"}, world.supervisor)
    assert not_required.status_code == 422
    response = post_json(client, url, reason, world.supervisor)
    assert response.status_code == 201, response.json
    assert "evidence_missing:MP-01" not in response.json["blockers"]
    waived = [f for f in response.json["flags"] if f["code"] == "evidence_waived"]
    assert waived[0]["details"]["reason"] == reason["reason"]
    assert "evidence_missing:MP-01" not in blockers(app, iid)
    assert post_json(client, url, reason, world.supervisor).status_code == 422  # nothing left


def test_reused_photo_is_flagged_on_both_visits(client, factory, world):
    data = images.jpeg(seed=6)
    first = submit(client, factory, world.surveyor).json["id"]
    upload(client, f"/api/v1/inspections/{first}/photos", data, world.surveyor)
    # A week later at another unit in Sidoarjo, the same photo is offered as evidence.
    second = post_json(
        client,
        "/api/v1/inspections",
        with_photo(
            factory,
            [sha(data)],
            unit_code="35.15-RSUD",
            started_at="2026-11-27T09:00:00+07:00",
            finished_at="2026-11-27T09:40:00+07:00",
            location=None,
        ),
        world.surveyor,
    )
    assert second.status_code == 201, second.json
    reused = [f for f in second.json["flags"] if f["code"] == "photo_reused"]
    assert reused[0]["details"]["other_inspection_ids"] == [first]
    assert "photo_reused" in codes(get(client, first, world.surveyor))
    listed = client.get("/api/v1/inspections?flag=photo_reused", headers=auth(world.supervisor))
    assert sorted(i["id"] for i in listed.json["items"]) == sorted([first, second.json["id"]])


def test_exif_time_outside_the_visit_is_flagged(client, factory, world):
    inside = images.jpeg(seed=8, taken=datetime(2026, 11, 20, 9, 30))
    stale = images.jpeg(seed=9, taken=datetime(2026, 11, 18, 14, 0))
    iid = submit(client, factory, world.surveyor).json["id"]
    for data in (inside, stale):
        upload(client, f"/api/v1/inspections/{iid}/photos", data, world.surveyor)
    flags = [
        f for f in get(client, iid, world.surveyor)["flags"] if f["code"] == "exif_outside_visit"
    ]
    assert [f["details"]["sha256"] for f in flags] == [sha(stale)]


@pytest.mark.parametrize(
    ("case", "over", "expected"),
    [
        ("on site, on time", {}, []),
        ("Disdukcapil Sidoarjo visit posted from Padang", {"location": PADANG}, ["gps_far"]),
        ("no GPS at all", {"location": None}, ["gps_missing"]),
        (
            "four minutes on site",
            {"started_at": "2026-11-20T09:37:00+07:00", "finished_at": "2026-11-20T09:41:00+07:00"},
            ["short_visit"],
        ),
        (
            "finished an hour after the server received it",
            {"started_at": "2026-11-20T10:30:00+07:00", "finished_at": "2026-11-20T11:00:00+07:00"},
            ["clock_future"],
        ),
        (
            "sent ten days after the visit",
            {"started_at": "2026-11-10T09:12:00+07:00", "finished_at": "2026-11-10T09:41:00+07:00"},
            ["late_receipt"],
        ),
    ],
)
def test_visit_flags_at_intake_and_the_review_filter(client, factory, world, case, over, expected):
    body = factory.all_yes_submission(**over)
    response = post_json(client, "/api/v1/inspections", body, world.surveyor)
    assert response.status_code == 201, response.json
    visit_codes = [c for c in codes(response.json) if not c.startswith("evidence")]
    assert visit_codes == expected, case
    for code in expected:
        listed = client.get(f"/api/v1/inspections?flag={code}", headers=auth(world.supervisor))
        assert [i["id"] for i in listed.json["items"]] == [response.json["id"]]
        assert code in [f["code"] for f in listed.json["items"][0]["flags"]]
    # Flags never drop data: the reported location and times are stored as sent.
    stored = get(client, response.json["id"], world.surveyor)
    assert stored["location"] == (over.get("location", body["location"]))


def test_impossible_travel_between_sidoarjo_and_padang(client, factory, world):
    morning = submit(client, factory, world.surveyor).json["id"]
    # Two hours after leaving Sidoarjo the same surveyor reports a visit in Padang (1,543 km).
    afternoon = post_json(
        client,
        "/api/v1/inspections",
        factory.all_yes_submission(
            "13.71-DUKCAPIL",
            started_at="2026-11-20T09:45:00+07:00",
            finished_at="2026-11-20T10:20:00+07:00",
            location=PADANG,
        ),
        world.surveyor,
    )
    assert afternoon.status_code == 201, afternoon.json
    travel = [f for f in afternoon.json["flags"] if f["code"] == "impossible_travel"]
    assert travel[0]["details"]["other_inspection_id"] == morning
    assert travel[0]["details"]["distance_km"] == pytest.approx(1543, rel=0.01)
    assert "impossible_travel" in codes(get(client, morning, world.surveyor))
    listed = client.get("/api/v1/inspections?flag=impossible_travel", headers=auth(world.admin))
    assert sorted(i["id"] for i in listed.json["items"]) == sorted([morning, afternoon.json["id"]])
    # Another surveyor in Padang at the same time is nobody's concern.
    other = post_json(
        client,
        "/api/v1/inspections",
        factory.all_yes_submission(
            "13.71-SATPAS",
            started_at="2026-11-20T09:00:00+07:00",
            finished_at="2026-11-20T09:30:00+07:00",
            location={"lat": -0.9300, "lon": 100.3600, "accuracy_m": 10},
        ),
        world.other_surveyor,
    )
    assert "impossible_travel" not in codes(other.json)


def test_unknown_flag_filter_is_422(client, world):
    response = client.get("/api/v1/inspections?flag=bogus", headers=auth(world.supervisor))
    assert response.status_code == 422


def test_a_flag_naming_another_regions_visit_does_not_name_it(client, factory, world):
    """The same photo in Sidoarjo and in Padang: each region's people see the flag, but the
    other region's visit is not named to them; a national admin sees both ids."""
    data = images.jpeg(seed=16)
    sidoarjo = submit(client, factory, world.surveyor).json["id"]
    upload(client, f"/api/v1/inspections/{sidoarjo}/photos", data, world.surveyor)
    _, padang_surveyor = factory.user("surveyor", "13", name="Surveyor Padang")
    body = with_photo(
        factory,
        [sha(data)],
        unit_code="13.71-DUKCAPIL",
        started_at="2026-11-27T09:00:00+07:00",
        finished_at="2026-11-27T09:40:00+07:00",
        location=PADANG,
    )
    padang = post_json(client, "/api/v1/inspections", body, padang_surveyor).json["id"]
    upload(client, f"/api/v1/inspections/{padang}/photos", data, padang_surveyor)

    def reused(inspection_id, token):
        return next(
            f for f in get(client, inspection_id, token)["flags"] if f["code"] == "photo_reused"
        )

    for inspection_id, token, other in (
        (padang, padang_surveyor, sidoarjo),
        (padang, world.outsider, sidoarjo),  # the supervisor of Sumatera Barat
        (sidoarjo, world.supervisor, padang),  # the supervisor of Jawa Timur
    ):
        flag = reused(inspection_id, token)
        assert flag["details"]["other_inspection_ids"] == []
        assert f"#{other}" not in flag["message"] and "di luar wilayah Anda" in flag["message"]
    assert reused(padang, world.admin)["details"]["other_inspection_ids"] == [sidoarjo]
    listed = client.get("/api/v1/inspections?flag=photo_reused", headers=auth(world.outsider)).json
    assert [
        f["details"]["other_inspection_ids"]
        for i in listed["items"]
        for f in i["flags"]
        if f["code"] == "photo_reused"
    ] == [[]]
    # The hidden-visit text is a msgid rendered in the reader's language, on the list as well.
    english = client.get(
        "/api/v1/inspections?flag=photo_reused",
        headers={**auth(world.outsider), "Accept-Language": "en"},
    ).json
    (text,) = [
        f["message"] for i in english["items"] for f in i["flags"] if f["code"] == "photo_reused"
    ]
    assert "1 of them are outside your region" in text and "%(" not in text
