"""``GET /api/v1/openapi.json`` (the document) and ``GET /api/v1/docs`` (the page drawing it).

No token is needed: the document describes the API, not anyone's data. The page is Redoc's
standalone bundle, vendored under ``static/`` (see static/README.md): nothing comes from a CDN.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, url_for

from fieldcheck.openapi.doc import Html, api_doc
from fieldcheck.openapi.spec import build_spec

bp = Blueprint("openapi", __name__, static_folder="static", static_url_path="/docs/static")

#: The vendored Redoc release (static/README.md).
REDOC_VERSION = "2.5.0"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fieldcheck API</title>
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<redoc spec-url="{spec}" hide-download-button="false"></redoc>
<script src="{script}"></script>
</body>
</html>
"""


def document() -> dict:
    """The app's OpenAPI document, built once per app (routes do not change while it runs)."""
    cached = current_app.extensions.get("fieldcheck.openapi")
    if cached is None:
        cached = current_app.extensions["fieldcheck.openapi"] = build_spec(current_app)
    return cached


@bp.get("/openapi.json")
@api_doc(
    public=True,
    tags=("documentation",),
    responses={200: {"type": "object", "description": "An OpenAPI 3.0 document"}},
)
def openapi_json():
    """This document: OpenAPI 3, generated from the routes and their marshmallow schemas."""
    response = jsonify(document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/docs")
@api_doc(public=True, tags=("documentation",), responses={200: Html()})
def docs_page():
    """A human-readable page of this document (Redoc, served from this service)."""
    page = _PAGE.format(
        spec=url_for(".openapi_json"),
        script=url_for(".static", filename="redoc.standalone.js", v=REDOC_VERSION),
    )
    return page, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache"}
