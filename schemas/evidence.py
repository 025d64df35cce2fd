"""Wire format of evidence: waivers of missing photos, and the photo answers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from fieldcheck.core.integrity import WAIVER_REASON_MAX, WAIVER_REASON_MIN
from schemas.common import StrictSchema
from schemas.inspections import InspectionSchema


class WaiverSchema(StrictSchema):
    """Body of ``POST /api/v1/inspections/{id}/evidence-waivers``."""

    indicator = fields.String(required=True, validate=validate.Length(min=1, max=32))
    reason = fields.String(
        required=True, validate=validate.Length(min=WAIVER_REASON_MIN, max=WAIVER_REASON_MAX)
    )


# --- answers (documentation of the hand-built bodies of fieldcheck.evidence) -------------------


class WaivedSchema(Schema):
    """A missing photo waived by a supervisor."""

    indicator = fields.String()
    reason = fields.String()
    by = fields.Integer()


class PhotoSummarySchema(Schema):
    """An inspection's photos (``evidence.services.photo_summary``): sha256 digests expected,
    received and still missing, and the waivers."""

    expected = fields.List(fields.String())
    received = fields.List(fields.String())
    missing = fields.List(fields.String())
    waived = fields.List(fields.Nested(WaivedSchema))


class PhotoSchema(Schema):
    """A stored photo (``evidence.services.photo_json``); ``created`` is false when the same
    bytes were already stored."""

    sha256 = fields.String()
    created = fields.Boolean()
    size_bytes = fields.Integer()
    mime = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    exif_taken_at = fields.String(allow_none=True)
    exif_utc_offset = fields.String(allow_none=True)
    exif_location = fields.Dict(allow_none=True)


class PhotoUploadSchema(PhotoSchema):
    """Answer of ``POST /api/v1/photos``: the photo and the inspections it completed."""

    completed_inspections = fields.List(fields.Integer())


class InspectionPhotosSchema(Schema):
    """The inspection a photo was added to: its photos and integrity flags."""

    id = fields.Integer()
    photos = fields.Nested(PhotoSummarySchema)
    flags = fields.List(fields.Dict())


class InspectionPhotoUploadSchema(PhotoSchema):
    """Answer of ``POST /api/v1/inspections/{id}/photos``."""

    inspection = fields.Nested(InspectionPhotosSchema)


class WaiverResultSchema(Schema):
    """Answer of ``POST /api/v1/inspections/{id}/evidence-waivers``."""

    inspection_id = fields.Integer()
    indicator = fields.String()
    reason = fields.String()
    waived_by = fields.Integer()
    photos = fields.Nested(PhotoSummarySchema)
    #: Why the inspection cannot be approved yet, e.g. ``evidence_missing:MP-01``.
    blockers = fields.List(fields.String())
    flags = fields.List(fields.Dict())


class InspectionWithPhotosSchema(InspectionSchema):
    """An inspection as ``/api/v1/inspections`` answers it: with its photos (evidence)."""

    photos = fields.Nested(PhotoSummarySchema)


#: The multipart form of the photo uploads: one part, ``file``.
PHOTO_UPLOAD = {"file": "The photo: JPEG, PNG or WebP, checked by content, not by name"}
