"""HTTP endpoints for review, bulk review, comments and objections."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select

from fieldcheck.auth.services import current_user, require_role
from fieldcheck.evidence.visibility import flags_for
from fieldcheck.extensions import db
from fieldcheck.http import json_body, load, load_args, page_body, paginate
from fieldcheck.i18n import localize, render_flags, request_language
from fieldcheck.inspections.visibility import get_visible_inspection
from fieldcheck.openapi.doc import ItemsOf, PageOf, api_doc
from fieldcheck.review.bulk import bulk_review
from fieldcheck.review.comments import add_comment
from fieldcheck.review.decisions import review
from fieldcheck.review.models import Comment, Objection, Review
from fieldcheck.review.objections import (
    decide_objection,
    record_objection,
    visible_finding,
    visible_objection,
)
from schemas.inspections import InspectionSchema
from schemas.review import (
    BulkReviewResultSchema,
    BulkReviewSchema,
    CommentCreateSchema,
    CommentSchema,
    ItemResultSchema,
    ListArgsSchema,
    ObjectionCreateSchema,
    ObjectionDecisionSchema,
    ObjectionSchema,
    ReviewDecisionSchema,
    ReviewSchema,
)

bp = Blueprint("review", __name__)

ALL_ROLES = ("surveyor", "supervisor", "admin")
REVIEWERS = ("supervisor", "admin")


@bp.post("/inspections/<int:inspection_id>/review")
@api_doc(
    body=ReviewDecisionSchema,
    responses={200: InspectionSchema},
    errors=("invalid_transition", "review_blocked", "conflict"),
)
@require_role(*REVIEWERS)
def review_inspection(inspection_id: int):
    """Approve, reject or return an inspection in the reviewer's region."""
    data = load(ReviewDecisionSchema(), json_body())
    inspection = get_visible_inspection(inspection_id)
    review(inspection, data["decision"], data["reason"], current_user())
    body = InspectionSchema().dump(inspection)
    body["flags"] = render_flags(flags_for([body["flags"]], current_user())[0])
    return body


@bp.get("/inspections/<int:inspection_id>/reviews")
@api_doc(responses={200: ItemsOf(ReviewSchema)})
@require_role(*ALL_ROLES)
def list_reviews(inspection_id: int):
    """The review history of an inspection, oldest first."""
    get_visible_inspection(inspection_id)
    rows = db.session.execute(
        select(Review).where(Review.inspection_id == inspection_id).order_by(Review.id)
    ).scalars()
    return {"items": ReviewSchema(many=True).dump(rows)}


@bp.post("/inspections/bulk-review")
@api_doc(body=BulkReviewSchema, responses={200: BulkReviewResultSchema})
@require_role(*REVIEWERS)
def bulk_review_endpoint():
    """One decision for every inspection matching a filter (and/or ids) within scope.

    200 with per-item results; items that cannot take the decision are reported, the rest applied.
    """
    data = load(BulkReviewSchema(), json_body())
    results = bulk_review(
        current_user(),
        data["filter"],
        data["ids"],
        data["decision"],
        data["reason"],
        current_app.config["BULK_REVIEW_MAX"],
    )
    applied = sum(1 for r in results if r.ok)
    items = ItemResultSchema(many=True).dump(results)
    for item in items:
        if item["error"] and item["error"]["message"]:
            item["error"]["message"] = localize(item["error"]["message"])
    response = jsonify(
        {
            "decision": data["decision"],
            "matched": len(results),
            "applied": applied,
            "failed": len(results) - applied,
            "items": items,
        }
    )
    # Its per-item messages follow Accept-Language, as error answers do.
    response.headers["Content-Language"] = request_language()
    response.vary.add("Accept-Language")
    return response


@bp.get("/inspections/<int:inspection_id>/comments")
@api_doc(args=ListArgsSchema, responses={200: PageOf(CommentSchema)})
@require_role(*ALL_ROLES)
def list_comments(inspection_id: int):
    """Comments on an inspection, oldest first."""
    args = load_args(ListArgsSchema())
    get_visible_inspection(inspection_id)
    query = select(Comment).where(Comment.inspection_id == inspection_id).order_by(Comment.id)
    items, total = paginate(query, args["page"], args["per_page"])
    return page_body(CommentSchema(many=True).dump(items), args["page"], args["per_page"], total)


@bp.post("/inspections/<int:inspection_id>/comments")
@api_doc(body=CommentCreateSchema, responses={201: CommentSchema})
@require_role(*ALL_ROLES)
def create_comment(inspection_id: int):
    """Comment on an inspection you may see."""
    data = load(CommentCreateSchema(), json_body())
    inspection = get_visible_inspection(inspection_id)
    comment = add_comment(inspection, data["body"].strip(), current_user())
    return CommentSchema().dump(comment), 201


@bp.post("/findings/<int:finding_id>/objections")
@api_doc(
    body=ObjectionCreateSchema,
    responses={201: ObjectionSchema},
    errors=("conflict", "invalid_transition"),
)
@require_role(*REVIEWERS)
def create_objection(finding_id: int):
    """Record the assessed agency's objection (sanggahan) to a finding, with counter-evidence."""
    data = load(ObjectionCreateSchema(), json_body())
    finding, inspection = visible_finding(finding_id, current_user())
    objection = record_objection(
        finding, inspection, data["text"].strip(), data["photos"], current_user()
    )
    return ObjectionSchema().dump(objection), 201


@bp.post("/objections/<int:objection_id>/decision")
@api_doc(
    body=ObjectionDecisionSchema,
    responses={200: ObjectionSchema},
    errors=("conflict", "invalid_transition"),
)
@require_role(*REVIEWERS)
def decide_objection_endpoint(objection_id: int):
    """Uphold (the finding is withdrawn) or dismiss an objection, with a reason."""
    data = load(ObjectionDecisionSchema(), json_body())
    objection, inspection = visible_objection(objection_id)
    decide_objection(
        objection, inspection, data["decision"], data["reason"].strip(), current_user()
    )
    return ObjectionSchema().dump(objection)


@bp.get("/inspections/<int:inspection_id>/objections")
@api_doc(responses={200: ItemsOf(ObjectionSchema)})
@require_role(*ALL_ROLES)
def list_objections(inspection_id: int):
    """Objections to an inspection's findings, oldest first."""
    get_visible_inspection(inspection_id)
    rows = db.session.execute(
        select(Objection).where(Objection.inspection_id == inspection_id).order_by(Objection.id)
    ).scalars()
    return {"items": ObjectionSchema(many=True).dump(rows)}
