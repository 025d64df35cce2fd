"""Wire format of zoning runs, results and changes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from fieldcheck.catalogue.zones import zone_codes
from fieldcheck.i18n import N_, render_reason
from schemas.common import DisplayDateTime, PageArgsSchema, StrictBoolean, StrictSchema

REGION = validate.Regexp(r"^\d{2}(\.\d{2})?$", error=N_("Must be a region code like 35 or 35.15."))
METHODOLOGY = validate.Length(min=1, max=64)
LEVELS = ("unit", "agency", "regency", "province")
#: The zone catalogue's codes, worst first (filters and OpenAPI enums follow the catalogue).
ZONES = zone_codes()


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


class ZoningRunCreateSchema(StrictSchema):
    """Body of ``POST /api/v1/zoning-runs``."""

    methodology = fields.String(load_default=None, validate=METHODOLOGY)
    #: Exactly this version (issue 16; a draft only with ``dry_run``); default: in force today.
    version = fields.Integer(load_default=None, validate=validate.Range(min=1))
    region = fields.String(load_default=None, allow_none=True, validate=REGION)
    period = fields.Integer(load_default=None, validate=validate.Range(2000, 2100))
    dry_run = StrictBoolean(load_default=False)
    full = StrictBoolean(load_default=False)
    #: What-if draft weights {indicator_code: weight}; checked against the methodology later.
    weights = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=32)),
        values=fields.Raw(),
        load_default=None,
        allow_none=True,
    )


class RunRefField(fields.Field):
    """``run``: ``latest`` or a run id."""

    #: Its shape in the OpenAPI document (fieldcheck.openapi.spec).
    openapi_schema = {"type": "string", "pattern": "^(latest|[0-9]{1,11})$"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value == "latest":
            return value
        if isinstance(value, str) and value.isdigit() and len(value) < 12:
            return int(value)
        raise ValidationError(N_('Must be "latest" or a run id.'))


class ResultChoiceArgsSchema(StrictSchema):
    """Which results a query reads (zoning.routes.resolve_run): a run id or ``latest``, else
    the published run of ``methodology`` and ``period``. Also the query of
    ``GET /api/v1/units/{code}/result`` and ``GET /api/v1/map/provinces``."""

    run = RunRefField()
    methodology = fields.String(validate=METHODOLOGY)
    period = fields.Integer(validate=validate.Range(2000, 2100))


UnitResultArgsSchema = ResultChoiceArgsSchema


class ResultArgsSchema(PageArgsSchema, ResultChoiceArgsSchema):
    """Query of ``GET /api/v1/results``."""

    level = fields.String(load_default="unit", validate=validate.OneOf(LEVELS))
    region = fields.String(validate=REGION)
    zone = fields.String(validate=validate.OneOf(ZONES))


class ChangeArgsSchema(PageArgsSchema):
    """Query of ``GET /api/v1/zoning-runs/{id}/changes``."""

    level = fields.String(validate=validate.OneOf(("unit", "agency")))
    zone_moves_only = fields.Boolean(load_default=False)


class RunListArgsSchema(PageArgsSchema):
    """Query of ``GET /api/v1/zoning-runs``."""

    state = fields.String(
        validate=validate.OneOf(("queued", "running", "succeeded", "failed", "skipped"))
    )


class ZoningRunSchema(Schema):
    """A zoning run with its state, progress, counts and duration."""

    id = fields.Integer()
    state = fields.String()
    methodology = fields.String(attribute="methodology_id")
    methodology_version = fields.Integer()
    methodology_hash = fields.String()
    period = fields.Integer()
    region = fields.Function(lambda r: r.scope or None)
    #: What the run did (full or incremental): known once it succeeded; ``requested_mode`` is
    #: what was asked. A skipped or failed run showed "full" for work it never did.
    mode = fields.Function(lambda r: r.mode if r.state == "succeeded" else None)
    requested_mode = fields.String()
    dry_run = fields.Boolean(attribute="is_dry_run")
    weights = fields.Raw(allow_none=True)
    trigger = fields.String()
    requested_by = fields.Integer(allow_none=True)
    created_at = DisplayDateTime()
    started_at = DisplayDateTime(allow_none=True)
    finished_at = DisplayDateTime(allow_none=True)
    heartbeat_at = DisplayDateTime(allow_none=True)
    duration_seconds = fields.Float(allow_none=True)
    progress = fields.Function(
        lambda r: {
            "done": r.progress_done,
            "total": r.progress_total,
            "percent": (
                100.0
                if r.state == "succeeded"
                else round(100 * r.progress_done / r.progress_total, 1)
                if r.progress_total
                else 0.0
            ),
        }
    )
    counts = fields.Raw()
    #: Why a run failed or was skipped, in the reader's language where the text is known.
    error = fields.Function(lambda r: render_reason(r.error, r.error_params))
    is_published = fields.Boolean(attribute="is_official")
    #: The run this one repeats (``POST /zoning-runs/{id}/rerun``), or null.
    rerun_of = fields.Integer(attribute="rerun_of_id", allow_none=True)
    #: Only on ``GET /zoning-runs/{id}``: for a rerun, ``{"of", "reproduced", "differences",
    #: "difference_count"}`` (``reproduced`` null until both runs succeeded); null otherwise.
    rerun = fields.Raw(allow_none=True, dump_only=True)
    published_at = DisplayDateTime(allow_none=True)
    base_run_id = fields.Integer(allow_none=True)
    #: The complete run whose unchanged unit rows this run shares (see docs/decisions.md).
    anchor_run_id = fields.Integer(allow_none=True)
    compared_run_id = fields.Integer(allow_none=True)


class ResultSchema(Schema):
    """One result row: a unit, agency, regency or province."""

    code = fields.String()
    name = fields.String()
    level = fields.String()
    score = fields.Function(lambda r: _number(r.score))
    zone = fields.String()
    grade = fields.String()
    label = fields.String()
    rank = fields.Integer()
    run_id = fields.Integer()
    region_code = fields.String(allow_none=True)
    agency_code = fields.String(allow_none=True)
    members = fields.Integer()


class ChangeSchema(Schema):
    """A unit or agency that moved against the compared (published) run."""

    level = fields.String()
    code = fields.String()
    name = fields.String()
    region_code = fields.String(allow_none=True)
    old_score = fields.Function(lambda c: _number(c.old_score))
    new_score = fields.Function(lambda c: _number(c.new_score))
    delta = fields.Function(
        lambda c: (
            None if c.old_score is None or c.new_score is None else float(c.new_score - c.old_score)
        )
    )
    old_zone = fields.String(allow_none=True)
    new_zone = fields.String(allow_none=True)
    zone_moved = fields.Boolean(attribute="is_zone_move")


# --- answers (documentation of the hand-built bodies of fieldcheck.zoning) ---------------------


class RunHeaderSchema(Schema):
    """Which run a results answer read (``zoning.routes.run_header``); all null when none."""

    run_id = fields.Integer(allow_none=True)
    is_published = fields.Boolean()
    dry_run = fields.Boolean()
    methodology = fields.String(allow_none=True)
    methodology_version = fields.Integer()
    period = fields.Integer(allow_none=True)
    region = fields.String(allow_none=True)


class ChangesHeaderSchema(RunHeaderSchema):
    """Beside the page of ``GET /api/v1/zoning-runs/{id}/changes``."""

    compared_run_id = fields.Integer(allow_none=True)


class OverrideShownSchema(Schema):
    """A supervisor's override shown beside a computed zone (``null`` when none is in force)."""

    period = fields.Integer()
    zone = fields.String()
    reason = fields.String()
    by = fields.Dict(allow_none=True)
    at = fields.String()


class DimensionSourceSchema(Schema):
    """A source's part in a dimension: observations or an interview instrument (issue 16)."""

    source = fields.String(metadata={"description": "`observation` or an instrument code"})
    name = fields.String()
    weight = fields.Float(metadata={"description": "sum of the weights of the questions it asks"})
    score = fields.Float(allow_none=True)
    records = fields.Integer()
    units = fields.Integer(metadata={"description": "units averaged (unit-level sources)"})


class SubjectDimensionSchema(Schema):
    """A dimension's score in an agency's (or unit's) result scored by dimensions."""

    code = fields.String()
    name = fields.String()
    weight = fields.Float(allow_none=True)
    score = fields.Float(allow_none=True)
    sources = fields.List(fields.Nested(DimensionSourceSchema))


class SubjectGapSchema(Schema):
    """What keeps a subject from a zone (too few records, a dimension without data)."""

    kind = fields.String(metadata={"description": "`quota` or `no_data`"})
    source = fields.String(allow_none=True)
    dimension = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    have = fields.Integer()
    need = fields.Integer()
    message = fields.String(metadata={"description": "in the reader's language"})


class SubjectSchema(Schema):
    """What a run scored an agency (or unit) from: dimension scores and, when incomplete, the
    gaps; an incomplete subject has no score and no zone."""

    level = fields.String()
    code = fields.String()
    name = fields.String()
    region_code = fields.String(allow_none=True)
    agency_code = fields.String(allow_none=True)
    is_complete = fields.Boolean()
    score = fields.Float(allow_none=True)
    dimensions = fields.List(fields.Nested(SubjectDimensionSchema))
    counts = fields.Dict(metadata={"description": "source -> records read"})
    units = fields.List(fields.String(), metadata={"description": "the sampled units"})
    gaps = fields.List(fields.Nested(SubjectGapSchema))
    reasons = fields.List(fields.String(), metadata={"description": "the gaps' messages"})
    unit_inputs = fields.List(
        fields.Dict(),
        metadata={
            "description": "each sampled unit's own inputs: {unit, sources: [{source, name, "
            "records, dimensions: [{code, name, score}]}]} (the unit's mean per source)"
        },
    )


class ResultRowSchema(ResultSchema):
    """A row of ``GET /api/v1/results``; unit rows also carry the override in force and the
    final zone (the override's, else the computed one); rows of the level a methodology
    scores by dimensions carry their ``dimensions``."""

    override = fields.Nested(OverrideShownSchema, allow_none=True)
    final_zone = fields.String()
    dimensions = fields.List(fields.Nested(SubjectDimensionSchema), allow_none=True)


class ResultsHeaderSchema(RunHeaderSchema):
    """Beside the page of ``GET /api/v1/results``."""

    incomplete = fields.List(
        fields.Nested(SubjectSchema),
        metadata={
            "description": "agencies (or units) of a run scored by dimensions that are not "
            "zoned because inputs are missing, with the reasons; empty for other runs"
        },
    )


class AgencyResultSchema(RunHeaderSchema):
    """Answer of ``GET /api/v1/agencies/{code}/result``."""

    agency = fields.Dict(metadata={"description": "code, name, region_code"})
    result = fields.Nested(ResultSchema, allow_none=True)
    subject = fields.Nested(SubjectSchema, allow_none=True)


class UnitRefSchema(Schema):
    """The unit a result is about."""

    code = fields.String()
    name = fields.String()
    agency = fields.Dict()
    region_code = fields.String()


class DimensionResultSchema(Schema):
    """A dimension's mean score over the inspections used."""

    code = fields.String()
    name = fields.String()
    weight = fields.Float(allow_none=True)
    score = fields.Float(allow_none=True)


class IndicatorResultSchema(Schema):
    """An indicator's mean value over the inspections used."""

    code = fields.String()
    dimension = fields.String()
    weight = fields.Float()
    value = fields.Float(allow_none=True)
    legal_basis = fields.List(fields.String())


class ResultFindingSchema(Schema):
    """A finding of an inspection used, re-derived by the core."""

    inspection_id = fields.Integer()
    rule = fields.String()
    severity = fields.String()
    category = fields.String()
    citation = fields.String()
    message = fields.String()
    expected = fields.Raw()
    observed = fields.Raw()
    service = fields.String(allow_none=True)
    component = fields.String(allow_none=True)
    sanction = fields.String(allow_none=True)


class InspectionUsedSchema(Schema):
    """An inspection a result used, scored again by the run's methodology."""

    id = fields.Integer()
    visit_date = fields.Date()
    status = fields.String()
    score = fields.Float(allow_none=True)
    zone = fields.String(allow_none=True)
    intake_score = fields.Float(allow_none=True)
    methodology = fields.String()
    methodology_version = fields.Integer()


class UnitResultSchema(RunHeaderSchema):
    """Answer of ``GET /api/v1/units/{code}/result``: the row, its breakdown, findings with
    citations and the inspections used."""

    unit = fields.Nested(UnitRefSchema)
    methodology_hash = fields.String()
    level = fields.String()
    code = fields.String()
    name = fields.String()
    score = fields.Float()
    zone = fields.String()
    grade = fields.String(allow_none=True)
    label = fields.String(allow_none=True)
    rank = fields.Integer()
    roll_up_rule = fields.String(allow_none=True)
    #: False only if data the run read has since been changed in place.
    is_reproducible = fields.Boolean()
    dimensions = fields.List(fields.Nested(DimensionResultSchema))
    indicators = fields.List(fields.Nested(IndicatorResultSchema))
    findings = fields.List(fields.Nested(ResultFindingSchema))
    inspections = fields.List(fields.Nested(InspectionUsedSchema))
    override = fields.Nested(OverrideShownSchema, allow_none=True)
    final_zone = fields.String()


class PublishedRunSchema(ZoningRunSchema):
    """Answer of ``POST /api/v1/zoning-runs/{id}/publish``: false ``changed`` when it already
    was the official run."""

    changed = fields.Boolean()


class ZoneMoveSchema(Schema):
    """A place whose zone differs between the baseline run (old) and the run (new)."""

    level = fields.String()
    code = fields.String()
    name = fields.String()
    region_code = fields.String(allow_none=True)
    old_zone = fields.String(allow_none=True)
    old_score = fields.Function(lambda m: _number(m.old_score))
    new_zone = fields.String(allow_none=True)
    new_score = fields.Function(lambda m: _number(m.new_score))


class DiffHeaderSchema(Schema):
    """Beside a zone diff's items: the two runs compared."""

    run_id = fields.Integer()
    against_run_id = fields.Integer(allow_none=True)
    methodology = fields.String()
    methodology_version = fields.Integer()
    against_methodology = fields.String(allow_none=True)
    against_methodology_version = fields.Integer(allow_none=True)


class DiffArgsSchema(PageArgsSchema):
    """Query of ``GET /api/v1/zoning-runs/{id}/diff``."""

    against = fields.Integer(strict=False, validate=validate.Range(min=1))
    level = fields.String(validate=validate.OneOf(LEVELS))
