"""ODK Collect provisioning: the settings a QR code carries to set a phone up for one surveyor.

Like an ODK Central app user: the surveyor's API token travels inside the server URL
(``<public base URL>/openrosa/key/<token>``), because Collect has no bearer authentication; Collect
then asks ``<server URL>/formList`` and posts to ``<server URL>/submission``.

The QR code holds Collect's settings format, as Collect reads it: the settings JSON
(``general``, ``admin``, ``project``), deflated with zlib (a zlib stream with its header, what
``java.util.zip.Deflater()`` writes and ``Inflater()`` reads) and base64-encoded without line
breaks. Sources: getodk/collect ``CompressionUtils.decompress`` (used by ``QRCodeDecoder``) and
``settings/src/main/resources/client-settings.schema.json``; getodk/central-frontend
``components/collect-qr.vue`` and ``components/field-key/qr-panel.vue`` (docs/decisions.md,
"Issue 15: sync client and Collect provisioning").
"""

from __future__ import annotations

import base64
import ipaddress
import json
import zlib
from typing import Any
from urllib.parse import urlsplit

import segno

from fieldcheck.auth.models import User
from fieldcheck.errors import field_errors
from fieldcheck.i18n import N_

#: The path under the public base URL that carries the token (fieldcheck.openrosa serves it).
KEY_PATH = "/openrosa/key/"
#: The ``client`` values of a token request: a plain API token, or one set up for ODK Collect.
CLIENTS = ("api", "odk-collect")
#: Collect shows projects with a colour and a one-character icon; Ombudsman RI's blue.
PROJECT_COLOR = "#1f4e8c"
PROJECT_ICON = "O"


def server_url(base_url: str, token: str) -> str:
    """The server URL Collect is given: the public base URL, the key path and the token."""
    return f"{base_url.rstrip('/')}{KEY_PATH}{token}"


def unreachable_host(base_url: str) -> str | None:
    """The host of ``base_url`` when no phone can reach it (``localhost``, ``*.localhost``, a
    loopback or unspecified address such as 127.0.0.1, ::1 or 0.0.0.0); else None.

    A QR code made from such an address sets the phone up to call itself: the trial's first
    pitfall (``make run`` serves on 127.0.0.1 and, without public_base_url, the page uses the
    browser's address)."""
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return host if address.is_loopback or address.is_unspecified else None


def collect_settings(base_url: str, token: str, user: User) -> dict[str, Any]:
    """Collect's settings for ``user``'s phone (the JSON inside the QR code).

    ``form_update_mode = match_exactly`` and ``autosend = wifi_and_cellular`` are what Central
    gives its app users: the phone keeps exactly the forms in force (a new methodology version
    replaces the old form) and sends finalized checklists whenever it has a connection.
    ``change_server = false`` hides the server setting, so the token in the URL is not shown
    or edited on the phone. ``metadata_username`` fills the forms' username metadata: the
    login username when the user has one (what the office knows them by, and unique), else the
    display name.
    """
    return {
        "general": {
            "server_url": server_url(base_url, token),
            "form_update_mode": "match_exactly",
            "autosend": "wifi_and_cellular",
            "metadata_username": user.username or user.name,
        },
        # Collect requires an "admin" object (client-settings.schema.json: general and admin).
        "admin": {"change_server": False},
        "project": {
            "name": f"Ombudsman RI: {user.name}",
            "icon": PROJECT_ICON,
            "color": PROJECT_COLOR,
        },
    }


def encode_settings(settings: dict[str, Any]) -> str:
    """The QR code's text: compact JSON (UTF-8), zlib-deflated, base64 without line breaks."""
    text = json.dumps(settings, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")


def decode_settings(payload: str) -> dict[str, Any]:
    """The settings in a QR code's text, read as Collect reads it (base64, inflate, JSON)."""
    return json.loads(zlib.decompress(base64.b64decode(payload, validate=True)).decode("utf-8"))


def check_collect_user(user: User) -> None:
    """Refuse (422 on ``client``) a Collect set-up for anyone but a surveyor: the token sits in
    a URL on a phone, and only surveyors send checklists."""
    if user.role != "surveyor":
        raise field_errors(
            {"client": [N_("ODK Collect is set up for surveyors only.")]},
        )


def qr_code(payload: str) -> segno.QRCode:
    """The QR code of ``payload`` (error correction M: still read on a creased printout)."""
    return segno.make(payload, error="m")
