"""HTTP endpoints for inspections."""

from __future__ import annotations

from flask import Blueprint, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fieldcheck.auth.services import current_user, require_role
from fieldcheck.evidence.models import InspectionFlag
from fieldcheck.evidence.state import photo_summary
from fieldcheck.evidence.visibility import flags_for
from fieldcheck.http import json_body, load, load_args, page_body, paginate
from fieldcheck.i18n import render_flags
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.services import submit
from fieldcheck.inspections.visibility import get_visible_inspection, listed_inspections
from fieldcheck.openapi.doc import LOCATION, PageOf, Response, api_doc
from schemas.evidence import InspectionWithPhotosSchema
from schemas.inspections import (
    InspectionListArgsSchema,
    InspectionSchema,
    InspectionSubmissionSchema,
    InspectionSummarySchema,
)

bp = Blueprint("inspections", __name__)

ALL_ROLES = ("surveyor", "supervisor", "admin")


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
    data = load(SUBMISSION, body)
    outcome = submit(body, data, current_user())
    headers = {"Location": url_for(".get_inspection", inspection_id=outcome.inspection_id)}
    if outcome.received is None:
        return _with_photos(outcome.inspection), 200, headers
    # Made from what was just stored, not read back: the same JSON a GET gives.
    received = outcome.received
    answer = INSPECTION.dump(received)
    answer["photos"] = received.photos
    answer["flags"] = render_flags(flags_for([received.flags], current_user())[0])
    return answer, 201, headers


#: Built once per process: a schema instance (and its nested ones) is reusable and costs more
#: to build than a checklist costs to load.
SUBMISSION = InspectionSubmissionSchema()
INSPECTION = InspectionSchema()


def _with_photos(inspection: Inspection) -> dict:
    """The inspection's JSON plus its expected/received/missing photos (evidence)."""
    body = INSPECTION.dump(inspection)
    body["photos"] = photo_summary(inspection)
    body["flags"] = render_flags(flags_for([body["flags"]], current_user())[0])
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
    query = listed_inspections(
        current_user(),
        unit=args.get("unit"),
        status=args.get("status"),
        since=args.get("since"),
        surveyor=args.get("surveyor"),
    ).options(selectinload(Inspection.findings))
    if "flag" in args:
        # An indexed (inspection, code) table: JSON containment differs between SQLite and PG.
        flagged = select(InspectionFlag.inspection_id).where(InspectionFlag.code == args["flag"])
        query = query.where(Inspection.id.in_(flagged))
    query = query.order_by(Inspection.received_at.desc(), Inspection.id.desc())
    items, total = paginate(query, args["page"], args["per_page"])
    dumped = InspectionSummarySchema(many=True).dump(items)
    if dumped and "flags" in dumped[0]:
        for item, flags in zip(
            dumped, flags_for([i["flags"] for i in dumped], current_user()), strict=True
        ):
            item["flags"] = render_flags(flags)
    return page_body(dumped, args["page"], args["per_page"], total)
