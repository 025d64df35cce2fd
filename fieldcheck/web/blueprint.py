"""The web app's one blueprint; each page area (overview, units, review...) adds its views."""

from __future__ import annotations

from flask import Blueprint

#: Pages at the site's root (``/``, ``/units/<code>``...); the API stays under ``/api/v1``.
#: Vendored scripts, styles and their licences are served from ``/assets``.
bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)
