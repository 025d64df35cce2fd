"""``GET /api/v1/audit``: the log, filtered, within the reader's region; ``GET
/api/v1/audit/chain``: the chain's check, for national admins."""

from __future__ import annotations

from flask import Blueprint

from fieldcheck.audit.verification import verify
from fieldcheck.auth.management import AuditFilters, audit_query
from fieldcheck.auth.services import current_user, require_role
from fieldcheck.errors import ApiError
from fieldcheck.http import load_args, page_body, paginate
from fieldcheck.i18n import N_
from fieldcheck.openapi.doc import PageOf, api_doc
from schemas.audit import AuditChainSchema, AuditEntrySchema, AuditListArgsSchema

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


@bp.get("/audit/chain")
@api_doc(responses={200: AuditChainSchema})
@require_role("admin")
def audit_chain():
    """Verify the chain (as ``flask --app app audit verify``): links, keys, checkpoints, unsealed
    entries. 200 whether or not it holds (``ok``); the chain is national: national admins only."""
    if current_user().region_code is not None:
        raise ApiError(
            "forbidden", N_("The audit chain covers the whole country: national admins check it.")
        )
    return AuditChainSchema().dump(verify())
