"""An OpenRosa submission's XML, read safely and mapped onto the JSON API's checklist body.

The body built here is what ``POST /api/v1/inspections`` takes (``InspectionSubmissionSchema``),
so the OpenRosa endpoint runs the very same load, validation, checks, scoring and idempotency.
It is built from the XML alone, never from the attachments of the request: a resend of the same
XML with more (or fewer) photos is the same body, with the same hash, hence a replay. The photos
the XML names by file name are returned beside it (``Parsed.photos``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError  # noqa: S405 - types only; parsing is defused

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from fieldcheck.core.model import YES_NO_VALUES, Methodology
from fieldcheck.errors import ApiError
from fieldcheck.i18n import N_, _
from fieldcheck.openrosa.xform import (
    FORM_ID_PREFIX,
    LOCATION_FIELD,
    NOTE_SUFFIX,
    NOTES_FIELD,
    PHOTO_SUFFIX,
    SERVICE_CODE,
    SERVICE_COMPONENTS,
    SERVICE_DAYS,
    SERVICE_FEE,
    SERVICE_REPEAT,
    SERVICE_REQUIREMENTS,
    UNIT_FIELD,
    YES_NO_LABELS,
    label,
    unit_indicators,
)

#: The longest attachment file name kept (openrosa_attachments.filename).
FILENAME_MAX = 255
INTEGER = re.compile(r"^-?\d{1,15}$")
#: ``uuid:<uuid>``, as Collect (and every OpenRosa client) writes meta/instanceID.
INSTANCE_ID = re.compile(r"^uuid:(?P<uuid>[0-9a-fA-F-]{32,36})$")


@dataclass
class Parsed:
    """What a submission's XML says: its form, version, instance and checklist body."""

    form_id: str
    version: str | None
    submission_id: uuid.UUID
    methodology: Methodology
    body: dict[str, Any]
    #: (indicator code, file name) of every photo the XML names.
    photos: list[tuple[str, str]] = field(default_factory=list)


def _local(tag: Any) -> str:
    """An element's name without its namespace (Collect may or may not write one)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def read_xml(xml: bytes) -> Element:
    """The XML's root element; 400 for XML that is malformed or uses entities or DTDs."""
    try:
        return fromstring(xml, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise ApiError(
            "bad_request",
            _("The submission XML cannot be read: %(reason)s", reason=str(exc)),
        ) from None


def _values(root: Element) -> dict[str, str]:
    """The text of every leaf element outside the service repeat, by its local name."""
    values: dict[str, str] = {}

    def walk(element: Element) -> None:
        for child in element:
            name = _local(child.tag)
            if name == SERVICE_REPEAT:
                continue
            if len(child):
                walk(child)
            else:
                values.setdefault(name, (child.text or "").strip())

    walk(root)
    return values


def _leaves(element: Element) -> dict[str, str]:
    return {_local(child.tag): (child.text or "").strip() for child in element.iter()}


def parse(xml: bytes, methodologies: dict[str, Methodology]) -> Parsed:
    """Read the XML and map it to the checklist body (404 for a form this server never made,
    422 for a submission without a usable instanceID)."""
    root = read_xml(xml)
    form_id = root.get("id") or ""
    methodology = (
        methodologies.get(form_id.removeprefix(FORM_ID_PREFIX))
        if form_id.startswith(FORM_ID_PREFIX)
        else None
    )
    if methodology is None:
        raise ApiError(
            "not_found",
            _("This server has no form %(form_id)s; download the forms again.", form_id=form_id),
        )
    values = _values(root)
    match = INSTANCE_ID.match(values.get("instanceID", ""))
    submission_id = None
    if match:
        try:
            submission_id = uuid.UUID(match["uuid"])
        except ValueError:
            submission_id = None
    if submission_id is None:
        raise ApiError(
            "validation_failed",
            N_("The submission has no meta/instanceID of the form uuid:<UUID>."),
            {"fields": {"submission_id": [N_("Missing or not uuid:<UUID>.")]}},
        )
    body: dict[str, Any] = {
        "submission_id": str(submission_id),
        "unit_code": values.get(UNIT_FIELD) or None,
        "methodology": methodology.id,
        "started_at": values.get("start") or None,
        "finished_at": values.get("end") or None,
    }
    location = _location(values.get(LOCATION_FIELD, ""))
    if location is not None:
        body["location"] = location
    answers: dict[str, Any] = {}
    photos: list[tuple[str, str]] = []
    for indicator in unit_indicators(methodology):
        value = values.get(indicator.code, "")
        if not value:
            continue  # intake names it: 'Missing answer'
        answer: dict[str, Any] = {"value": int(value) if INTEGER.match(value) else value}
        note = values.get(indicator.code + NOTE_SUFFIX)
        if note:
            answer["note"] = note
        answers[indicator.code] = answer
        photo = values.get(indicator.code + PHOTO_SUFFIX)
        if indicator.photo_required and photo:
            if len(photo) > FILENAME_MAX:
                raise ApiError(
                    "validation_failed",
                    details={
                        "fields": {
                            f"answers.{indicator.code}": [N_("The photo's file name is too long.")]
                        }
                    },
                )
            photos.append((indicator.code, photo))
    body["answers"] = answers
    body["posted_standards"] = _posted_standards(root)
    if values.get(NOTES_FIELD):
        body["notes"] = values[NOTES_FIELD]
    return Parsed(
        form_id=form_id,
        version=root.get("version"),
        submission_id=submission_id,
        methodology=methodology,
        body={k: v for k, v in body.items() if v is not None},
        photos=photos,
    )


def _location(text: str) -> Any:
    """A geopoint ``lat lon altitude accuracy`` as the JSON location; anything else is passed
    on as it is, for the schema to refuse with its own message."""
    if not text:
        return None
    parts = text.split()
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return text
    if len(numbers) < 2:
        return text
    location: dict[str, Any] = {"lat": numbers[0], "lon": numbers[1]}
    if len(numbers) >= 4:
        location["accuracy_m"] = numbers[3]
    return location


def _integer(text: str) -> Any:
    return int(text) if INTEGER.match(text) else text


def _posted_standards(root: Element) -> list[dict[str, Any]]:
    """The service repeat's instances as ``posted_standards``, without the empty ones: the
    form opens the repeat with one instance, which a surveyor who saw no posted standard
    leaves blank (and a blank instance says nothing, so dropping it loses nothing)."""
    repeats = (_leaves(e) for e in root.iter() if _local(e.tag) == SERVICE_REPEAT)
    return [_posted(leaves) for leaves in repeats if any(leaves.values())]


def _posted(leaves: dict[str, str]) -> dict[str, Any]:
    """One repeat of the service observation as a ``posted_standards`` item."""
    posted: dict[str, Any] = {
        "service": leaves.get(SERVICE_CODE, ""),
        "components": leaves.get(SERVICE_COMPONENTS, "").split(),
    }
    if leaves.get(SERVICE_FEE):
        posted["fee_idr"] = _integer(leaves[SERVICE_FEE])
    if leaves.get(SERVICE_DAYS):
        posted["max_days"] = _integer(leaves[SERVICE_DAYS])
    requirements = [
        line.strip() for line in leaves.get(SERVICE_REQUIREMENTS, "").splitlines() if line.strip()
    ]
    if requirements:
        posted["requirements"] = requirements
    return posted


def question(path: str) -> str:
    """The question a field path of the checklist body points at, as the phone names it."""
    parts = path.split(".")
    if parts[0] == "answers" and len(parts) > 1:
        return parts[1]
    if parts[0] == "posted_standards" and len(parts) > 1 and parts[1].isdigit():
        return _("service %(number)s", number=int(parts[1]) + 1)
    names = {
        "unit_code": N_("unit"),
        "started_at": N_("start time"),
        "finished_at": N_("end time"),
        "location": N_("location"),
        "submission_id": "instanceID",
        "methodology": N_("form"),
        "notes": N_("notes"),
        "posted_standards": N_("services observed"),
    }
    name = names.get(parts[0])
    return _(name) if name else path


def in_phone_words(
    details: dict[str, Any], methodology: Methodology, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``details`` with each refused answer value (``answers.<code>.value``) said as the phone
    shows the choices, not as the JSON API's codes ("yes, partial, no, na"), and a service
    repeat whose service was left unchosen (in ``body``) said as what to do on the phone.

    Collect only sends values of the form's lists, so a wrong value is met with a form edited
    by hand or another OpenRosa client; the labels are the form's (Indonesian, ``label``), the
    words a surveyor saw, whatever language the answer is in. An unchosen service is met with
    Collect itself (the form requires it only once a component is ticked), where the schema's
    "Length must be between 1 and 64" would mean nothing to a surveyor."""
    fields = details.get("fields")
    if not isinstance(fields, dict):
        return details
    indicators = {i.code: i for i in methodology.indicators}
    posted = (body or {}).get("posted_standards") or []
    out = dict(fields)
    for path in fields:
        parts = path.split(".")
        if len(parts) == 3 and parts[0] == "posted_standards" and parts[2] == "service":
            index = int(parts[1]) if parts[1].isdigit() else len(posted)
            item = posted[index] if index < len(posted) else {}
            if isinstance(item, dict) and not item.get("service"):
                out[path] = [
                    N_("Choose the service these components were posted for.")
                    if item.get("components")
                    else N_("Choose the service these answers were recorded for.")
                ]
            continue
        indicator = indicators.get(parts[1]) if len(parts) == 3 and parts[2] == "value" else None
        if parts[0] != "answers" or indicator is None:
            continue
        if indicator.is_scale:
            _kind, low, high = indicator.answer  # type: ignore[misc]
            choices = [str(n) for n in range(low, high + 1)] + [label(YES_NO_LABELS["na"])]
        else:
            choices = [label(YES_NO_LABELS[v]) for v in YES_NO_VALUES]
        words = ", ".join(choices)
        out[path] = [_("Choose one of the form's answers: %(choices)s.", choices=words)]
    return {**details, "fields": out}
