"""``GET /api/v1/audit``: the log, filtered, within the reader's region."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from fieldcheck.audit.models import AuditEntry
from fieldcheck.auth.services import current_user, require_role, scope_filter
from fieldcheck.http import load_args, page_body, paginate
from fieldcheck.openapi.doc import PageOf, api_doc
from schemas.audit import AuditEntrySchema, AuditListArgsSchema

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@api_doc(args=AuditListArgsSchema, responses={200: PageOf(AuditEntrySchema)})
@require_role("supervisor", "admin")
def list_audit():
    """Audit entries, newest first; a regional reader sees entries about objects in the region."""
    args = load_args(AuditListArgsSchema())
    query = select(AuditEntry)
    # The region is stamped on each entry when written (the object's region at that time), so
    # scoping is one indexed prefix match and survives later moves of the object.
    condition = scope_filter(current_user(), AuditEntry.region_code)
    if condition is not None:
        query = query.where(condition)
    if "object" in args:
        kind, _, ident = args["object"].partition(":")
        query = query.where(AuditEntry.object_type == kind, AuditEntry.object_id == ident)
    if "actor" in args:
        query = query.where(AuditEntry.actor_id == args["actor"])
    if "action" in args:
        query = query.where(AuditEntry.action == args["action"])
    if "since" in args:
        query = query.where(AuditEntry.created_at >= args["since"])
    if "until" in args:
        query = query.where(AuditEntry.created_at < args["until"])
    query = query.order_by(AuditEntry.id.desc())
    items, total = paginate(query, args["page"], args["per_page"])
    return page_body(AuditEntrySchema(many=True).dump(items), args["page"], args["per_page"], total)
