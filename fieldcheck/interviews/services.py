"""Interview intake: dedupe -> validate -> score (``core.dimensions.interview_dimensions``) ->
store, in the request's one transaction; and a supervisor's rejection.

The JSON API (``POST /api/v1/interviews``) and the OpenRosa interview forms both call
:func:`submit`, so a record is validated, scored and stored the same way whichever way it came.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Uuid, bindparam, select, text

from fieldcheck.audit.services import record
from fieldcheck.auth.models import User
from fieldcheck.auth.services import in_scope
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import utcnow
from fieldcheck.core.dimensions import interview_dimensions
from fieldcheck.core.model import YES_NO_VALUES, Indicator, Instrument, Methodology
from fieldcheck.errors import ApiError, field_errors
from fieldcheck.extensions import db
from fieldcheck.http import canonical_hash
from fieldcheck.i18n import N_, _, format_param, request_language, state
from fieldcheck.interviews.models import Interview
from fieldcheck.interviews.respondents import roles_for
from fieldcheck.outbox.events import queue
from fieldcheck.regions.models import Region
from fieldcheck.units.models import Agency, Unit

#: Where an agency without a region (units in several provinces) keeps its calendar: WIB.
DEFAULT_TIMEZONE = "Asia/Jakarta"


@dataclass(frozen=True)
class Outcome:
    """What intake did: the stored record and whether this request created it."""

    interview: Interview
    created: bool


@dataclass(frozen=True)
class Subject:
    """What a record is about: a unit (and its agency) or an agency, with its region and zone."""

    agency_id: int
    agency_code: str
    unit_id: int | None
    unit_code: str | None
    region_code: str | None
    timezone: str


def _methodology_for(data: dict[str, Any]) -> Methodology | None:
    """The methodology version a posted record is validated and scored with: the one in force on
    the interview date, or exactly ``methodology_version`` when the record names one (checked
    to be in force that day by ``_validate``). Without a version in force that day, the id's
    current version, so that the date is refused with the methodology's dates.

    The interview date is the record's local date; a record sending only ``started_at`` is
    dated in WIB here (the unit's own zone decides the stored date later): a version boundary
    falls on a date, and no interview is made around midnight.
    """
    registry = get_registry()
    version = data.get("methodology_version")
    if version is not None:
        return registry.methodology(data["methodology"], version)
    return registry.in_force(data["methodology"], _day_of(data)) or registry.methodology(
        data["methodology"]
    )


def _day_of(data: dict[str, Any]) -> date:
    """The record's date, for choosing the methodology version in force."""
    on = data.get("interview_date")
    if on is not None:
        return on
    return data["started_at"].astimezone(ZoneInfo("Asia/Jakarta")).date()


def submit(body: Any, data: dict[str, Any], user: User) -> Outcome:
    """Store a validated interview record exactly once; a resend returns the stored record.

    ``body`` is the JSON as sent (its canonical hash tells a resend from a changed body),
    ``data`` its loaded form. Same contract as inspection intake: 201 new, 200 identical resend,
    409 a different body under a used submission_id.
    """
    payload_hash = canonical_hash(body)
    existing = _stored_under(data["submission_id"])
    if existing is not None:
        return _replay(existing, payload_hash, user)

    methodology, instrument, subject = _validate(data)
    if not in_scope(user, subject.region_code):
        raise ApiError(
            "out_of_scope",
            N_("This unit is outside your region.")
            if subject.unit_id is not None
            else N_("This agency is outside your region."),
        )
    on = _interview_date(data, subject, methodology)
    answers = {code: data["answers"][code] for code in sorted(data["answers"])}
    dimensions = interview_dimensions(methodology, instrument.code, answers, on)
    respondent = {k: v for k, v in sorted(data["respondent"].items()) if v is not None}
    values = {
        "submission_id": data["submission_id"],
        "payload_hash": payload_hash,
        "instrument": instrument.code,
        "level": instrument.level,
        "methodology_id": methodology.id,
        "methodology_version": methodology.version,
        "methodology_hash": methodology.content_hash,
        "agency_id": subject.agency_id,
        "unit_id": subject.unit_id,
        "surveyor_id": user.id,
        "interview_date": on,
        "received_at": utcnow(),
        "respondent": respondent,
        "answers": answers,
        # Decimal text, exact: JSON numbers would pass through binary floats.
        "dimensions": {k: None if v is None else str(v) for k, v in sorted(dimensions.items())},
        "status": "received",
        "status_reason": None,
        "note": data.get("note"),
    }
    interview_id = db.session.execute(INSERT_INTERVIEW, values).scalar()
    if interview_id is None:
        # A concurrent resend stored the same submission first: answer as if we had seen it.
        earlier = _stored_under(data["submission_id"])
        if earlier is None:
            raise ApiError("conflict", N_("The change conflicts with stored data."))
        return _replay(earlier, payload_hash, user)
    _after_store(interview_id, values, subject, user)
    interview = db.session.get(Interview, interview_id)
    assert interview is not None  # noqa: S101 - stored in this transaction
    return Outcome(interview, created=True)


#: The columns intake writes (``note`` comes with migration 0018_interviews_note).
INTERVIEW_COLUMNS = (
    "submission_id",
    "payload_hash",
    "instrument",
    "level",
    "methodology_id",
    "methodology_version",
    "methodology_hash",
    "agency_id",
    "unit_id",
    "surveyor_id",
    "interview_date",
    "received_at",
    "respondent",
    "answers",
    "dimensions",
    "status",
    "status_reason",
    "note",
)
_TABLE = Interview.__table__
# As inspection intake: ON CONFLICT DO NOTHING (no savepoint; SQLite 3.35+ and PostgreSQL).
INSERT_INTERVIEW = text(
    "INSERT INTO interviews ({columns}) VALUES ({values}) "  # noqa: S608 - constant names
    "ON CONFLICT (submission_id) DO NOTHING RETURNING id".format(
        columns=", ".join(f'"{name}"' for name in INTERVIEW_COLUMNS),
        values=", ".join(f":{name}" for name in INTERVIEW_COLUMNS),
    )
).bindparams(*(bindparam(name, type_=_TABLE.c[name].type) for name in INTERVIEW_COLUMNS))

STORED_UNDER = select(Interview.id, Interview.surveyor_id, Interview.payload_hash).where(
    Interview.submission_id == bindparam("submission_id", type_=Uuid)
)


def find_by_submission(submission_id: Any) -> Interview | None:
    """The record stored under ``submission_id`` (a UUID or its text), if any."""
    if isinstance(submission_id, str):
        try:
            submission_id = uuid.UUID(submission_id)
        except ValueError:
            return None
    return db.session.execute(
        select(Interview).where(Interview.submission_id == submission_id)
    ).scalar_one_or_none()


def _stored_under(submission_id: Any) -> Any:
    return db.session.execute(STORED_UNDER, {"submission_id": submission_id}).first()


def _replay(existing: Any, payload_hash: str, user: User) -> Outcome:
    """A resend: the stored record to the surveyor who sent it; anyone else, or another body
    under the same submission_id, gets a conflict (as inspection intake)."""
    if existing.surveyor_id != user.id:
        raise ApiError(
            "submission_conflict",
            N_(
                "This submission_id is already used by another surveyor's record; every "
                "interview record needs its own submission_id."
            ),
        )
    if existing.payload_hash != payload_hash:
        raise ApiError(
            "submission_conflict",
            N_(
                "This submission_id was already used for a different interview record; a "
                "corrected record needs a new submission_id."
            ),
            {"interview_id": existing.id},
        )
    interview = db.session.get(Interview, existing.id)
    assert interview is not None  # noqa: S101 - just read
    return Outcome(interview, created=False)


def _validate(data: dict[str, Any]) -> tuple[Methodology, Instrument, Subject]:
    """The methodology, instrument and subject the record names, or a 422 listing every
    problem (each under the field it is about)."""
    problems: dict[str, list[str]] = {}
    methodology = _methodology_for(data)
    instrument: Instrument | None = None
    if methodology is None and get_registry().methodology(data["methodology"]) is not None:
        problems["methodology_version"] = [
            _(
                "Methodology %(methodology)s has no version %(version)s.",
                methodology=data["methodology"],
                version=data.get("methodology_version"),
            )
        ]
    elif methodology is None:
        problems["methodology"] = [N_("Unknown methodology.")]
    elif methodology.status != "published":
        problems["methodology"] = [
            _("Methodology is %(status)s, not published.", status=state(methodology.status))
        ]
    elif data.get("methodology_version") is not None:
        in_force = get_registry().in_force(methodology.id, _day_of(data))
        if in_force is None or in_force.version != methodology.version:
            problems["methodology_version"] = [
                _(
                    "Version %(version)s of %(methodology)s is not in force on %(visit_on)s.",
                    version=methodology.version,
                    methodology=methodology.id,
                    visit_on=format_param("visit_on", _day_of(data), request_language()),
                )
            ]
    if methodology is not None:
        instrument = methodology.instrument(data["instrument"])
        if instrument is None:
            known = ", ".join(i.code for i in methodology.instruments) or "-"
            problems["instrument"] = [
                _(
                    "Not an instrument of methodology %(methodology)s (it has: %(instruments)s).",
                    methodology=methodology.id,
                    instruments=known,
                )
            ]
    subject = _subject(data, instrument, problems)
    if methodology is not None and instrument is not None:
        problems.update(_validate_answers(data["answers"], methodology, instrument))
        role = data["respondent"].get("role")
        if role is not None and role not in roles_for(instrument.code):
            problems["respondent.role"] = [
                _("Must be one of %(values)s.", values=", ".join(roles_for(instrument.code)))
            ]
    if problems:
        raise field_errors(problems)
    assert methodology is not None and instrument is not None and subject is not None  # noqa: S101
    return methodology, instrument, subject


def _subject(
    data: dict[str, Any], instrument: Instrument | None, problems: dict[str, list[str]]
) -> Subject | None:
    """The unit or agency named, checked against the instrument's level."""
    if data.get("unit") is not None:
        if instrument is not None and instrument.level != "unit":
            problems["unit"] = [
                N_("This instrument is asked per agency: give agency (its code), not unit.")
            ]
            return None
        row = db.session.execute(
            select(
                Unit.id, Unit.code, Unit.agency_id, Agency.code, Unit.region_code, Region.timezone
            )
            .join(Agency, Agency.id == Unit.agency_id)
            .join(Region, Region.code == Unit.region_code)
            .where(Unit.code == data["unit"])
        ).first()
        if row is None:
            problems["unit"] = [N_("Unknown unit.")]
            return None
        return Subject(row[2], row[3], row[0], row[1], row[4], row[5])
    if instrument is not None and instrument.level != "agency":
        problems["agency"] = [
            N_("This instrument is asked per unit: give unit (its code), not agency.")
        ]
        return None
    row = db.session.execute(
        select(Agency.id, Agency.code, Agency.region_code, Region.timezone)
        .outerjoin(Region, Region.code == Agency.region_code)
        .where(Agency.code == data["agency"])
    ).first()
    if row is None:
        problems["agency"] = [N_("Unknown agency.")]
        return None
    return Subject(row[0], row[1], None, None, row[2], row[3] or DEFAULT_TIMEZONE)


def _validate_answers(
    answers: dict[str, Any], methodology: Methodology, instrument: Instrument
) -> dict[str, list[str]]:
    """Every key a question of this instrument, every value on its scale (or "na"), every
    question answered, at least one of them not "na"."""
    questions = {q.code: q for q in methodology.questions(instrument.code)}
    problems: dict[str, list[str]] = {}
    for code, value in answers.items():
        path = f"answers.{code}"
        question = questions.get(code)
        if question is None:
            problems[path] = [_why_not_asked(code, methodology, instrument)]
            continue
        problem = _value_problem(question, value)
        if problem is not None:
            problems[path] = [problem]
    for code in questions:
        if code not in answers:
            problems[f"answers.{code}"] = [
                N_('Missing answer (send "na" when the respondent does not answer).')
            ]
    if not problems and all(v == "na" for v in answers.values()):
        problems["answers"] = [N_('At least one question must have an answer other than "na".')]
    return problems


def _why_not_asked(code: str, methodology: Methodology, instrument: Instrument) -> str:
    indicator = methodology.indicator(code)
    if indicator is None:
        return _("Unknown question for methodology %(methodology)s.", methodology=methodology.id)
    if indicator.instrument is None:
        return N_("This indicator is observed at a visit, not asked in an interview.")
    return _(
        "This question belongs to the %(other)s interview, not to %(instrument)s.",
        other=indicator.instrument,
        instrument=instrument.code,
    )


def _value_problem(question: Indicator, value: Any) -> str | None:
    if value == "na":
        return None
    if question.is_scale:
        _kind, low, high = question.answer
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return _("Must be a whole number from %(low)s to %(high)s, or na.", low=low, high=high)
        return None
    if value not in YES_NO_VALUES:
        return _("Must be one of %(values)s.", values=", ".join(YES_NO_VALUES))
    return None


def _interview_date(data: dict[str, Any], subject: Subject, methodology: Methodology) -> date:
    """The local date of the interview: not in the future, within the methodology's period."""
    tz = ZoneInfo(subject.timezone)
    on = data.get("interview_date")
    field = "interview_date"
    if on is None:
        on = data["started_at"].astimezone(tz).date()
        field = "started_at"
    today = utcnow().astimezone(tz).date()
    if on > today:
        raise field_errors({field: [N_("Must not be in the future.")]})
    if not methodology.in_effect(on):
        message = _(
            "Methodology %(methodology)s was not in effect on %(visit_on)s.",
            methodology=methodology.id,
            visit_on=format_param("visit_on", on, request_language()),
        )
        raise field_errors({"methodology": [message]})
    return on


def _after_store(interview_id: int, values: dict[str, Any], subject: Subject, user: User) -> None:
    """Audit and the webhook event, same transaction. Neither holds respondent attributes or
    answers (personal data stays in the record, which is never exported)."""
    record(
        "interview.submit",
        "interview",
        interview_id,
        after={
            "submission_id": str(values["submission_id"]),
            "instrument": values["instrument"],
            "unit_code": subject.unit_code,
            "agency_code": subject.agency_code,
            "interview_date": values["interview_date"].isoformat(),
            "payload_hash": values["payload_hash"],
        },
        actor=user,
        region=subject.region_code,
    )
    queue(
        "interview.received",
        {
            "interview_id": interview_id,
            "submission_id": str(values["submission_id"]),
            "methodology": values["methodology_id"],
            "methodology_version": values["methodology_version"],
            "instrument": values["instrument"],
            "agency_code": subject.agency_code,
            "unit_code": subject.unit_code,
            "region_code": subject.region_code,
            "interview_date": values["interview_date"].isoformat(),
        },
        region=subject.region_code,
        created_at=values["received_at"],
    )


def reject(interview: Interview, reason: str, user: User) -> Interview:
    """Mark a record rejected (it stops counting towards quotas and results); audited."""
    if interview.status == "rejected":
        raise ApiError("invalid_transition", N_("This interview record is already rejected."))
    interview.status = "rejected"
    interview.status_reason = reason
    db.session.flush()
    record(
        "interview.reject",
        "interview",
        interview.id,
        before={"status": "received"},
        after={"status": "rejected", "reason": reason},
        actor=user,
        region=region_of(interview),
    )
    return interview


def region_of(interview: Interview) -> str | None:
    """The region an interview record belongs to: its unit's, else its agency's."""
    if interview.unit is not None:
        return interview.unit.region_code
    return interview.agency.region_code
