"""An interview form's submission XML mapped onto the body of ``POST /api/v1/interviews``, so
the OpenRosa endpoint runs the same load, validation, scoring and idempotency as the JSON API
(idempotent by the instance's ``meta/instanceID``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element  # noqa: S405 - types only; parsing is defused

from fieldcheck.core.model import Instrument, Methodology
from fieldcheck.errors import ApiError
from fieldcheck.i18n import N_
from fieldcheck.openrosa.submission import INSTANCE_ID, INTEGER, read_xml
from fieldcheck.openrosa.xform import (
    AGE_FIELD,
    AGENCY_FIELD,
    GENDER_FIELD,
    INTERVIEW_DATE_FIELD,
    NOTES_FIELD,
    ROLE_FIELD,
    UNIT_FIELD,
    interview_form_id,
)


@dataclass(frozen=True)
class InterviewSubmission:
    """A submission of an interview form: which form, its version, and the XML's root."""

    form_id: str
    version: str | None
    methodology: Methodology
    instrument: Instrument
    root: Element


def interview_form(xml: bytes, methodologies: dict[str, Methodology]) -> InterviewSubmission | None:
    """The interview form the XML was made with, or None when it is not an interview form's
    (a checklist, or an unknown form: the checklist parser answers those)."""
    root = read_xml(xml)
    form_id = root.get("id") or ""
    for methodology in methodologies.values():
        for instrument in methodology.instruments:
            if interview_form_id(methodology, instrument) == form_id:
                return InterviewSubmission(
                    form_id, root.get("version"), methodology, instrument, root
                )
    return None


def _leaves(root: Element) -> dict[str, str]:
    values: dict[str, str] = {}
    for element in root.iter():
        if len(element) == 0 and isinstance(element.tag, str):
            values.setdefault(element.tag.rsplit("}", 1)[-1], (element.text or "").strip())
    return values


def submission_id(sub: InterviewSubmission) -> uuid.UUID:
    """The instance's uuid (422 when meta/instanceID is missing or malformed)."""
    match = INSTANCE_ID.match(_leaves(sub.root).get("instanceID", ""))
    if match:
        try:
            return uuid.UUID(match["uuid"])
        except ValueError:
            pass
    raise ApiError(
        "validation_failed",
        N_("The submission has no meta/instanceID of the form uuid:<UUID>."),
        {"fields": {"submission_id": [N_("Missing or not uuid:<UUID>.")]}},
    )


def interview_body(sub: InterviewSubmission) -> dict[str, Any]:
    """The JSON API body the XML says (built from the XML alone: a resend is the same body)."""
    values = _leaves(sub.root)
    body: dict[str, Any] = {
        "submission_id": str(submission_id(sub)),
        "methodology": sub.methodology.id,
        "methodology_version": sub.methodology.version,
        "instrument": sub.instrument.code,
    }
    if sub.instrument.level == "unit":
        body["unit"] = values.get(UNIT_FIELD) or None
    else:
        body["agency"] = values.get(AGENCY_FIELD) or None
    if values.get(INTERVIEW_DATE_FIELD):
        body["interview_date"] = values[INTERVIEW_DATE_FIELD]
    elif values.get("start"):
        body["started_at"] = values["start"]
    respondent = {
        key: values[field]
        for key, field in (("role", ROLE_FIELD), ("gender", GENDER_FIELD), ("age_band", AGE_FIELD))
        if values.get(field)
    }
    body["respondent"] = respondent
    answers: dict[str, Any] = {}
    for question in sub.methodology.questions(sub.instrument.code):
        value = values.get(question.code, "")
        if value:  # a missing one is named by intake: 'Missing answer'
            answers[question.code] = int(value) if INTEGER.match(value) else value
    body["answers"] = answers
    if values.get(NOTES_FIELD):
        body["note"] = values[NOTES_FIELD]
    return {k: v for k, v in body.items() if v is not None}
