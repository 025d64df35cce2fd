"""HTML to PDF with WeasyPrint, fetching nothing from the network.

A report's HTML names its photos and its stylesheet under ``ORIGIN`` (a reserved ``.invalid``
host); the fetcher serves exactly those from memory and the package folder and refuses every other
URL, so a report never reaches outside the machine (a crafted unit name cannot make the server
fetch a URL). Fonts are the system's DejaVu (fontconfig).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fieldcheck.catalogue.zones import shipped_zones, zone_css

#: The base URL of a report's HTML: nothing under it exists on any network.
ORIGIN = "https://report.fieldcheck.invalid/"
#: The report's print stylesheet, beside this module.
STYLESHEET = Path(__file__).resolve().parent / "report.css"


class RefusedFetch(ValueError):
    """A report asked for a resource outside the photos and stylesheet it was given."""


def render_pdf(html: str, photos: Mapping[str, bytes]) -> bytes:
    """The PDF of ``html``; ``photos`` maps a sha256 to the JPEG bytes served at
    ``{ORIGIN}photos/<sha256>`` (the previews the reader may see)."""
    HTML = _weasyprint().HTML  # noqa: N806 - the class, under its own name
    return HTML(string=html, base_url=ORIGIN, url_fetcher=local_fetcher(photos)).write_pdf()


def _weasyprint() -> Any:
    """WeasyPrint, imported on the first report (heavy: cairo, pango, fonts), not by every
    worker and CLI command.

    Importing it sets Pillow's process-wide ``ImageFile.LOAD_TRUNCATED_IMAGES`` to True, which
    would let truncated photo uploads through (``evidence.upload`` asserts it is False and
    refuses them): the flag is put back at once. A report's images are our own previews.
    """
    from PIL import ImageFile  # noqa: PLC0415

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    import weasyprint  # noqa: PLC0415

    ImageFile.LOAD_TRUNCATED_IMAGES = before
    return weasyprint


def local_fetcher(photos: Mapping[str, bytes]) -> Any:
    """A WeasyPrint URL fetcher serving the stylesheet and ``photos``, refusing anything else."""
    urls = _weasyprint().urls

    class LocalOnly(urls.URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url == ORIGIN + "report.css":
                # The zones' colours come from the zone catalogue, not the stylesheet.
                css = STYLESHEET.read_bytes() + zone_css(shipped_zones()).encode()
                return urls.URLFetcherResponse(url, css, {"Content-Type": "text/css"})
            if url.startswith(ORIGIN + "photos/"):
                data = photos.get(url.removeprefix(ORIGIN + "photos/"))
                if data is not None:
                    return urls.URLFetcherResponse(url, data, {"Content-Type": "image/jpeg"})
            raise RefusedFetch(url)

    return LocalOnly()
