"""Wire format of inspections: the phone's submission (load) and the stored inspection (dump)."""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core.integrity import ALL_CODES as ALL_FLAG_CODES
from fieldcheck.core.model import ALL_COMPONENTS
from fieldcheck.i18n import N_, _, render, render_breakdown, render_flags
from schemas.common import (
    MAX_ID,
    DisplayDateTime,
    KeyedDict,
    PageArgsSchema,
    StrictFloat,
    StrictSchema,
    Timestamp,
    id_field,
)

SHA256_HEX = validate.Regexp(r"^[0-9a-f]{64}$", error=N_("Must be a lowercase sha256 hex digest."))
CODE = validate.Length(min=1, max=64)


class AnswerValueField(fields.Field):
    """``"yes"|"partial"|"no"|"na"`` or a whole number; the indicator (checked later) decides."""

    #: Its shape in the OpenAPI document (fieldcheck.openapi.spec).
    openapi_schema = {
        "oneOf": [
            {"type": "string", "enum": ["yes", "partial", "no", "na"]},
            {"type": "integer"},
        ]
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError(N_("Must be one of yes, partial, no, na, or a whole number."))
        return value


class SupersedesField(fields.Field):
    """An inspection id (whole number) or a submission_id (UUID text)."""

    #: Its shape in the OpenAPI document (fieldcheck.openapi.spec).
    openapi_schema = {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            {"type": "string", "format": "uuid"},
        ],
        "nullable": True,
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
            return value
        if isinstance(value, str):
            try:
                return uuid.UUID(value)
            except ValueError:
                pass
        raise ValidationError(N_("Must be an inspection id or a submission_id (UUID)."))


class LocationSchema(StrictSchema):
    """Where the phone was when the checklist was finished."""

    lat = StrictFloat(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    lon = StrictFloat(required=True, allow_nan=False, validate=validate.Range(-180, 180))
    accuracy_m = StrictFloat(
        load_default=None, allow_none=True, allow_nan=False, validate=validate.Range(0, 100_000)
    )


class AnswerSchema(StrictSchema):
    """One answer in ``answers``."""

    value = AnswerValueField(required=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    photos = fields.List(
        fields.String(validate=SHA256_HEX), load_default=list, validate=validate.Length(max=50)
    )


class PostedStandardSchema(StrictSchema):
    """What the unit displayed for one service."""

    service = fields.String(required=True, validate=CODE)
    components = fields.List(
        fields.String(validate=validate.OneOf(ALL_COMPONENTS)),
        required=True,
        validate=validate.Length(max=len(ALL_COMPONENTS)),
    )
    fee_idr = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(0, 1_000_000_000_000),
    )
    max_days = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(0, 3650)
    )
    requirements = fields.List(
        fields.String(validate=validate.Length(min=1, max=300)),
        load_default=list,
        validate=validate.Length(max=100),
    )

    @validates_schema
    def _no_repeated_components(self, data: dict[str, Any], **kwargs: Any) -> None:
        if len(set(data["components"])) != len(data["components"]):
            raise ValidationError(N_("A component is listed twice."), "components")

    @validates_schema
    def _values_need_their_component(self, data: dict[str, Any], **kwargs: Any) -> None:
        # A fee, a number of days or a requirement read off the board means that component is
        # posted: sent without it, the checklist contradicts itself (a fee "not posted" yet
        # checked against the law).
        shown = set(data.get("components") or ())
        problems = {
            key: [_('Given, so "%(component)s" must be listed in components.', component=component)]
            for key, component, present in (
                ("fee_idr", "biaya", data.get("fee_idr") is not None),
                ("max_days", "waktu", data.get("max_days") is not None),
                ("requirements", "persyaratan", bool(data.get("requirements"))),
            )
            if present and component not in shown
        }
        if problems:
            raise ValidationError(problems)


class InspectionSubmissionSchema(StrictSchema):
    """The checklist a phone posts to ``POST /api/v1/inspections`` (api.md)."""

    submission_id = fields.UUID(required=True)
    unit_code = fields.String(required=True, validate=CODE)
    methodology = fields.String(required=True, validate=CODE)
    #: Issue 16: optional; without it the version in force on the visit date scores the visit.
    #: With it, that version must be published and in force on the visit date.
    methodology_version = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=1_000_000)
    )
    started_at = Timestamp(required=True)
    finished_at = Timestamp(required=True)
    location = fields.Nested(LocationSchema, load_default=None, allow_none=True)
    answers = KeyedDict(
        keys=fields.String(validate=validate.Length(min=1, max=32)),
        values=fields.Nested(AnswerSchema),
        required=True,
    )
    posted_standards = fields.List(
        fields.Nested(PostedStandardSchema), load_default=list, validate=validate.Length(max=200)
    )
    notes = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10_000))
    #: A corrected resubmission names the returned inspection it replaces (id or submission_id).
    supersedes = SupersedesField(load_default=None, allow_none=True)

    @validates_schema
    def _finished_after_started(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["finished_at"] < data["started_at"]:
            raise ValidationError(N_("Must not be before started_at."), "finished_at")

    @validates_schema
    def _services_once(self, data: dict[str, Any], **kwargs: Any) -> None:
        seen: set[str] = set()
        for i, posted in enumerate(data.get("posted_standards") or []):
            if posted["service"] in seen:
                raise ValidationError(
                    {str(i): {"service": [N_("This service is already listed.")]}},
                    "posted_standards",
                )
            seen.add(posted["service"])


class InspectionListArgsSchema(PageArgsSchema):
    """Filters of ``GET /api/v1/inspections``."""

    unit = fields.String(validate=CODE)
    status = fields.String(
        validate=validate.OneOf(("received", "approved", "rejected", "returned"))
    )
    since = Timestamp()
    surveyor = id_field()
    #: An integrity flag code (fieldcheck.core.integrity.ALL_CODES), e.g. gps_far.
    flag = fields.String(validate=validate.OneOf(sorted(ALL_FLAG_CODES)))


class FindingSchema(Schema):
    """A finding as api.md shows it."""

    rule = fields.String()
    severity = fields.String()
    category = fields.String()
    citation = fields.String()
    #: Rendered in the reader's language from the stored msgid and params.
    message = fields.Function(lambda f: render(f.message, f.params))
    expected = fields.Raw()
    observed = fields.Raw()
    service = fields.String(attribute="service_code", allow_none=True)
    component = fields.String(allow_none=True)
    sanction = fields.String(allow_none=True)
    id = fields.Integer()
    #: Withdrawn by an upheld objection (sanggahan); re-scoring leaves it out.
    is_withdrawn = fields.Boolean()
    withdrawn_at = DisplayDateTime(allow_none=True)


class AnswerDumpSchema(Schema):
    """A stored answer."""

    value = fields.Method("_value")
    note = fields.String(allow_none=True)
    photos = fields.List(fields.String())

    def _value(self, answer: Any) -> Any:
        return int(answer.value) if answer.value.lstrip("-").isdigit() else answer.value


#: Built once: every inspection shown dumps its answers with it.
ANSWER_DUMP = AnswerDumpSchema()


class PostedStandardDumpSchema(Schema):
    """A stored posted standard."""

    service = fields.String(attribute="service_code")
    components = fields.List(fields.String())
    fee_idr = fields.Integer(allow_none=True)
    max_days = fields.Integer(allow_none=True)
    requirements = fields.List(fields.String())


#: Shown for an inspection under a methodology zoned per agency (issue 16).
NOT_ZONED_PER_VISIT = N_(
    "Not zoned per visit: the zone is decided per agency from the four dimensions."
)


class InspectionSchema(Schema):
    """An inspection as stored: what the phone sent and what the core made of it."""

    id = fields.Integer()
    submission_id = fields.UUID()
    status = fields.String()
    unit_code = fields.Function(lambda i: i.unit.code)
    unit_name = fields.Function(lambda i: i.unit.name)
    region_code = fields.Function(lambda i: i.unit.region_code)
    surveyor_id = fields.Integer()
    methodology = fields.String(attribute="methodology_id")
    methodology_version = fields.Integer()
    started_at = DisplayDateTime()
    finished_at = DisplayDateTime()
    visit_date = fields.Date()
    #: The visit in the unit's own time zone (WIB/WITA/WIT), as the surveyor lived it.
    local_time = fields.Method("_local_time")
    received_at = DisplayDateTime()
    location = fields.Method("_location")
    score = fields.Method("_score")
    zone = fields.String(allow_none=True)
    grade = fields.String(allow_none=True)
    label = fields.String(allow_none=True)
    #: Why the inspection has no zone of its own (issue 16), in the reader's language; None
    #: when it is banded per visit as before.
    not_zoned = fields.Method("_not_zoned", allow_none=True)
    findings = fields.List(fields.Nested(FindingSchema))
    flags = fields.Function(lambda i: render_flags(i.flags))
    answers = fields.Method("_answers")
    posted_standards = fields.List(fields.Nested(PostedStandardDumpSchema))
    breakdown = fields.Function(lambda i: render_breakdown(i.breakdown))
    notes = fields.String(allow_none=True)
    reviewed_by_id = fields.Integer(allow_none=True)
    reviewed_at = DisplayDateTime(allow_none=True)
    review_reason = fields.String(allow_none=True)
    supersedes_id = fields.Integer(allow_none=True)
    superseded_by_id = fields.Integer(allow_none=True)

    def _local_time(self, inspection: Any) -> Any:
        tz = ZoneInfo(inspection.unit.region.timezone)
        return {
            "timezone": inspection.unit.region.timezone,
            "started_at": inspection.started_at.astimezone(tz).isoformat(),
            "finished_at": inspection.finished_at.astimezone(tz).isoformat(),
        }

    def _location(self, inspection: Any) -> Any:
        if inspection.lat is None:
            return None
        return {"lat": inspection.lat, "lon": inspection.lon, "accuracy_m": inspection.accuracy_m}

    def _not_zoned(self, inspection: Any) -> Any:
        # Under a methodology zoned per agency (ombudsman-2022) a visit is scored, not banded
        # (core.scoring.score): say so rather than leave an unexplained empty zone.
        methodology = get_registry().methodology(inspection.methodology_id)
        if methodology is None or methodology.zoning_level != "agency":
            return None
        return _(NOT_ZONED_PER_VISIT)

    def _score(self, inspection: Any) -> Any:
        return None if inspection.score is None else float(inspection.score)

    def _answers(self, inspection: Any) -> Any:
        return {a.indicator_code: ANSWER_DUMP.dump(a) for a in inspection.answers}


class InspectionSummarySchema(InspectionSchema):
    """A list row: everything but the bulky answers and breakdown."""

    class Meta:
        exclude = ("answers", "breakdown", "posted_standards")
