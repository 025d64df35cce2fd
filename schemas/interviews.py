"""Wire format of interview records: the phone's record (load), the stored record (dump), the
list's filters and the coverage query (domain.md §5 "Interviews")."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from fieldcheck.i18n import N_
from fieldcheck.interviews.respondents import (
    AGE_BANDS,
    ALL_ROLES,
    GENDERS,
    NOTE_MAX,
    RESPONDENT_FIELDS,
)
from schemas.common import DisplayDateTime, KeyedDict, PageArgsSchema, StrictSchema, Timestamp
from schemas.inspections import CODE, AnswerValueField


class RespondentSchema(StrictSchema):
    """Coarse attributes of the respondent; no field exists for a name or any identifier."""

    role = fields.String(validate=validate.OneOf(ALL_ROLES))
    gender = fields.String(validate=validate.OneOf(GENDERS))
    age_band = fields.String(validate=validate.OneOf(AGE_BANDS))

    @pre_load
    def _no_personal_data(self, data: Any, **kwargs: Any) -> Any:
        # A clearer answer than "Unknown field." for nama, nik, telepon, alamat...: say why.
        if isinstance(data, dict):
            extra = sorted(k for k in data if k not in RESPONDENT_FIELDS)
            if extra:
                raise ValidationError(
                    {
                        key: [
                            N_(
                                "Not collected: interview records hold no name, identity number, "
                                "contact or address of the respondent (UU 27/2022); only role, "
                                "gender and age_band."
                            )
                        ]
                        for key in extra
                    }
                )
        return data


class InterviewSubmissionSchema(StrictSchema):
    """The record a phone posts to ``POST /api/v1/interviews`` (api.md "Interviews")."""

    submission_id = fields.UUID(required=True)
    methodology = fields.String(required=True, validate=CODE)
    #: Optional: when given it must be the version the server holds for the interview's date.
    methodology_version = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(1, 1_000_000)
    )
    instrument = fields.String(required=True, validate=validate.Length(min=1, max=32))
    #: A unit code for a unit-level instrument, or an agency code for an agency-level one.
    unit = fields.String(load_default=None, allow_none=True, validate=CODE)
    agency = fields.String(load_default=None, allow_none=True, validate=CODE)
    #: The local calendar date of the interview, or ``started_at`` (its local date is taken).
    interview_date = fields.Date(load_default=None, allow_none=True)
    started_at = Timestamp(load_default=None, allow_none=True)
    respondent = fields.Nested(RespondentSchema, load_default=dict)
    answers = KeyedDict(
        keys=fields.String(validate=validate.Length(min=1, max=32)),
        values=AnswerValueField(),
        required=True,
        validate=validate.Length(min=1, max=200),
    )
    #: Not for personal data (documented); short, for the interview's circumstances.
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=NOTE_MAX))

    @validates_schema
    def _unit_or_agency(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data.get("unit") is None) == (data.get("agency") is None):
            raise ValidationError(N_("Give exactly one of unit and agency."), "unit")

    @validates_schema
    def _date_or_start(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("interview_date") is None and data.get("started_at") is None:
            raise ValidationError(N_("Give interview_date or started_at."), "interview_date")


class InterviewSchema(Schema):
    """A stored interview record. ``respondent`` only for the region's supervisors and admins
    (the route removes it for anyone else)."""

    id = fields.Integer()
    submission_id = fields.UUID()
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    methodology = fields.String(attribute="methodology_id")
    methodology_version = fields.Integer()
    instrument = fields.String()
    level = fields.String()
    agency_code = fields.Function(lambda i: i.agency.code)
    agency_name = fields.Function(lambda i: i.agency.name)
    unit_code = fields.Function(lambda i: i.unit.code if i.unit is not None else None)
    unit_name = fields.Function(lambda i: i.unit.name if i.unit is not None else None)
    region_code = fields.Function(
        lambda i: i.unit.region_code if i.unit is not None else i.agency.region_code
    )
    surveyor_id = fields.Integer()
    interview_date = fields.Date()
    received_at = DisplayDateTime()
    respondent = fields.Dict()
    answers = fields.Dict()
    dimensions = fields.Method("_dimensions")

    def _dimensions(self, interview: Any) -> Any:
        return {k: None if v is None else float(v) for k, v in (interview.dimensions or {}).items()}


class InterviewListArgsSchema(PageArgsSchema):
    """Filters of ``GET /api/v1/interviews``."""

    agency = fields.String(validate=CODE)
    unit = fields.String(validate=CODE)
    instrument = fields.String(validate=validate.Length(min=1, max=32))
    methodology = fields.String(validate=CODE)
    #: The calendar year of interview_date (as zoning's period).
    period = fields.Integer(validate=validate.Range(2000, 2100))
    status = fields.String(validate=validate.OneOf(("received", "rejected")))


class RejectInterviewSchema(StrictSchema):
    """``POST /api/v1/interviews/{id}/reject``."""

    reason = fields.String(
        required=True, validate=[validate.Length(min=1, max=2000), validate.Regexp(r"\S")]
    )


class CoverageArgsSchema(StrictSchema):
    """``GET /api/v1/interviews/coverage``."""

    methodology = fields.String(validate=CODE)
    period = fields.Integer(validate=validate.Range(2000, 2100))
    region = fields.String(validate=validate.Length(min=2, max=16))


class InstrumentCoverageSchema(Schema):
    """One instrument at one agency: counted records against the quota."""

    code = fields.String()
    name = fields.String()
    level = fields.String()
    quota = fields.Integer()
    #: Records counted (unit-level: per sampled unit, at most its quota each).
    have = fields.Integer()
    need = fields.Integer()
    units_short = fields.Integer()
    complete = fields.Boolean()
    #: "29 of 30 pengguna layanan interviews", in the reader's language.
    summary = fields.String()


class CountSchema(Schema):
    """have/need of one unit-level instrument at one unit."""

    have = fields.Integer()
    need = fields.Integer()


class UnitCoverageSchema(Schema):
    """A sampled unit (some record is about it)."""

    unit_code = fields.String()
    unit_name = fields.String()
    #: Approved inspections of the period (the methodology's observations).
    inspections = fields.Integer()
    complete = fields.Boolean()
    instruments = fields.Dict(keys=fields.String(), values=fields.Nested(CountSchema))


class GapSchema(Schema):
    """What a complete result still needs (core.dimensions' quota gaps), as words too."""

    kind = fields.String()
    source = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    have = fields.Integer()
    need = fields.Integer()
    message = fields.String()


class AgencyCoverageSchema(Schema):
    """One agency's coverage."""

    agency_code = fields.String()
    agency_name = fields.String()
    region_code = fields.String(allow_none=True)
    complete = fields.Boolean()
    units_total = fields.Integer()
    units_sampled = fields.Integer()
    units_visited = fields.Integer()
    instruments = fields.List(fields.Nested(InstrumentCoverageSchema))
    units = fields.List(fields.Nested(UnitCoverageSchema))
    gaps = fields.List(fields.Nested(GapSchema))


class CoverageSchema(Schema):
    """``GET /api/v1/interviews/coverage``."""

    methodology = fields.String()
    methodology_version = fields.Integer()
    period = fields.Integer()
    region = fields.String(allow_none=True)
    agencies = fields.List(fields.Nested(AgencyCoverageSchema))
