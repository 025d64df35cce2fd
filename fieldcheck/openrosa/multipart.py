"""Reading an OpenRosa submission's multipart body: the XML in memory, attachments spooled.

Streams the body in chunks (werkzeug's sans-IO decoder, as ``fieldcheck.evidence.upload``
does for one photo): the ``xml_submission_file`` part is kept in memory up to the JSON body cap,
every attachment goes to a temp file while it is hashed and counted, so memory stays flat
whatever the phone sends. Any refusal deletes what was spooled.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from flask import current_app
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from fieldcheck.errors import ApiError
from fieldcheck.evidence.storage import upload_tmp_dir
from fieldcheck.evidence.upload import CHUNK, Spooled
from fieldcheck.i18n import N_, _

#: The part holding the submission's XML (OpenRosa Form Submission API).
XML_PART = "xml_submission_file"
#: The part ODK Collect adds when it splits one submission's attachments over several POSTs.
INCOMPLETE_PART = "*isIncomplete*"
#: Plain fields an OpenRosa client may add, kept up to this many bytes each.
FIELD_MAX = 1024


@dataclass
class Parts:
    """A submission body: the XML, the attachments by name, and the plain fields."""

    xml: bytes | None = None
    files: dict[str, Spooled] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        """Delete every spooled attachment (idempotent)."""
        for spooled in self.files.values():
            spooled.discard()


def read_parts(stream: IO[bytes], content_type: str | None, xml_max: int, file_max: int) -> Parts:
    """Read a multipart/form-data submission: 415 when it is not one or lacks the XML part,
    413 past ``xml_max`` (the XML) or ``file_max`` (one attachment), 400 when cut short."""
    mimetype, options = parse_options_header(content_type or "")
    boundary = options.get("boundary")
    if mimetype != "multipart/form-data" or not boundary:
        raise ApiError(
            "unsupported_media_type",
            N_("Send the submission as multipart/form-data with an xml_submission_file part."),
        )
    decoder = MultipartDecoder(boundary.encode("latin-1"), max_form_memory_size=2 * CHUNK)
    parts = Parts()
    try:
        _decode(stream, decoder, parts, xml_max, file_max)
    except BaseException:
        parts.discard()
        raise
    if parts.xml is None:
        parts.discard()
        raise ApiError(
            "unsupported_media_type", N_("The multipart body has no xml_submission_file part.")
        )
    return parts


def _decode(
    stream: IO[bytes], decoder: MultipartDecoder, parts: Parts, xml_max: int, file_max: int
) -> None:
    xml: bytearray | None = None
    text: bytearray | None = None
    out: Any = None
    current: Spooled | None = None
    digests: dict[str, Any] = {}
    name = ""
    complete = False
    try:
        while not complete:
            chunk = stream.read(CHUNK)
            decoder.receive_data(chunk or None)
            event = _next_event(decoder)
            while not isinstance(event, NeedData):
                if isinstance(event, File | Field):
                    if out is not None:
                        out.close()
                        out = None
                    xml = text = None
                    current = None
                    name = event.name or (event.filename if isinstance(event, File) else "")
                    if name == XML_PART:
                        if parts.xml is not None:
                            raise ApiError(
                                "bad_request", N_("The body has two xml_submission_file parts.")
                            )
                        xml = bytearray()
                        parts.xml = b""
                    elif isinstance(event, File) and name:
                        if name in parts.files:
                            raise ApiError(
                                "bad_request",
                                _("The body has two attachments named %(name)s.", name=name),
                            )
                        fd, path = tempfile.mkstemp(
                            dir=upload_tmp_dir(current_app), prefix="openrosa-"
                        )
                        out = os.fdopen(fd, "wb")
                        current = Spooled(Path(path), "", 0)
                        parts.files[name] = current
                        digests[name] = hashlib.sha256()
                    else:
                        text = bytearray()
                elif isinstance(event, Data):
                    if xml is not None:
                        xml += event.data
                        if len(xml) > xml_max:
                            raise ApiError(
                                "payload_too_large",
                                _(
                                    "The submission XML is larger than %(limit)s bytes.",
                                    limit=xml_max,
                                ),
                                {"max_bytes": xml_max},
                            )
                        parts.xml = bytes(xml)
                    elif current is not None:
                        current.size += len(event.data)
                        if current.size > file_max:
                            raise ApiError(
                                "payload_too_large",
                                _(
                                    "The attachment %(name)s is larger than %(limit)s bytes.",
                                    name=name,
                                    limit=file_max,
                                ),
                                {"max_bytes": file_max},
                            )
                        digests[name].update(event.data)
                        out.write(event.data)
                    elif text is not None and len(text) <= FIELD_MAX:
                        text += event.data
                        if not event.more_data:
                            parts.fields[name] = text[:FIELD_MAX].decode("utf-8", "replace")
                elif isinstance(event, Epilogue):
                    complete = True
                    break
                event = _next_event(decoder)
            if not chunk and not complete:
                raise ApiError("bad_request", N_("The upload ended before it was complete."))
        for part_name, spooled in parts.files.items():
            spooled.sha256 = digests[part_name].hexdigest()
    finally:
        if out is not None:
            out.close()


def _next_event(decoder: MultipartDecoder) -> Any:
    try:
        return decoder.next_event()
    except ValueError:
        raise ApiError("bad_request", N_("The upload is incomplete or malformed.")) from None
