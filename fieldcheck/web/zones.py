"""The zones as pages show them, from the zone catalogue (issue 16): the generated stylesheet
of their colours, and the lists templates loop over for legends, counts and filters."""

from __future__ import annotations

import hashlib

from flask import Flask, Response, request, url_for

from fieldcheck.catalogue.registry import get_registry
from fieldcheck.catalogue.zones import zone_css
from fieldcheck.core.model import Zone
from fieldcheck.web.blueprint import bp


def _css() -> tuple[str, str]:
    css = zone_css(get_registry().zones)
    return css, hashlib.sha256(css.encode()).hexdigest()[:16]


def zones_css_url() -> str:
    """The stylesheet's URL, named by its content: it changes exactly when the catalogue does."""
    return url_for("web.zones_css", digest=_css()[1])


@bp.get("/zones/<digest>.css")
def zones_css(digest: str) -> Response:
    """Each zone's badge and map colour (an asset, public: the login page uses it too). The
    current catalogue's rules whatever the digest; cached for long only under its own name."""
    css, current = _css()
    response = Response(css, mimetype="text/css")
    response.set_etag(current)
    response.cache_control.public = True
    response.cache_control.max_age = 86400 if digest == current else 300
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
    app.jinja_env.globals.update(
        zones_in_use=zones_in_use, zones_of=zones_of, zones_css_url=zones_css_url
    )
