"""Intake: dedupe -> validate -> evaluate (``fieldcheck.core.evaluate``) -> store, in the
request's one transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

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
from fieldcheck.i18n import N_, _, format_param, request_language, state
from fieldcheck.inspections.models import Answer, FindingRow, Inspection, PostedStandardRow
from fieldcheck.inspections.scoring import stored_score
from fieldcheck.inspections.superseding import resolve_superseded
from fieldcheck.units.dirty import mark_unit_dirty
from fieldcheck.units.models import Unit


def canonical_hash(body: Any) -> str:
    """sha256 of the body's canonical JSON: key order and whitespace do not make a new body."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Outcome:
    """What intake did: the inspection and whether this request created it."""

    inspection: Inspection
    created: bool


def find_by_submission(submission_id: Any) -> Inspection | None:
    """The inspection stored under ``submission_id`` (a UUID), if any."""
    return db.session.execute(
        select(Inspection).where(Inspection.submission_id == submission_id)
    ).scalar_one_or_none()


def _replay(existing: Inspection, payload_hash: str, user: User) -> Outcome:
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
            {"submission_id": str(existing.submission_id)},
        )
    if existing.payload_hash != payload_hash:
        raise ApiError(
            "submission_conflict",
            N_(
                "This submission_id was already used for a different checklist; a corrected "
                "checklist needs a new submission_id."
            ),
            {"submission_id": str(existing.submission_id), "inspection_id": existing.id},
        )
    return Outcome(existing, created=False)


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
        if indicator.scope == "unit" and indicator.code not in answers:
            problems[f"answers.{indicator.code}"] = [
                N_('Missing answer (send "na" when the item does not apply).')
            ]
    return problems


def submit(body: Any, data: dict[str, Any], user: User) -> Outcome:
    """Store a validated submission exactly once; a resend returns the stored inspection.

    ``body`` is the parsed JSON as sent (hashed and kept), ``data`` its loaded form. The steps:
    replay a resend, validate against the unit and methodology, check the surveyor's region,
    resolve the corrected version, evaluate with the pure core, store, then link evidence and
    audit.
    """
    payload_hash = canonical_hash(body)
    existing = find_by_submission(data["submission_id"])
    if existing is not None:
        return _replay(existing, payload_hash, user)

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
    inspection = _new_inspection(body, data, payload_hash, user, unit, methodology, visit_date)
    inspection.supersedes_id = None if supersedes is None else supersedes.id
    inspection.findings = _finding_rows(evaluation.findings)
    for name, value in stored_score(evaluation.result, methodology, registry.catalogue).items():
        setattr(inspection, name, value)
    earlier = _store(inspection, unit)
    if earlier is not None:
        # A concurrent resend stored the same submission first: answer as if we had seen it.
        return _replay(earlier, payload_hash, user)
    _after_store(inspection, unit, user)
    return Outcome(inspection, created=True)


def _validate(data: dict[str, Any], registry: Registry) -> tuple[Unit, Methodology]:
    """The unit and methodology the checklist names, or a 422 listing every problem with it."""
    problems: dict[str, list[str]] = {}
    unit = (
        db.session.execute(select(Unit).where(Unit.code == data["unit_code"]))
        .unique()
        .scalar_one_or_none()
    )
    if unit is None:
        problems["unit_code"] = [N_("Unknown unit.")]
    methodology = registry.methodology(data["methodology"])
    if methodology is None:
        problems["methodology"] = [N_("Unknown methodology.")]
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


def _validate_services(
    posted_standards: list[dict[str, Any]], unit: Unit | None, registry: Registry
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


def _superseded(data: dict[str, Any], unit: Unit, user: User) -> Inspection | None:
    """The returned inspection this checklist corrects, if it names one (see superseding)."""
    if data.get("supersedes") is None:
        return None
    return resolve_superseded(data["supersedes"], unit, user)


def _visit_date(data: dict[str, Any], unit: Unit, methodology: Methodology) -> date:
    """The visit's local date at the unit, which must fall in the methodology's period."""
    visit_date = data["started_at"].astimezone(ZoneInfo(unit.region.timezone)).date()
    if not (
        methodology.effective_from <= visit_date
        and (methodology.effective_to is None or visit_date <= methodology.effective_to)
    ):
        message = _(
            "Methodology %(methodology)s was not in effect on %(visit_on)s.",
            methodology=methodology.id,
            visit_on=format_param("visit_on", visit_date, request_language()),
        )
        raise field_errors({"methodology": [message]})
    return visit_date


def _new_inspection(
    body: Any,
    data: dict[str, Any],
    payload_hash: str,
    user: User,
    unit: Unit,
    methodology: Methodology,
    visit_date: date,
) -> Inspection:
    """The inspection as received: payload, visit, answers and posted standards (not scored)."""
    location = data["location"] or {}
    return Inspection(
        submission_id=data["submission_id"],
        payload_hash=payload_hash,
        payload=body,
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
        status="received",
        flags=[],
        notes=data["notes"],
        answers=[
            Answer(indicator_code=code, value=str(a["value"]), note=a["note"], photos=a["photos"])
            for code, a in sorted(data["answers"].items())
        ],
        posted_standards=[
            PostedStandardRow(
                position=i,
                service_code=p["service"],
                components=p["components"],
                fee_idr=p["fee_idr"],
                max_days=p["max_days"],
                requirements=p["requirements"],
            )
            for i, p in enumerate(data["posted_standards"])
        ],
    )


def _finding_rows(findings: Iterable[Finding]) -> list[FindingRow]:
    """The core's findings as the rows stored with the inspection, in the core's order."""
    return [
        FindingRow(
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
        )
        for i, f in enumerate(findings)
    ]


def _store(inspection: Inspection, unit: Unit) -> Inspection | None:
    """Add the inspection and mark its unit dirty; returns None, or the inspection a concurrent
    request stored first under the same submission_id (the savepoint keeps the request's
    transaction usable)."""
    try:
        with db.session.begin_nested():
            db.session.add(inspection)
            # Same transaction: the next incremental zoning run sees the unit as changed.
            mark_unit_dirty(unit.id, "inspection")
    except IntegrityError:
        earlier = find_by_submission(inspection.submission_id)
        if earlier is None:
            raise
        return earlier
    return None


def _after_store(inspection: Inspection, unit: Unit, user: User) -> None:
    """Link photos sent earlier and compute integrity flags, then audit; same transaction.

    ``fieldcheck.evidence`` receives the signal: it sits above intake in the layer order.
    """
    signals.inspection_received.send(inspection)
    record(
        "inspection.submit",
        "inspection",
        inspection.id,
        after={
            "submission_id": str(inspection.submission_id),
            "unit_code": unit.code,
            "score": inspection.score,
            "zone": inspection.zone,
            "supersedes_id": inspection.supersedes_id,
            "payload_hash": inspection.payload_hash,
        },
        actor=user,
        region=unit.region_code,
    )
