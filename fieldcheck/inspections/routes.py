"""HTTP endpoints for inspections."""

from __future__ import annotations

from flask import Blueprint, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fieldcheck.auth.models import User
from fieldcheck.auth.services import current_user, require_role, scope_filter
from fieldcheck.errors import ApiError
from fieldcheck.extensions import db
from fieldcheck.http import json_body, load, load_args, page_body, paginate
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.services import submit
from fieldcheck.openapi.doc import LOCATION, PageOf, Response, api_doc
from fieldcheck.units.models import Unit
from schemas.evidence import InspectionWithPhotosSchema
from schemas.inspections import (
    InspectionListArgsSchema,
    InspectionSchema,
    InspectionSubmissionSchema,
    InspectionSummarySchema,
)

bp = Blueprint("inspections", __name__)

ALL_ROLES = ("surveyor", "supervisor", "admin")


def visible_inspections(user: User):
    """A select of the inspections ``user`` may see: own for surveyors, region for others."""
    query = select(Inspection).join(Inspection.unit)
    if user.role == "surveyor":
        query = query.where(Inspection.surveyor_id == user.id)
    condition = scope_filter(user, Unit.region_code)
    if condition is not None:
        query = query.where(condition)
    return query


def get_visible_inspection(inspection_id: int) -> Inspection:
    """The inspection if the current user may see it, else 404 (existence is not revealed)."""
    query = (
        visible_inspections(current_user())
        .where(Inspection.id == inspection_id)
        .options(
            selectinload(Inspection.answers),
            selectinload(Inspection.posted_standards),
            selectinload(Inspection.findings),
        )
    )
    inspection = db.session.execute(query).unique().scalar_one_or_none()
    if inspection is None:
        raise ApiError("not_found", "No such inspection.")
    return inspection


@bp.post("/inspections")
@api_doc(
    body=InspectionSubmissionSchema,
    body_example="inspection-dukcapil-sidoarjo",
    responses={
        201: Response(InspectionWithPhotosSchema, "Stored", headers=LOCATION),
        200: Response(InspectionWithPhotosSchema, "Sent before: the same body", headers=LOCATION),
    },
    errors=("submission_conflict", "already_superseded", "invalid_transition", "out_of_scope"),
)
@require_role("surveyor", "admin")
def create_inspection():
    """Receive a checklist from a phone: 201 when new, 200 for an identical resend, 409 else."""
    body = json_body()
    data = load(InspectionSubmissionSchema(), body)
    outcome = submit(body, data, current_user())
    status = 201 if outcome.created else 200
    db.session.flush()
    headers = {"Location": url_for(".get_inspection", inspection_id=outcome.inspection.id)}
    return _with_photos(outcome.inspection), status, headers


def _with_photos(inspection: Inspection) -> dict:
    """The inspection's JSON plus its expected/received/missing photos (evidence)."""
    from fieldcheck.evidence.services import flags_for, photo_summary

    body = InspectionSchema().dump(inspection)
    body["photos"] = photo_summary(inspection)
    body["flags"] = flags_for([body["flags"]], current_user())[0]
    return body


@bp.get("/inspections/<int:inspection_id>")
@api_doc(responses={200: InspectionWithPhotosSchema})
@require_role(*ALL_ROLES)
def get_inspection(inspection_id: int):
    """One inspection with answers, findings, flags and score breakdown."""
    return _with_photos(get_visible_inspection(inspection_id))


@bp.get("/inspections")
@api_doc(args=InspectionListArgsSchema, responses={200: PageOf(InspectionSummarySchema)})
@require_role(*ALL_ROLES)
def list_inspections():
    """Inspections the caller may see, newest first, filtered by unit, status and time."""
    args = load_args(InspectionListArgsSchema())
    query = visible_inspections(current_user()).options(selectinload(Inspection.findings))
    if "unit" in args:
        query = query.where(Unit.code == args["unit"])
    if "status" in args:
        query = query.where(Inspection.status == args["status"])
    if "since" in args:
        query = query.where(Inspection.received_at >= args["since"])
    if "surveyor" in args:
        query = query.where(Inspection.surveyor_id == args["surveyor"])
    if "flag" in args:
        # An indexed (inspection, code) table: JSON containment differs between SQLite and PG.
        from fieldcheck.evidence.models import InspectionFlag

        flagged = select(InspectionFlag.inspection_id).where(InspectionFlag.code == args["flag"])
        query = query.where(Inspection.id.in_(flagged))
    query = query.order_by(Inspection.received_at.desc(), Inspection.id.desc())
    items, total = paginate(query, args["page"], args["per_page"])
    dumped = InspectionSummarySchema(many=True).dump(items)
    if dumped and "flags" in dumped[0]:
        from fieldcheck.evidence.services import flags_for

        for item, flags in zip(
            dumped, flags_for([i["flags"] for i in dumped], current_user()), strict=True
        ):
            item["flags"] = flags
    return page_body(dumped, args["page"], args["per_page"], total)
