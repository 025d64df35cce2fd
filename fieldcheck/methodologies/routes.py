"""HTTP endpoints of methodology management (issue 16): upload, publish, list, read, download.

``GET /methodologies`` and ``GET /methodologies/{id}`` (what phones read) stay in
fieldcheck.catalogue.routes.
"""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from fieldcheck.auth.services import current_user, require_role
from fieldcheck.errors import ApiError
from fieldcheck.http import json_body, load
from fieldcheck.i18n import N_
from fieldcheck.methodologies import services
from fieldcheck.openapi.doc import LOCATION, Binary, ItemsOf, api_doc
from fieldcheck.openapi.doc import Response as Documented
from schemas.methodologies import (
    MethodologyVersionDetailSchema,
    MethodologyVersionSchema,
    PublishSchema,
)

bp = Blueprint("methodologies", __name__)

READERS = ("supervisor", "admin")
MEDIA = {"toml": "application/toml", "json": "application/json"}


def national_admin():
    """The caller, who must be an admin without a region (403 otherwise): a methodology scores
    every region, so an admin limited to one region may not change it."""
    user = current_user()
    if user.region_code is not None:
        raise ApiError("forbidden", N_("Only a national admin may manage methodologies."))
    return user


def read_upload() -> tuple[bytes, str]:
    """The uploaded file and its format: the body (``application/toml`` or
    ``application/json``) or the ``file`` part of a multipart form (415 otherwise)."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiError("unsupported_media_type", N_("The multipart body has no 'file' part."))
        fmt = services.format_of(upload.filename, upload.mimetype)
        content = upload.read()
    else:
        fmt = services.format_of(None, request.content_type)
        content = request.get_data(cache=True)  # 413 past MAX_CONTENT_LENGTH
    if fmt is None:
        raise ApiError("unsupported_media_type", N_("Upload a TOML or JSON methodology file."))
    return content, fmt


@bp.post("/methodologies")
@api_doc(
    multipart={"file": "The methodology file (.toml or .json); or send it as the body"},
    responses={201: Documented(MethodologyVersionSchema, "Stored as a draft", headers=LOCATION)},
    errors=("conflict",),
)
@require_role("admin")
def upload_methodology():
    """Upload a methodology file (TOML or JSON) as a draft version: validated by the loader
    (422 naming the problem); 409 when that version is published or not newer."""
    user = national_admin()
    content, fmt = read_upload()
    view = services.upload(content, fmt, user)
    headers = {
        "Location": url_for(
            ".get_methodology_version",
            methodology_id=view.methodology.id,
            number=view.methodology.version,
        )
    }
    return MethodologyVersionSchema().dump(view), 201, headers


@bp.get("/methodologies/<methodology_id>/versions")
@api_doc(responses={200: ItemsOf(MethodologyVersionSchema)})
@require_role(*READERS)
def list_methodology_versions(methodology_id: str):
    """Every version of a methodology (shipped and uploaded), oldest first."""
    items = services.versions(methodology_id)
    if not items:
        raise ApiError("not_found", N_("No such methodology."))
    return {"items": MethodologyVersionSchema(many=True).dump(items)}


@bp.get("/methodologies/<methodology_id>/versions/<int:number>")
@api_doc(responses={200: MethodologyVersionDetailSchema})
@require_role(*READERS)
def get_methodology_version(methodology_id: str, number: int):
    """One version with its content: dimensions, indicators, bands and zones."""
    return MethodologyVersionDetailSchema().dump(services.version(methodology_id, number))


@bp.get("/methodologies/<methodology_id>/versions/<int:number>/file")
@api_doc(responses={200: Binary(("application/toml", "application/json"))})
@require_role(*READERS)
def download_methodology_version(methodology_id: str, number: int):
    """The version's file, byte for byte as uploaded or shipped (its sha256 is the hash)."""
    content, fmt = services.raw_file(methodology_id, number)
    name = f"{methodology_id}-v{number}.{fmt}"
    return Response(
        content,
        mimetype=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/methodologies/<methodology_id>/versions/<int:number>/publish")
@api_doc(body=PublishSchema, responses={200: MethodologyVersionSchema}, errors=("conflict",))
@require_role("admin")
def publish_methodology_version(methodology_id: str, number: int):
    """Publish a draft from ``effective_from`` on: it is then immutable, and visits on or after
    that date are scored with it."""
    user = national_admin()
    data = load(PublishSchema(), json_body())
    row = services.publish(methodology_id, number, data["effective_from"], user)
    return MethodologyVersionSchema().dump(services.version(row.methodology_id, row.version))
