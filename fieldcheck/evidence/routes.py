"""HTTP endpoints for photos and evidence waivers."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from fieldcheck.auth.services import current_user, require_role
from fieldcheck.errors import ApiError
from fieldcheck.evidence.blockers import approval_blockers, waive
from fieldcheck.evidence.linking import attach, deliver
from fieldcheck.evidence.serving import send_original, send_preview, visible_photo
from fieldcheck.evidence.state import photo_summary
from fieldcheck.evidence.upload import MULTIPART_OVERHEAD, photo_json, spool_upload, store_photo
from fieldcheck.evidence.visibility import flags_for
from fieldcheck.extensions import db
from fieldcheck.http import json_body, load
from fieldcheck.i18n import N_, _, render_flags
from fieldcheck.inspections.visibility import get_visible_inspection
from fieldcheck.openapi.doc import Binary, api_doc
from schemas.evidence import (
    PHOTO_UPLOAD,
    InspectionPhotoUploadSchema,
    PhotoUploadSchema,
    WaiverResultSchema,
    WaiverSchema,
)

bp = Blueprint("evidence", __name__)


def _receive():
    """Spool and store the request's photo (413/415/422 on refusal)."""
    limit = current_app.config["PHOTO_MAX_BYTES"]
    # The app-wide cap is sized for JSON; photos get their own, plus room for multipart framing.
    request.max_content_length = limit + MULTIPART_OVERHEAD
    if request.content_length is not None and request.content_length > request.max_content_length:
        # Refused before reading, with the limit a phone needs to shrink the photo to (the
        # stream would raise a bare 413).
        raise ApiError(
            "payload_too_large",
            _("The photo is larger than %(limit)s bytes.", limit=limit),
            {"max_bytes": limit},
        )
    # A phone on poor signal may take minutes to send a photo. Do not hold a transaction open
    # meanwhile (on SQLite, BEGIN IMMEDIATE would block every other writer): nothing has been
    # written yet but a token's last-use touch, which the next request redoes.
    db.session.rollback()
    spooled = spool_upload(request.stream, request.content_type, limit)
    return store_photo(spooled, current_user())


@bp.post("/inspections/<int:inspection_id>/photos")
@api_doc(
    multipart=PHOTO_UPLOAD,
    responses={201: InspectionPhotoUploadSchema, 200: InspectionPhotoUploadSchema},
    errors=("bad_request", "invalid_image"),
)
@require_role("surveyor", "admin")
def upload_inspection_photo(inspection_id: int):
    """Add a photo to an inspection: 201 when first stored, 200 when the bytes were known."""
    inspection = get_visible_inspection(inspection_id)
    user = current_user()
    if user.role == "surveyor" and inspection.surveyor_id != user.id:
        raise ApiError("not_found", N_("No such inspection."))
    stored = _receive()
    attach(inspection, stored.photo.sha256, user)
    body = photo_json(stored.photo, stored.created)
    body["inspection"] = {
        "id": inspection.id,
        "photos": photo_summary(inspection),
        "flags": render_flags(flags_for([inspection.flags], current_user())[0]),
    }
    return body, 201 if stored.created else 200


@bp.post("/photos")
@api_doc(
    multipart=PHOTO_UPLOAD,
    responses={201: PhotoUploadSchema, 200: PhotoUploadSchema},
    errors=("bad_request", "invalid_image"),
)
@require_role("surveyor", "supervisor", "admin")
def upload_photo():
    """Upload a photo before (or apart from) its checklist; answers reference it by sha256.

    Supervisors upload too: the agency's counter-evidence for an objection they record.
    """
    stored = _receive()
    completed = deliver(stored.photo.sha256, current_user())
    body = photo_json(stored.photo, stored.created)
    body["completed_inspections"] = completed
    return body, 201 if stored.created else 200


@bp.get("/photos/<sha256>")
@api_doc(responses={200: Binary(("image/jpeg", "image/png", "image/webp"))}, cacheable=True)
@require_role("surveyor", "supervisor", "admin")
def get_photo(sha256: str):
    """The original photo bytes, streamed."""
    return send_original(visible_photo(sha256, current_user()))


@bp.get("/photos/<sha256>/preview")
@api_doc(responses={200: Binary(("image/jpeg",))}, cacheable=True)
@require_role("surveyor", "supervisor", "admin")
def get_photo_preview(sha256: str):
    """The JPEG preview (longest side PHOTO_PREVIEW_PX, EXIF orientation applied)."""
    return send_preview(visible_photo(sha256, current_user()))


@bp.post("/inspections/<int:inspection_id>/evidence-waivers")
@api_doc(body=WaiverSchema, responses={201: WaiverResultSchema})
@require_role("supervisor", "admin")
def create_waiver(inspection_id: int):
    """Waive a missing photo for one indicator, with a reason; audited."""
    data = load(WaiverSchema(), json_body())
    inspection = get_visible_inspection(inspection_id)
    waiver = waive(inspection, data["indicator"], data["reason"].strip(), current_user())
    return {
        "inspection_id": inspection.id,
        "indicator": waiver.indicator_code,
        "reason": waiver.reason,
        "waived_by": waiver.waived_by,
        "photos": photo_summary(inspection),
        "blockers": approval_blockers(inspection),
        "flags": render_flags(flags_for([inspection.flags], current_user())[0]),
    }, 201
