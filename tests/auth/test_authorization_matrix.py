"""Every endpoint x every role x in/out of scope gives exactly the status in one table.

Columns: no token; ``surveyor`` (owns the subject inspection, region 35); ``surveyor_other``
(region 35, not the owner); ``supervisor`` (35, in scope); ``supervisor_out`` (13, out of scope);
``admin`` (national); ``admin_out`` (admin limited to 13, out of scope). The subject objects live in
35.15. A new endpoint without a row here fails ``test_matrix_covers_every_endpoint``: add its row.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from fieldcheck.auth.models import User
from fieldcheck.auth.services import create_user, issue_token
from fieldcheck.extensions import db
from tests.helpers import auth, multipart, post_json
from tests.webhooks.matrix import (
    dead_webhook_delivery,
    new_webhook,
    webhook,
    webhook_change,
    webhook_delivery,
)
from tests.world import make_world

#: The assessment year of the subject inspection (the sample checklist's visit date).
PERIOD = 2026


class Raw(bytes):
    """A request body sent as is, with its own content type (multipart uploads)."""

    def __new__(cls, data: bytes, content_type: str) -> Raw:
        obj = super().__new__(cls, data)
        obj.content_type = content_type
        return obj


COLUMNS = (
    "none",
    "surveyor",
    "surveyor_other",
    "supervisor",
    "supervisor_out",
    "admin",
    "admin_out",
)


# --- targets: build (path parameters, body) afresh for every call, so state changes by one role
# never change what the next role sees --------------------------------------------------------


def _nothing(world) -> tuple[dict[str, Any], Any]:
    return {}, None


def _inspection(world):
    return {"inspection_id": world.subject["id"]}, None


def _comment(world):
    return {"inspection_id": world.subject["id"]}, {"body": "Catatan"}


def _fresh_review(world):
    return {"inspection_id": world.post()["id"]}, {"decision": "approve"}


def _bulk(world):
    return {}, {"ids": [world.post()["id"]], "decision": "approve"}


def _submission(world):
    return {}, world.factory.all_yes_submission("35.15-DUKCAPIL")


def _finding(world):
    finding_id = world.post_with_findings()["findings"][0]["id"]
    return {"finding_id": finding_id}, {"text": "Sudah diperbaiki"}


def _objection(world):
    finding_id = world.post_with_findings()["findings"][0]["id"]
    objection = post_json(
        world.client,
        f"/api/v1/findings/{finding_id}/objections",
        {"text": "Keberatan"},
        world.token("admin"),
    ).get_json()
    return {"objection_id": objection["id"]}, {"decision": "dismissed", "reason": "Tidak cukup"}


def _methodology(world):
    return {"methodology_id": "ombudsman-2019"}, None


def _interview_body(world):
    """A new service-user record about Sidoarjo's government under ombudsman-2022."""
    import uuid

    codes = ("OU-PENUNDAAN", "OU-IMBALAN", "OU-PROSEDUR", "OU-KOMPETEN", "OU-PATUT")
    return {}, {
        "submission_id": str(uuid.uuid4()),
        "methodology": "ombudsman-2022",
        "instrument": "pengguna",
        "agency": "PEMKAB-35.15",
        "interview_date": "2026-03-10",
        "answers": {**dict.fromkeys(codes, 3), "OU-DISKRIMINASI": "na"},
    }


def _new_interview(world) -> int:
    response = post_json(
        world.client, "/api/v1/interviews", _interview_body(world)[1], world.token("surveyor")
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _interview(world):
    """The surveyor's record (made once)."""
    if not getattr(world, "interview_id", None):
        world.interview_id = _new_interview(world)
    return {"interview_id": world.interview_id}, None


def _interview_rejection(world):
    return {"interview_id": _new_interview(world)}, {"reason": "Bukan pengguna layanan"}


_methodology_versions = itertools.count(2)


def _methodology_upload(world):
    from tests.methodologies.versions import version_toml

    return {}, Raw(version_toml(next(_methodology_versions)).encode(), "application/toml")


def _methodology_version(world):
    return {"methodology_id": "ombudsman-2019", "number": 1}, None


def _methodology_draft(world):
    """A fresh draft version of ombudsman-2019, uploaded by the national admin."""
    _, body = _methodology_upload(world)
    response = world.client.post(
        "/api/v1/methodologies",
        data=bytes(body),
        headers=auth(world.token("admin")),
        content_type=body.content_type,
    )
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["version"]
    return {"methodology_id": "ombudsman-2019", "number": number}, {"effective_from": "2030-01-01"}


def _region(world):
    return {"code": "35.15"}, None


def _unit(world):
    return {"code": "35.15-DUKCAPIL"}, None


def _static(world):
    return {"filename": "nothing.txt"}, None


def _surveyor_user(world):
    return {"user_id": world.ids["surveyor"]}, None


def _surveyor_token_request(world):
    return {"user_id": world.ids["surveyor"]}, {"expires_in_days": 30}


def _new_user_body(world):
    return {}, {"name": "Petugas Baru", "role": "surveyor", "region_code": "35.15"}


def _fresh_user(world):
    with world.factory.app.app_context():
        user, _ = create_user("Akan dinonaktifkan", "surveyor", "35.15")
        db.session.commit()
        return {"user_id": user.id}, None


def _fresh_token_of_surveyor(world):
    with world.factory.app.app_context():
        issue_token(db.session.get(User, world.ids["surveyor"]))
        db.session.commit()
        from sqlalchemy import func, select

        from fieldcheck.auth.models import ApiToken

        token_id = db.session.execute(select(func.max(ApiToken.id))).scalar_one()
        return {"token_id": token_id}, None


_photo_seeds = iter(range(50_000, 60_000))


def _new_photo(world):
    from tests.evidence.images import jpeg

    body, content_type = multipart(jpeg(size=(32, 24), seed=next(_photo_seeds)))
    return {}, Raw(body, content_type)


def _new_photo_for_subject(world):
    return {"inspection_id": world.subject["id"]}, _new_photo(world)[1]


def _subject_photo(world):
    return {"sha256": world.subject["photos"]["received"][0]}, None


def _waiver(world):
    body = world.factory.all_yes_submission("35.15-DUKCAPIL")  # "yes" without its photos
    inspection = post_json(world.client, "/api/v1/inspections", body, world.token("surveyor"))
    return {"inspection_id": inspection.get_json()["id"]}, {
        "indicator": "MP-01",
        "reason": "Papan maklumat difoto tetapi file rusak",
    }


def _zoning_run_request(world):
    return {}, {"methodology": "ombudsman-2019", "region": "35.15", "dry_run": True}


def _zoning_run(world):
    """A queued what-if run scoped to Sidoarjo (35.15), requested by the national admin."""
    response = post_json(
        world.client, "/api/v1/zoning-runs", _zoning_run_request(world)[1], world.token("admin")
    )
    assert response.status_code == 202, response.get_json()
    return {"run_id": response.get_json()["id"]}, None


def _succeeded_run(world, region: str | None) -> int:
    """Run zoning now (the runner the CLI uses) for ``region`` (None: national); its id."""
    from fieldcheck.zoning.lifecycle import execute
    from fieldcheck.zoning.services import create_run

    with world.factory.app.app_context():
        run = create_run(region=region, period=PERIOD, full=True)
        db.session.commit()
        run_id = run.id
        assert execute(run_id).state == "succeeded"
        return run_id


def _approved_subject(world) -> None:
    """Approve the subject inspection once (directly, as review would) and mark its unit dirty."""
    from sqlalchemy import update

    from fieldcheck.inspections.models import Inspection
    from fieldcheck.units.dirty import mark_unit_dirty

    with world.factory.app.app_context():
        subject = db.session.get(Inspection, world.subject["id"])
        if subject.status != "approved":
            db.session.execute(
                update(Inspection).where(Inspection.id == subject.id).values(status="approved")
            )
            mark_unit_dirty(subject.unit_id, "review")
            db.session.commit()


def _publishable_run(world):
    """A fresh succeeded, non-dry run scoped to Sidoarjo (35.15) holding the approved subject."""
    _approved_subject(world)
    return {"run_id": _succeeded_run(world, "35.15")}, None


def _unit_with_result(world):
    """The subject's unit, with a succeeded national run containing it (made once)."""
    if not getattr(world, "national_run_id", None):
        _approved_subject(world)
        world.national_run_id = _succeeded_run(world, None)
    return _unit(world)


def _agency_with_result(world):
    """The subject's agency, with a succeeded national run containing it (issue 16)."""
    _unit_with_result(world)
    return {"code": "PEMKAB-35.15"}, None


def _no_active_override(world) -> None:
    from fieldcheck.units.models import Unit
    from fieldcheck.zoning.overrides import UnitOverride

    with world.factory.app.app_context():
        unit = db.session.execute(db.select(Unit).where(Unit.code == "35.15-DUKCAPIL")).scalar_one()
        for row in db.session.execute(
            db.select(UnitOverride).where(
                UnitOverride.unit_id == unit.id, UnitOverride.withdrawn_at.is_(None)
            )
        ).scalars():
            row.withdrawn_at, row.withdrawn_by, row.withdraw_reason = row.created_at, 1, "reset"
        db.session.commit()


def _override(world):
    """The subject's unit with no override in force, and a body setting one."""
    _no_active_override(world)
    return {"code": "35.15-DUKCAPIL"}, {"zone": "merah", "reason": "Temuan lapangan berat"}


def _active_override(world):
    """The subject's unit with a fresh override in force (set by the admin), and a withdrawal."""
    _no_active_override(world)
    response = post_json(
        world.client,
        "/api/v1/units/35.15-DUKCAPIL/override",
        {"zone": "kuning", "reason": "Sementara"},
        world.token("admin"),
    )
    assert response.status_code == 201, response.get_json()
    return {"code": "35.15-DUKCAPIL"}, {"reason": "Keputusan dicabut"}


T = Callable[[Any], tuple[dict[str, Any], Any]]

# fmt: off
#: (method, rule): (target, none, surveyor, surveyor_other, supervisor, supervisor_out, admin,
#: admin_out)
MATRIX: dict[tuple[str, str], tuple[T, int, int, int, int, int, int, int]] = {
    ("GET", "/healthz"):                                   (_nothing, 200, 200, 200, 200, 200, 200, 200),  # noqa: E501
    # Loopback (the test client) reads metrics without a token (fieldcheck.system.metrics).
    ("GET", "/metrics"):                                   (_nothing, 200, 200, 200, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/static/<path:filename>"):                    (_static, 404, 404, 404, 404, 404, 404, 404),  # noqa: E501
    # The API document and its page (issue 12): no token needed.
    ("GET", "/api/v1/openapi.json"):                       (_nothing, 200, 200, 200, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/docs"):                               (_nothing, 200, 200, 200, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/docs/static/<path:filename>"):        (_static, 404, 404, 404, 404, 404, 404, 404),  # noqa: E501
    ("GET", "/api/v1/methodologies"):                      (_nothing, 401, 200, 200, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/methodologies/<methodology_id>"):     (_methodology, 401, 200, 200, 200, 200, 200, 200),  # noqa: E501
    # Methodology versions (issue 16): read by supervisors and admins, changed by national
    # admins only (a methodology scores every region).
    ("POST", "/api/v1/methodologies"):                     (_methodology_upload, 401, 403, 403, 403, 403, 201, 403),  # noqa: E501
    ("GET", "/api/v1/methodologies/<methodology_id>/versions"): (_methodology, 401, 403, 403, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/methodologies/<methodology_id>/versions/<int:number>"): (_methodology_version, 401, 403, 403, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/methodologies/<methodology_id>/versions/<int:number>/file"): (_methodology_version, 401, 403, 403, 200, 200, 200, 200),  # noqa: E501
    ("POST", "/api/v1/methodologies/<methodology_id>/versions/<int:number>/publish"): (_methodology_draft, 401, 403, 403, 403, 403, 200, 403),  # noqa: E501
    ("GET", "/api/v1/services"):                           (_nothing, 401, 200, 200, 200, 200, 200, 200),  # noqa: E501
    # The zone catalogue (issue 16): reference data, as the methodologies.
    ("GET", "/api/v1/zones"):                              (_nothing, 401, 200, 200, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/regions"):                            (_nothing, 401, 200, 200, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/regions/<code>"):                     (_region, 401, 200, 200, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/units"):                              (_nothing, 401, 200, 200, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/units/<code>"):                       (_unit, 401, 200, 200, 200, 404, 200, 404),  # noqa: E501
    # Interviews (issue 16): surveyors post, supervisors list, reject and read coverage.
    ("POST", "/api/v1/interviews"):                        (_interview_body, 401, 201, 201, 403, 403, 201, 403),  # noqa: E501
    ("GET", "/api/v1/interviews"):                         (_nothing, 401, 403, 403, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/interviews/<int:interview_id>"):      (_interview, 401, 200, 404, 200, 404, 200, 404),  # noqa: E501
    ("POST", "/api/v1/interviews/<int:interview_id>/reject"): (_interview_rejection, 401, 403, 403, 200, 404, 200, 404),  # noqa: E501
    ("GET", "/api/v1/interviews/coverage"):                (_nothing, 401, 403, 403, 200, 200, 200, 200),  # noqa: E501
    ("POST", "/api/v1/inspections"):                       (_submission, 401, 201, 201, 403, 403, 201, 403),  # noqa: E501
    ("GET", "/api/v1/inspections"):                        (_nothing, 401, 200, 200, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/inspections/<int:inspection_id>"):    (_inspection, 401, 200, 404, 200, 404, 200, 404),  # noqa: E501
    ("POST", "/api/v1/inspections/<int:inspection_id>/review"): (_fresh_review, 401, 403, 403, 200, 404, 200, 404),  # noqa: E501
    ("GET", "/api/v1/inspections/<int:inspection_id>/reviews"): (_inspection, 401, 200, 404, 200, 404, 200, 404),  # noqa: E501
    # Out-of-scope ids in a bulk review are per-item "not_found" inside a 200.
    ("POST", "/api/v1/inspections/bulk-review"):           (_bulk, 401, 403, 403, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/inspections/<int:inspection_id>/comments"): (_inspection, 401, 200, 404, 200, 404, 200, 404),  # noqa: E501
    ("POST", "/api/v1/inspections/<int:inspection_id>/comments"): (_comment, 401, 201, 404, 201, 404, 201, 404),  # noqa: E501
    ("GET", "/api/v1/inspections/<int:inspection_id>/objections"): (_inspection, 401, 200, 404, 200, 404, 200, 404),  # noqa: E501
    ("POST", "/api/v1/findings/<int:finding_id>/objections"): (_finding, 401, 403, 403, 201, 404, 201, 404),  # noqa: E501
    ("POST", "/api/v1/objections/<int:objection_id>/decision"): (_objection, 401, 403, 403, 200, 404, 200, 404),  # noqa: E501
    ("GET", "/api/v1/audit"):                              (_nothing, 401, 403, 403, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/audit/chain"):                        (_nothing, 401, 403, 403, 403, 403, 200, 403),  # noqa: E501
    ("GET", "/api/v1/users"):                              (_nothing, 401, 403, 403, 403, 403, 200, 200),  # noqa: E501
    ("POST", "/api/v1/users"):                             (_new_user_body, 401, 403, 403, 403, 403, 201, 403),  # noqa: E501
    ("GET", "/api/v1/users/<int:user_id>"):                (_surveyor_user, 401, 403, 403, 403, 403, 200, 404),  # noqa: E501
    ("POST", "/api/v1/users/<int:user_id>/deactivate"):    (_fresh_user, 401, 403, 403, 403, 403, 200, 404),  # noqa: E501
    ("POST", "/api/v1/users/<int:user_id>/tokens"):        (_surveyor_token_request, 401, 403, 403, 403, 403, 201, 404),  # noqa: E501
    ("GET", "/api/v1/tokens"):                             (_nothing, 401, 200, 200, 200, 200, 200, 200),  # noqa: E501
    # Your own token, or (admin) any token of a user in your region.
    ("POST", "/api/v1/tokens/<int:token_id>/revoke"):      (_fresh_token_of_surveyor, 401, 200, 404, 404, 404, 200, 404),  # noqa: E501
    # Evidence (issue 5). Uploads: surveyors and admins; a photo is readable by its uploader and
    # by whoever may see an inspection that received it.
    ("POST", "/api/v1/photos"):                            (_new_photo, 401, 201, 201, 201, 201, 201, 201),  # noqa: E501
    ("POST", "/api/v1/inspections/<int:inspection_id>/photos"): (_new_photo_for_subject, 401, 201, 404, 403, 403, 201, 404),  # noqa: E501
    ("GET", "/api/v1/photos/<sha256>"):                    (_subject_photo, 401, 200, 404, 200, 404, 200, 404),  # noqa: E501
    ("GET", "/api/v1/photos/<sha256>/preview"):            (_subject_photo, 401, 200, 404, 200, 404, 200, 404),  # noqa: E501
    ("POST", "/api/v1/inspections/<int:inspection_id>/evidence-waivers"): (_waiver, 401, 403, 403, 201, 404, 201, 404),  # noqa: E501
    # Zoning (issue 3): supervisors and admins; runs and rows are limited to their region.
    ("POST", "/api/v1/zoning-runs"):                       (_zoning_run_request, 401, 403, 403, 202, 403, 202, 403),  # noqa: E501
    ("GET", "/api/v1/zoning-runs"):                        (_nothing, 401, 403, 403, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/zoning-runs/<int:run_id>"):           (_zoning_run, 401, 403, 403, 200, 404, 200, 404),  # noqa: E501
    ("GET", "/api/v1/zoning-runs/<int:run_id>/changes"):   (_zoning_run, 401, 403, 403, 200, 404, 200, 404),  # noqa: E501
    ("GET", "/api/v1/zoning-runs/<int:run_id>/diff"):      (_publishable_run, 401, 403, 403, 200, 404, 200, 404),  # noqa: E501
    ("POST", "/api/v1/zoning-runs/<int:run_id>/rerun"):    (_publishable_run, 401, 403, 403, 202, 404, 202, 404),  # noqa: E501
    ("GET", "/api/v1/results"):                            (_nothing, 401, 403, 403, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/units/<code>/result"):                (_unit_with_result, 401, 403, 403, 200, 404, 200, 404),  # noqa: E501
    ("GET", "/api/v1/agencies/<code>/result"):             (_agency_with_result, 401, 403, 403, 200, 404, 200, 404),  # noqa: E501
    # Publication and overrides (issue 4): a run or unit outside the caller's region is 404.
    ("POST", "/api/v1/zoning-runs/<int:run_id>/publish"):  (_publishable_run, 401, 403, 403, 200, 404, 200, 404),  # noqa: E501
    ("POST", "/api/v1/units/<code>/override"):             (_override, 401, 403, 403, 201, 404, 201, 404),  # noqa: E501
    ("POST", "/api/v1/units/<code>/override/withdraw"):    (_active_override, 401, 403, 403, 200, 404, 200, 404),  # noqa: E501
    ("GET", "/api/v1/units/<code>/overrides"):             (_unit, 401, 403, 403, 200, 404, 200, 404),  # noqa: E501
    # Dashboard and map: supervisors and admins, figures limited to their region.
    ("GET", "/api/v1/dashboard"):                          (_nothing, 401, 403, 403, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/map/provinces"):                      (_nothing, 401, 403, 403, 200, 200, 200, 200),  # noqa: E501
    # Exports (issue 13): supervisors and admins; rows limited to their region (empty outside).
    ("GET", "/api/v1/exports/results"):                    (_nothing, 401, 403, 403, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/exports/findings"):                   (_nothing, 401, 403, 403, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/exports/incomplete"):                 (_nothing, 401, 403, 403, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/exports/inspections"):                (_nothing, 401, 403, 403, 200, 200, 200, 200),  # noqa: E501
    ("GET", "/api/v1/status"):                             (_nothing, 401, 200, 200, 200, 200, 200, 200),  # noqa: E501
    # Webhooks (issue 15): admins; an endpoint outside the admin's region is 404.
    ("GET", "/api/v1/webhooks"):                           (_nothing, 401, 403, 403, 403, 403, 200, 200),  # noqa: E501
    ("POST", "/api/v1/webhooks"):                          (new_webhook, 401, 403, 403, 403, 403, 201, 201),  # noqa: E501
    ("GET", "/api/v1/webhooks/<int:endpoint_id>"):         (webhook, 401, 403, 403, 403, 403, 200, 404),  # noqa: E501
    ("PATCH", "/api/v1/webhooks/<int:endpoint_id>"):       (webhook_change, 401, 403, 403, 403, 403, 200, 404),  # noqa: E501
    ("DELETE", "/api/v1/webhooks/<int:endpoint_id>"):      (webhook, 401, 403, 403, 403, 403, 204, 404),  # noqa: E501
    ("POST", "/api/v1/webhooks/<int:endpoint_id>/ping"):   (webhook, 401, 403, 403, 403, 403, 202, 404),  # noqa: E501
    ("GET", "/api/v1/webhooks/<int:endpoint_id>/deliveries"): (webhook, 401, 403, 403, 403, 403, 200, 404),  # noqa: E501
    ("GET", "/api/v1/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>"): (webhook_delivery, 401, 403, 403, 403, 403, 200, 404),  # noqa: E501
    ("POST", "/api/v1/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver"): (dead_webhook_delivery, 401, 403, 403, 403, 403, 202, 404),  # noqa: E501
}
# fmt: on


def _endpoints(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("web."):
            continue  # pages: tests/web/test_access.py holds their matrix
        if rule.endpoint.startswith("openrosa."):
            continue  # token in the path, not a bearer: tests/openrosa/test_access.py
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((method, rule.rule))
    return found


def test_matrix_covers_every_endpoint(app):
    endpoints = _endpoints(app)
    missing = sorted(endpoints - MATRIX.keys())
    stale = sorted(MATRIX.keys() - endpoints)
    assert not missing, f"endpoints without a row in MATRIX: {missing}"
    assert not stale, f"rows in MATRIX for endpoints that no longer exist: {stale}"


def _url(rule: str, params: dict[str, Any]) -> str:
    def fill(match: re.Match) -> str:
        return str(params[match.group(1)])

    return re.sub(r"<(?:[a-z]+:)?([a-z_0-9]+)>", fill, rule)


@pytest.fixture
def world(client, factory):
    world = make_world(client, factory)
    world.subject = world.post()
    return world


def test_every_endpoint_role_and_scope_gives_the_expected_status(world):
    mismatches = []
    for (method, rule), (target, *expected) in MATRIX.items():
        for column, status in zip(COLUMNS, expected, strict=True):
            params, body = target(world)
            headers = {} if column == "none" else auth(world.token(column))
            kwargs: dict[str, Any] = {"headers": headers}
            if isinstance(body, Raw):
                kwargs.update(data=bytes(body), content_type=body.content_type)
            elif method in ("POST", "PATCH"):
                kwargs.update(data=json.dumps(body or {}), content_type="application/json")
            response = world.client.open(_url(rule, params), method=method, **kwargs)
            response.close()  # photo downloads stream from an open file
            if response.status_code != status:
                mismatches.append(
                    f"{method} {rule} as {column}: {response.status_code}, expected {status} "
                    f"{(response.get_json(silent=True) or {}).get('error', '')}"
                )
    assert not mismatches, "\n".join(mismatches)
