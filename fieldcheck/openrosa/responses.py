"""OpenRosa answers: the headers every answer carries and the ``OpenRosaResponse`` body."""

from __future__ import annotations

from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 - building, not parsing

from flask import Response

OPENROSA_VERSION = "1.0"
RESPONSE_NS = "http://openrosa.org/http/response"
FORM_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
XML_TYPE = "text/xml; charset=utf-8"


def xml_response(root: Element, status: int = 200) -> Response:
    """``root`` serialised as UTF-8 XML with the OpenRosa content type."""
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(
        root, encoding="utf-8", xml_declaration=False
    )
    return Response(body, status=status, content_type=XML_TYPE)


def message(text: str, nature: str, status: int) -> Response:
    """``<OpenRosaResponse><message nature="...">text</message></OpenRosaResponse>``: the text
    Collect shows (``submit_success``, or ``error`` with a 4xx/5xx status)."""
    root = Element("OpenRosaResponse", {"xmlns": RESPONSE_NS})
    SubElement(root, "message", {"nature": nature}).text = text
    return xml_response(root, status)


def form_list(entries: list[dict[str, str]]) -> Response:
    """The OpenRosa Form List API answer: ``<xforms>`` with one ``<xform>`` per form."""
    root = Element("xforms", {"xmlns": FORM_LIST_NS})
    for entry in entries:
        xform = SubElement(root, "xform")
        for key in ("formID", "name", "version", "hash", "downloadUrl", "manifestUrl"):
            SubElement(xform, key).text = entry[key]
    return xml_response(root)


def manifest(files: list[dict[str, str]]) -> Response:
    """The form's manifest: ``<mediaFile>`` with filename, hash and downloadUrl per file."""
    root = Element("manifest", {"xmlns": MANIFEST_NS})
    for entry in files:
        media = SubElement(root, "mediaFile")
        for key in ("filename", "hash", "downloadUrl"):
            SubElement(media, key).text = entry[key]
    return xml_response(root)
