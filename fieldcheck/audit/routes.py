"""``GET /api/v1/audit``: the log, filtered, within the reader's region."""

from __future__ import annotations

from flask import Blueprint

from fieldcheck.auth.management import AuditFilters, audit_query
from fieldcheck.auth.services import current_user, require_role
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
    kind, ident = None, None
    if "object" in args:
        kind, _, ident = args["object"].partition(":")
    filters = AuditFilters(
        action=args.get("action"),
        object_type=kind,
        object_id=ident,
        actor=args.get("actor"),
        since=args.get("since"),
        until=args.get("until"),
    )
    query = audit_query(current_user(), filters)
    items, total = paginate(query, args["page"], args["per_page"])
    return page_body(AuditEntrySchema(many=True).dump(items), args["page"], args["per_page"], total)
