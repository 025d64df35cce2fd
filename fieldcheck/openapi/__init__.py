"""The OpenAPI document of the HTTP API and the page that shows it.

Routes declare their documentation with ``fieldcheck.openapi.doc.api_doc`` (metadata only; that
module imports nothing from fieldcheck). ``spec.py`` builds the document from ``app.url_map``;
``routes.py`` serves it at ``/api/v1/openapi.json`` and draws it at ``/api/v1/docs``.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Serve the document and the page under ``/api/v1``."""
    # Routes import fieldcheck.openapi.doc (this package): its blueprint loads with the factory.
    from fieldcheck.openapi.routes import bp

    app.register_blueprint(bp, url_prefix="/api/v1")
