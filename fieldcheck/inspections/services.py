"""Intake: dedupe -> validate -> evaluate (``fieldcheck.core.evaluate``) -> store, in the
request's one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Uuid, bindparam, insert, select, text

from fieldcheck import signals
from fieldcheck.audit.services import record
from fieldcheck.auth.models import User
from fieldcheck.auth.services import in_scope
from fieldcheck.catalogue.registry import Registry, get_registry
from fieldcheck.clock import utcnow
from fieldcheck.core import evaluate
from fieldcheck.core.model import (
    STANDARD_OBLIGATION,
    YES_NO_VALUES,
    Finding,
    Methodology,
)
from fieldcheck.errors import ApiError, field_errors
from fieldcheck.extensions import db
from fieldcheck.http import canonical_hash
from fieldcheck.i18n import N_, _, format_param, request_language, state
from fieldcheck.inspections.models import Answer, FindingRow, Inspection, PostedStandardRow
from fieldcheck.inspections.scoring import stored_score
from fieldcheck.inspections.superseding import resolve_superseded
from fieldcheck.outbox.events import queue
from fieldcheck.regions.models import Region
from fieldcheck.units.dirty import DirtyUnit
from fieldcheck.units.models import Unit, UnitService


@dataclass
class Outcome:
    """What intake did: the inspection (its id; the ORM object on demand) and whether this
    request created it. A new inspection also comes as ``received``, what was stored, which the
    answer is made from without reading it back."""

    inspection_id: int
    created: bool
    received: Received | None = None
    _inspection: Inspection | None = None

    @property
    def inspection(self) -> Inspection:
        """The stored inspection as an ORM object (loaded when first asked for)."""
        if self._inspection is None:
            self._inspection = db.session.get(Inspection, self.inspection_id)
        assert self._inspection is not None  # noqa: S101 - stored in this transaction
        return self._inspection


@dataclass(frozen=True)
class UnitRef:
    """The unit a checklist names, as intake needs it: one query, no ORM objects."""

    id: int
    code: str
    name: str
    region_code: str
    timezone: str
    lat: float | None
    lon: float | None
    service_codes: tuple[str, ...]

    @property
    def region(self) -> SimpleNamespace:
        """``unit.region.timezone``, as the inspection schema reads it from a ``Unit``."""
        return SimpleNamespace(timezone=self.timezone, code=self.region_code)


@dataclass
class Received:
    """A new inspection as intake stores it, with the attributes ``InspectionSchema`` reads.

    Sent with ``signals.inspection_checking`` before it is stored (``id`` None: evidence fills
    in ``flags`` and ``photos``) and with ``signals.inspection_received`` once it is (evidence
    stores its photo links and flag rows).
    """

    submission_id: uuid.UUID
    payload_hash: str
    unit: UnitRef
    surveyor_id: int
    methodology_id: str
    methodology_version: int
    started_at: datetime
    finished_at: datetime
    visit_date: date
    received_at: datetime
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    notes: str | None
    supersedes_id: int | None
    answers: list[SimpleNamespace]
    posted_standards: list[SimpleNamespace]
    findings: list[SimpleNamespace]
    score: Any = None
    zone: str | None = None
    grade: str | None = None
    label: str | None = None
    breakdown: dict[str, Any] = field(default_factory=dict)
    flags: list[dict[str, Any]] = field(default_factory=list)
    #: ``{"expected", "received", "missing", "waived"}`` (evidence fills it in).
    photos: dict[str, Any] = field(
        default_factory=lambda: {"expected": [], "received": [], "missing": [], "waived": []}
    )
    #: Whatever the evidence receivers keep between the two signals.
    evidence: Any = None
    id: int | None = None
    status: str = "received"
    reviewed_by_id: None = None
    reviewed_at: None = None
    review_reason: None = None
    superseded_by_id: None = None


def find_by_submission(submission_id: Any) -> Inspection | None:
    """The inspection stored under ``submission_id`` (a UUID), if any."""
    return db.session.execute(
        select(Inspection).where(Inspection.submission_id == submission_id)
    ).scalar_one_or_none()


#: Built once per process (like every statement intake runs on each checklist): building a
#: statement and its cache key costs more Python than the database takes to answer it.
STORED_UNDER = select(Inspection.id, Inspection.surveyor_id, Inspection.payload_hash).where(
    Inspection.submission_id == bindparam("submission_id", type_=Uuid)
)


def _stored_under(submission_id: Any) -> Any:
    """(id, surveyor_id, payload_hash) of the inspection stored under ``submission_id``, if any:
    three columns, not the stored payload and breakdown (asked on every intake)."""
    return db.session.execute(STORED_UNDER, {"submission_id": submission_id}).first()


def _replay(existing: Any, payload_hash: str, user: User, submission_id: Any) -> Outcome:
    """A resend of a stored submission: the stored inspection, to the surveyor who sent it.

    Anyone else using the same submission_id (a phone bug, or someone replaying another
    surveyor's body) gets a conflict that names nothing: a resend must not hand out an
    inspection its sender could not read.
    """
    if existing.surveyor_id != user.id:
        raise ApiError(
            "submission_conflict",
            N_(
                "This submission_id is already used by another surveyor's checklist; every "
                "checklist needs its own submission_id."
            ),
            {"submission_id": str(submission_id)},
        )
    if existing.payload_hash != payload_hash:
        raise ApiError(
            "submission_conflict",
            N_(
                "This submission_id was already used for a different checklist; a corrected "
                "checklist needs a new submission_id."
            ),
            {"submission_id": str(submission_id), "inspection_id": existing.id},
        )
    return Outcome(existing.id, created=False)


def _standard_observed(data: dict[str, Any], methodology: Methodology) -> dict[str, list[str]]:
    """A standard answered as published (yes/partial) must come with what it shows for at least
    one service; without it the six service components would silently not count."""
    said = [
        code
        for code, answer in data["answers"].items()
        if answer["value"] in ("yes", "partial")
        and (indicator := methodology.indicator(code)) is not None
        and indicator.obligation == STANDARD_OBLIGATION
    ]
    if said and not data["posted_standards"]:
        return {
            "posted_standards": [
                _(
                    "%(indicators)s says the service standard is published: list, for each "
                    "service observed, the components it shows (or answer no).",
                    indicators=", ".join(sorted(said)),
                )
            ]
        }
    return {}


def _validate_answers(
    answers: dict[str, dict[str, Any]], methodology: Methodology
) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for code, answer in answers.items():
        indicator = methodology.indicator(code)
        path = f"answers.{code}"
        if indicator is None:
            problems[path] = [
                _("Unknown indicator for methodology %(methodology)s.", methodology=methodology.id)
            ]
            continue
        if indicator.scope == "service":
            problems[path] = [
                N_("This indicator is derived from posted_standards; do not answer it directly.")
            ]
            continue
        if indicator.instrument is not None:
            # Scoring reads every answer it is given: an interview's question answered at a
            # visit would count as an observation.
            problems[path] = [N_("This question is asked in an interview, not at a visit.")]
            continue
        value = answer["value"]
        if indicator.is_scale:
            _kind, low, high = indicator.answer
            if value == "na":
                continue
            if not isinstance(value, int) or not low <= value <= high:
                problems[f"{path}.value"] = [
                    _("Must be a whole number from %(low)s to %(high)s, or na.", low=low, high=high)
                ]
        elif value not in YES_NO_VALUES:
            problems[f"{path}.value"] = [
                _("Must be one of %(values)s.", values=", ".join(YES_NO_VALUES))
            ]
    for indicator in methodology.indicators:
        if (
            indicator.scope == "unit"
            and indicator.instrument is None
            and indicator.code not in answers
        ):
            problems[f"answers.{indicator.code}"] = [
                N_('Missing answer (send "na" when the item does not apply).')
            ]
    return problems


def submit(body: Any, data: dict[str, Any], user: User) -> Outcome:
    """Store a validated submission exactly once; a resend returns the stored inspection.

    ``body`` is the parsed JSON as sent (hashed and kept), ``data`` its loaded form. The steps:
    replay a resend, validate against the unit and methodology, check the surveyor's region,
    resolve the corrected version, evaluate with the pure core, compute the integrity flags
    (evidence, through ``signals.inspection_checking``), store everything with one INSERT per
    table, then link evidence and audit. All in the request's one transaction.
    """
    payload_hash = canonical_hash(body)
    existing = _stored_under(data["submission_id"])
    if existing is not None:
        return _replay(existing, payload_hash, user, data["submission_id"])

    registry = get_registry()
    unit, methodology = _validate(data, registry)
    if not in_scope(user, unit.region_code):
        raise ApiError("out_of_scope", N_("This unit is outside your region."))
    supersedes = _superseded(data, unit, user)
    visit_date = _visit_date(data, unit, methodology)
    evaluation = evaluate(
        {code: a["value"] for code, a in data["answers"].items()},
        data["posted_standards"],
        methodology,
        registry.catalogue,
        visit_date,
    )
    received = _received(data, payload_hash, user, unit, methodology, visit_date)
    received.supersedes_id = None if supersedes is None else supersedes.id
    received.findings = _findings(evaluation.findings)
    scored = stored_score(evaluation.result, methodology, registry.catalogue)
    for name in ("score", "zone", "grade", "label", "breakdown"):
        setattr(received, name, scored[name])
    # The flags are computed before the row is written, so it is written once, with them.
    signals.inspection_checking.send(received)
    inspection_id = _insert_inspection(received, body, scored)
    if inspection_id is None:
        # A concurrent resend stored the same submission first: answer as if we had seen it.
        earlier = _stored_under(data["submission_id"])
        if earlier is None:
            raise ApiError("conflict", N_("The change conflicts with stored data."))
        return _replay(earlier, payload_hash, user, data["submission_id"])
    received.id = inspection_id
    _insert_rows(received)
    _after_store(received, user)
    return Outcome(inspection_id, created=True, received=received)


UNIT = (
    select(
        Unit.id,
        Unit.code,
        Unit.name,
        Unit.region_code,
        Region.timezone,
        Unit.lat,
        Unit.lon,
        UnitService.service_code,
    )
    .join(Region, Region.code == Unit.region_code)
    .outerjoin(UnitService, UnitService.unit_id == Unit.id)
    .where(Unit.code == bindparam("code"))
)


def _unit(code: str) -> UnitRef | None:
    """The unit with ``code``, its region's time zone and its services: one query."""
    rows = db.session.execute(UNIT, {"code": code}).all()
    if not rows:
        return None
    first = rows[0]
    return UnitRef(
        id=first.id,
        code=first.code,
        name=first.name,
        region_code=first.region_code,
        timezone=first.timezone,
        lat=first.lat,
        lon=first.lon,
        service_codes=tuple(sorted(r.service_code for r in rows if r.service_code is not None)),
    )


def _validate(data: dict[str, Any], registry: Registry) -> tuple[UnitRef, Methodology]:
    """The unit and methodology the checklist names, or a 422 listing every problem with it."""
    problems: dict[str, list[str]] = {}
    unit = _unit(data["unit_code"])
    if unit is None:
        problems["unit_code"] = [N_("Unknown unit.")]
    methodology = _methodology_of_visit(data, unit, registry, problems)
    if methodology is None:
        problems.setdefault("methodology", [N_("Unknown methodology.")])
    elif methodology.status != "published":
        problems["methodology"] = [
            _("Methodology is %(status)s, not published.", status=state(methodology.status))
        ]
    problems.update(_validate_services(data["posted_standards"], unit, registry))
    if methodology is not None:
        problems.update(_validate_answers(data["answers"], methodology))
        problems.update(_standard_observed(data, methodology))
    if problems:
        raise field_errors(problems)
    assert unit is not None and methodology is not None  # noqa: S101 - narrowed by the checks above
    return unit, methodology


def _methodology_of_visit(
    data: dict[str, Any], unit: UnitRef | None, registry: Registry, problems: dict[str, list[str]]
) -> Methodology | None:
    """The version that scores this visit (issue 16): the one in force on the visit's local
    date, or exactly ``methodology_version`` when the checklist names one (it must be in force
    that day). Without a version in force that day, the id's current version, so that the
    visit date is refused with the methodology's dates (``_visit_date``)."""
    methodology_id = data["methodology"]
    version = data.get("methodology_version")
    if unit is None:
        return registry.methodology(methodology_id, version)
    visit_on = data["started_at"].astimezone(ZoneInfo(unit.timezone)).date()
    in_force = registry.in_force(methodology_id, visit_on)
    if version is None:
        return in_force or registry.methodology(methodology_id)
    named = registry.methodology(methodology_id, version)
    if named is None:
        problems["methodology_version"] = [
            _(
                "Methodology %(methodology)s has no version %(version)s.",
                methodology=methodology_id,
                version=version,
            )
        ]
        return registry.methodology(methodology_id)
    if named.status == "published" and (in_force is None or in_force.version != version):
        problems["methodology_version"] = [
            _(
                "Version %(version)s of %(methodology)s is not in force on %(visit_on)s.",
                version=version,
                methodology=methodology_id,
                visit_on=format_param("visit_on", visit_on, request_language()),
            )
        ]
    return named


def _validate_services(
    posted_standards: list[dict[str, Any]], unit: UnitRef | None, registry: Registry
) -> dict[str, list[str]]:
    """Each posted service must be in the legal catalogue and offered by the unit."""
    problems: dict[str, list[str]] = {}
    offered = set(unit.service_codes) if unit is not None else set()
    for i, posted in enumerate(posted_standards):
        if posted["service"] not in registry.catalogue.services:
            problems[f"posted_standards.{i}.service"] = [N_("Unknown service code.")]
        elif offered and posted["service"] not in offered:
            # A finding against a unit for a service it does not provide would be wrong; the
            # phone shows the unit's services (GET /units/{code}).
            assert unit is not None  # noqa: S101 - offered is empty without a unit
            problems[f"posted_standards.{i}.service"] = [
                _(
                    "%(unit)s does not offer this service (it offers %(services)s).",
                    unit=unit.code,
                    services=", ".join(sorted(offered)),
                )
            ]
    return problems


def _superseded(data: dict[str, Any], unit: UnitRef, user: User) -> Inspection | None:
    """The returned inspection this checklist corrects, if it names one (see superseding)."""
    if data.get("supersedes") is None:
        return None
    return resolve_superseded(data["supersedes"], unit, user)


def _visit_date(data: dict[str, Any], unit: UnitRef, methodology: Methodology) -> date:
    """The visit's local date at the unit, which must fall in the methodology's period."""
    visit_date = data["started_at"].astimezone(ZoneInfo(unit.timezone)).date()
    if not methodology.in_effect(visit_date):
        message = _(
            "Methodology %(methodology)s was not in effect on %(visit_on)s.",
            methodology=methodology.id,
            visit_on=format_param("visit_on", visit_date, request_language()),
        )
        raise field_errors({"methodology": [message]})
    return visit_date


def _received(
    data: dict[str, Any],
    payload_hash: str,
    user: User,
    unit: UnitRef,
    methodology: Methodology,
    visit_date: date,
) -> Received:
    """The inspection as received: visit, answers and posted standards (not scored yet)."""
    location = data["location"] or {}
    return Received(
        submission_id=data["submission_id"],
        payload_hash=payload_hash,
        unit=unit,
        surveyor_id=user.id,
        methodology_id=methodology.id,
        methodology_version=methodology.version,
        started_at=data["started_at"],
        finished_at=data["finished_at"],
        visit_date=visit_date,
        received_at=utcnow(),
        lat=location.get("lat"),
        lon=location.get("lon"),
        accuracy_m=location.get("accuracy_m"),
        notes=data["notes"],
        supersedes_id=None,
        answers=[
            SimpleNamespace(
                indicator_code=code, value=str(a["value"]), note=a["note"], photos=a["photos"]
            )
            for code, a in sorted(data["answers"].items())
        ],
        posted_standards=[
            SimpleNamespace(
                position=i,
                service_code=p["service"],
                components=p["components"],
                fee_idr=p["fee_idr"],
                max_days=p["max_days"],
                requirements=p["requirements"],
            )
            for i, p in enumerate(data["posted_standards"])
        ],
        findings=[],
    )


def _findings(findings: Iterable[Finding]) -> list[SimpleNamespace]:
    """The core's findings as the rows stored with the inspection, in the core's order."""
    return [
        SimpleNamespace(
            id=None,
            position=i,
            rule=f.rule,
            severity=f.severity,
            category=f.category,
            citation=f.citation,
            message=f.message,
            params=dict(f.params),
            expected=f.expected,
            observed=f.observed,
            service_code=f.service,
            component=f.component,
            sanction=f.sanction,
            withdrawn_at=None,
            is_withdrawn=False,
        )
        for i, f in enumerate(findings)
    ]


#: Plain tables for Core inserts: one statement per table and checklist, no unit of work.
INSPECTIONS = Inspection.__table__
ANSWERS = Answer.__table__
POSTED = PostedStandardRow.__table__
FINDINGS = FindingRow.__table__
DIRTY = DirtyUnit.__table__
INSERT_ANSWERS = insert(ANSWERS)
INSERT_POSTED = insert(POSTED)
INSERT_FINDINGS = insert(FINDINGS).returning(FINDINGS.c.position, FINDINGS.c.id)
INSERT_DIRTY = insert(DIRTY)


#: The inspection's columns intake writes, and the INSERT for each dialect (built once).
INSPECTION_COLUMNS = (
    "submission_id",
    "payload_hash",
    "payload",
    "unit_id",
    "surveyor_id",
    "methodology_id",
    "methodology_version",
    "methodology_hash",
    "catalogue_hash",
    "started_at",
    "finished_at",
    "visit_date",
    "received_at",
    "lat",
    "lon",
    "accuracy_m",
    "status",
    "score",
    "zone",
    "grade",
    "label",
    "breakdown",
    "flags",
    "notes",
    "supersedes_id",
)
# Plain SQL that SQLite (3.35+) and PostgreSQL both read, not the dialects' insert().
# on_conflict_do_nothing(): SQLAlchemy 2.0 gives those constructs no cache key, so they were
# compiled again on every request (~1 ms of CPU each); a text() statement is compiled once.
INSERT_INSPECTION = text(
    "INSERT INTO inspections ({columns}) VALUES ({values}) "  # noqa: S608 - constant names
    "ON CONFLICT (submission_id) DO NOTHING RETURNING id".format(
        columns=", ".join(f'"{name}"' for name in INSPECTION_COLUMNS),
        values=", ".join(f":{name}" for name in INSPECTION_COLUMNS),
    )
).bindparams(*(bindparam(name, type_=INSPECTIONS.c[name].type) for name in INSPECTION_COLUMNS))


def _insert_inspection(received: Received, body: Any, scored: dict[str, Any]) -> int | None:
    """INSERT the inspection row; its id, or None when a concurrent request stored the same
    submission_id first (ON CONFLICT DO NOTHING: no savepoint, the transaction stays usable)."""
    values = {name: getattr(received, name, None) for name in INSPECTION_COLUMNS}
    values.update(
        payload=body,
        unit_id=received.unit.id,
        methodology_hash=scored["methodology_hash"],
        catalogue_hash=scored["catalogue_hash"],
    )
    return db.session.execute(INSERT_INSPECTION, values).scalar()


def _insert_rows(received: Received) -> None:
    """Answers, posted standards and findings (one multi-row INSERT each) and the unit's
    dirty marker for zoning, in intake's transaction."""
    iid = received.id
    db.session.execute(
        INSERT_ANSWERS,
        [
            {
                "inspection_id": iid,
                "indicator_code": a.indicator_code,
                "value": a.value,
                "note": a.note,
                "photos": a.photos,
            }
            for a in received.answers
        ],
    )
    if received.posted_standards:
        db.session.execute(
            INSERT_POSTED,
            [
                {
                    "inspection_id": iid,
                    "position": p.position,
                    "service_code": p.service_code,
                    "components": p.components,
                    "fee_idr": p.fee_idr,
                    "max_days": p.max_days,
                    "requirements": p.requirements,
                }
                for p in received.posted_standards
            ],
        )
    if received.findings:
        # The ids are in the answer: RETURNING with the position to match them up, whatever
        # order the database returns the rows in.
        ids = dict(
            db.session.execute(
                INSERT_FINDINGS,
                [
                    {
                        "inspection_id": iid,
                        "position": f.position,
                        "rule": f.rule,
                        "severity": f.severity,
                        "category": f.category,
                        "citation": f.citation,
                        "message": f.message,
                        "params": f.params,
                        "expected": f.expected,
                        "observed": f.observed,
                        "service_code": f.service_code,
                        "component": f.component,
                        "sanction": f.sanction,
                    }
                    for f in received.findings
                ],
            ).all()
        )
        for f in received.findings:
            f.id = ids[f.position]
    # Same transaction: the next incremental zoning run sees the unit as changed.
    db.session.execute(
        INSERT_DIRTY,
        [{"unit_id": received.unit.id, "changed_at": utcnow(), "reason": "inspection"}],
    )


def _after_store(received: Received, user: User) -> None:
    """Link photos sent earlier and store the integrity flags, then audit; same transaction.

    ``fieldcheck.evidence`` receives the signal: it sits above intake in the layer order.
    """
    signals.inspection_received.send(received)
    record(
        "inspection.submit",
        "inspection",
        received.id,
        after={
            "submission_id": str(received.submission_id),
            "unit_code": received.unit.code,
            "score": received.score,
            "zone": received.zone,
            "supersedes_id": received.supersedes_id,
            "payload_hash": received.payload_hash,
        },
        actor=user,
        region=received.unit.region_code,
    )
    # The webhook event: one INSERT in the same transaction (intake speed matters).
    queue(
        "inspection.received",
        {
            "inspection_id": received.id,
            "submission_id": str(received.submission_id),
            "unit_code": received.unit.code,
            "region_code": received.unit.region_code,
            "methodology": received.methodology_id,
            "methodology_version": received.methodology_version,
            "visit_date": received.visit_date.isoformat(),
            "score": None if received.score is None else str(received.score),
            "zone": received.zone,
            "supersedes_id": received.supersedes_id,
        },
        region=received.unit.region_code,
        created_at=received.received_at,
    )
