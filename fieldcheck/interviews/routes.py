"""HTTP endpoints for interview records (api.md "Interviews") and their coverage."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, url_for

from fieldcheck.auth.models import User
from fieldcheck.auth.services import current_user, require_role
from fieldcheck.http import json_body, load, load_args, page_body, paginate
from fieldcheck.interviews.models import Interview
from fieldcheck.interviews.services import reject, submit
from fieldcheck.interviews.visibility import get_visible_interview, listed_interviews
from fieldcheck.openapi.doc import LOCATION, PageOf, Response, api_doc
from fieldcheck.zoning.interview_coverage import coverage, coverage_body
from schemas.interviews import (
    CoverageArgsSchema,
    CoverageSchema,
    InterviewListArgsSchema,
    InterviewSchema,
    InterviewSubmissionSchema,
    RejectInterviewSchema,
)

bp = Blueprint("interviews", __name__)

SUBMISSION = InterviewSubmissionSchema()
INTERVIEW = InterviewSchema()
#: Who reads respondent attributes (of their region's records: scope already limits what they
#: see). A surveyor's own records come back without them.
RESPONDENT_READERS = ("supervisor", "admin")


def dump(interview: Interview, user: User) -> dict[str, Any]:
    """The record's JSON for ``user``: respondent attributes only for supervisors and admins."""
    body = INTERVIEW.dump(interview)
    if user.role not in RESPONDENT_READERS:
        body.pop("respondent", None)
    return body


@bp.post("/interviews")
@api_doc(
    body=InterviewSubmissionSchema,
    body_example="interview-pengguna-sidoarjo",
    responses={
        201: Response(InterviewSchema, "Stored", headers=LOCATION),
        200: Response(InterviewSchema, "Sent before: the same body", headers=LOCATION),
    },
    errors=("submission_conflict", "out_of_scope"),
    tags=["interviews"],
)
@require_role("surveyor", "admin")
def create_interview():
    """Receive an interview record: 201 when new, 200 for an identical resend, 409 else."""
    body = json_body()
    data = load(SUBMISSION, body)
    outcome = submit(body, data, current_user())
    headers = {"Location": url_for(".get_interview", interview_id=outcome.interview.id)}
    return dump(outcome.interview, current_user()), 201 if outcome.created else 200, headers


@bp.get("/interviews")
@api_doc(
    args=InterviewListArgsSchema, responses={200: PageOf(InterviewSchema)}, tags=["interviews"]
)
@require_role("supervisor", "admin")
def list_interviews():
    """Interview records in the caller's region, newest first, filtered."""
    args = load_args(InterviewListArgsSchema())
    filters = {k: args.get(k) for k in ("agency", "unit", "instrument", "methodology", "period")}
    query = listed_interviews(current_user(), status=args.get("status"), **filters).order_by(
        Interview.received_at.desc(), Interview.id.desc()
    )
    items, total = paginate(query, args["page"], args["per_page"])
    user = current_user()
    return page_body([dump(i, user) for i in items], args["page"], args["per_page"], total)


@bp.get("/interviews/<int:interview_id>")
@api_doc(responses={200: InterviewSchema}, tags=["interviews"])
@require_role("surveyor", "supervisor", "admin")
def get_interview(interview_id: int):
    """One interview record (a surveyor's own; a supervisor's or admin's region's)."""
    return dump(get_visible_interview(current_user(), interview_id), current_user())


@bp.post("/interviews/<int:interview_id>/reject")
@api_doc(
    body=RejectInterviewSchema,
    responses={200: InterviewSchema},
    errors=("invalid_transition",),
    tags=["interviews"],
)
@require_role("supervisor", "admin")
def reject_interview(interview_id: int):
    """Reject a record (it stops counting towards quotas and results), with the reason."""
    data = load(RejectInterviewSchema(), json_body())
    interview = get_visible_interview(current_user(), interview_id)
    return dump(reject(interview, data["reason"], current_user()), current_user())


@bp.get("/interviews/coverage")
@api_doc(args=CoverageArgsSchema, responses={200: CoverageSchema}, tags=["interviews"])
@require_role("supervisor", "admin")
def interview_coverage():
    """Interview records per agency against the methodology's quotas, for a period."""
    args = load_args(CoverageArgsSchema())
    result = coverage(
        current_user(),
        methodology_id=args.get("methodology"),
        period=args.get("period"),
        region=args.get("region"),
    )
    return CoverageSchema().dump(coverage_body(result))
