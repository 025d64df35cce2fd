"""The zones as pages show them, from the zone catalogue (issue 16): the generated stylesheet
of their colours, and the lists templates loop over for legends, counts and filters."""

from __future__ import annotations

import hashlib

from flask import Flask, Response, request

from fieldcheck.catalogue.registry import get_registry
from fieldcheck.catalogue.zones import zone_css
from fieldcheck.core.model import Zone
from fieldcheck.web.blueprint import bp


@bp.get("/zones.css")
def zones_css() -> Response:
    """Each zone's badge and map colour (public: the login page uses the same stylesheet)."""
    css = zone_css(get_registry().zones)
    response = Response(css, mimetype="text/css")
    response.set_etag(hashlib.sha256(css.encode()).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response.make_conditional(request)


def zones_in_use() -> tuple[Zone, ...]:
    """The catalogue zones some loaded methodology uses, worst first (legends, filters)."""
    registry = get_registry()
    return tuple(z for z in registry.zones if z.code in registry.zones_in_use())


def zones_of(methodology_id: str | None) -> tuple[str, ...]:
    """The zone codes of a methodology, worst first (a run's counts and legend)."""
    return get_registry().zones_of(methodology_id)


def init_app(app: Flask) -> None:
    """Give templates the zone lists."""
    app.jinja_env.globals.update(zones_in_use=zones_in_use, zones_of=zones_of)
