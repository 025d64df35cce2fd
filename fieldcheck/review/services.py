"""Review decisions, bulk review, comments, corrected resubmissions and objections.

State machine (docs/decisions.md, "Review, audit and access"):
``received -> approved | rejected | returned``; an ``approved`` inspection may later be
``returned`` or ``rejected`` (with a reason) when a supervisor finds a problem after approval;
``rejected`` and ``returned`` are final for that version: a returned checklist is corrected by a
new submission that ``supersedes`` it.

Hook points for other work (extend these, keep the names):
- ``review_blockers_for_ids(ids)``: reasons an approval must wait (issue 5: missing evidence).
- ``_mark_units_dirty(unit_ids)``: called after every decision that changes what counts in zoning
  (via ``_on_decision`` / ``_on_bulk_decision``); zoning's ``mark_unit_dirty`` goes there.
- ``counted_inspections_condition()``: the SQL condition for "inspections that count".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, exists, insert, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import aliased

from fieldcheck.audit.services import Change, record, record_many
from fieldcheck.auth.models import User
from fieldcheck.auth.services import in_scope, scope_filter
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import utcnow
from fieldcheck.core import finding_key
from fieldcheck.errors import CATALOGUE, ApiError, field_errors
from fieldcheck.extensions import db, lock
from fieldcheck.inspections.models import FindingRow, Inspection
from fieldcheck.inspections.scoring import evaluate_stored, stored_score
from fieldcheck.regions.services import in_region
from fieldcheck.review.models import Comment, Objection, Review
from fieldcheck.units.models import Unit

#: decision -> the status it leads to.
OUTCOME = {"approve": "approved", "reject": "rejected", "return": "returned"}
#: status -> decisions allowed from it.
ALLOWED = {
    "received": ("approve", "reject", "return"),
    "approved": ("reject", "return"),
    "rejected": (),
    "returned": (),
}
#: IN-lists are sent in chunks well under SQLite's bound-parameter limit.
CHUNK = 1000


# --- what counts ------------------------------------------------------------------------------


def counted_inspections_condition() -> Any:
    """SQL condition on ``Inspection``: approved and not superseded by a later approved version.

    Use it in zoning as ``select(Inspection).where(counted_inspections_condition())``.
    """
    later = aliased(Inspection)
    superseded = exists().where(later.supersedes_id == Inspection.id, later.status == "approved")
    return and_(Inspection.status == "approved", ~superseded)


def active_findings_condition() -> Any:
    """SQL condition on ``FindingRow``: not withdrawn by an upheld objection."""
    return FindingRow.withdrawn_at.is_(None)


# --- hooks ------------------------------------------------------------------------------------


def review_blockers_for_ids(ids: Sequence[int]) -> dict[int, list[str]]:
    """Reasons (Indonesian, for people) why each inspection may not be approved yet; set-based.

    Today one rule blocks: a photo-required item answered "yes" whose photo has not arrived and
    was not waived (issue 5). Each rule answers for all ``ids`` at once.
    """
    from fieldcheck.evidence.services import evidence_blockers_for_ids

    return evidence_blockers_for_ids(ids)


def review_blockers(inspection: Inspection) -> list[str]:
    """Reasons why ``inspection`` may not be approved yet (empty list: it may)."""
    return review_blockers_for_ids([inspection.id]).get(inspection.id, [])


def _mark_units_dirty(unit_ids: Iterable[int], reason: str = "review") -> None:
    """Zoning must recompute these units: markers go in the same transaction as the decision."""
    from fieldcheck.zoning.services import mark_unit_dirty

    for unit_id in sorted(set(unit_ids)):
        mark_unit_dirty(unit_id, reason)


def _on_decision(inspection: Inspection) -> None:
    """After a decision (review, upheld objection) that may change what counts for its unit."""
    _mark_units_dirty({inspection.unit_id})


def _on_bulk_decision(unit_ids: set[int]) -> None:
    """After a bulk review: the units whose inspections changed, once each."""
    _mark_units_dirty(unit_ids)


# --- single review ----------------------------------------------------------------------------


def _check_transition(status: str, decision: str) -> None:
    if decision not in ALLOWED[status]:
        raise ApiError(
            "invalid_transition",
            f"An inspection that is {status} cannot be given the decision {decision}.",
            {"status": status, "decision": decision, "allowed": list(ALLOWED[status])},
        )


def review(inspection: Inspection, decision: str, reason: str | None, reviewer: User) -> Review:
    """Decide on ``inspection`` (already checked visible to ``reviewer``); audited."""
    # Locked and reloaded: two reviewers cannot both decide from the same status, and the audit
    # entry's "before" is the state this decision changed.
    lock(inspection)
    status = inspection.status
    _check_transition(status, decision)
    if decision == "approve":
        blockers = review_blockers(inspection)
        if blockers:
            raise ApiError("review_blocked", details={"blockers": blockers})
    now = utcnow()
    to_status = OUTCOME[decision]
    before = _review_state(inspection)
    inspection.status = to_status
    inspection.reviewed_by_id = reviewer.id
    inspection.reviewed_at = now
    inspection.review_reason = reason
    row = Review(
        inspection_id=inspection.id,
        reviewer_id=reviewer.id,
        decision=decision,
        from_status=status,
        to_status=to_status,
        reason=reason,
        created_at=now,
    )
    db.session.add(row)
    db.session.flush()
    record(
        f"inspection.{decision}",
        "inspection",
        inspection.id,
        before=before,
        after=_review_state(inspection),
        actor=reviewer,
        region=inspection.unit.region_code,
    )
    _on_decision(inspection)
    return row


def _review_state(inspection: Inspection) -> dict[str, Any]:
    return {
        "status": inspection.status,
        "reviewed_by_id": inspection.reviewed_by_id,
        "reviewed_at": inspection.reviewed_at,
        "review_reason": inspection.review_reason,
    }


# --- bulk review ------------------------------------------------------------------------------


@dataclass
class ItemResult:
    """The outcome of a bulk review for one inspection."""

    id: int
    ok: bool
    status: str | None = None
    error: str | None = None
    message: str | None = None
    #: Why an approval must wait (review_blocked), as the single review's ``details.blockers``.
    blockers: list[str] | None = None


def _flag_condition(flag: str) -> Any:
    """Inspections whose ``flags`` list holds an entry with this ``code``."""
    if db.session.get_bind().dialect.name == "postgresql":
        return Inspection.flags.op("@>")(bindparam("flag_json", [{"code": flag}], type_=JSONB))
    return text(
        "EXISTS (SELECT 1 FROM json_each(inspections.flags) "
        "WHERE json_extract(json_each.value, '$.code') = :flag_code)"
    ).bindparams(flag_code=flag)


def bulk_candidates(user: User, criteria: dict[str, Any], ids: list[int] | None) -> Any:
    """The select of (id, status, unit_id, region_code) matching ``criteria`` within scope."""
    query = select(Inspection.id, Inspection.status, Inspection.unit_id, Unit.region_code).join(
        Unit, Unit.id == Inspection.unit_id
    )
    condition = scope_filter(user, Unit.region_code)
    if condition is not None:
        query = query.where(condition)
    if user.role == "surveyor":  # not reachable through the API; kept so the rule lives here too
        query = query.where(Inspection.surveyor_id == user.id)
    if "unit" in criteria:
        query = query.where(Unit.code == criteria["unit"])
    if "region" in criteria:
        region = criteria["region"]
        query = query.where(in_region(Unit.region_code, region))
    if "surveyor" in criteria:
        query = query.where(Inspection.surveyor_id == criteria["surveyor"])
    if "since" in criteria:
        query = query.where(Inspection.received_at >= criteria["since"])
    if "until" in criteria:
        query = query.where(Inspection.received_at < criteria["until"])
    if "status" in criteria:
        query = query.where(Inspection.status == criteria["status"])
    if "flag" in criteria:
        query = query.where(_flag_condition(criteria["flag"]))
    if ids is not None:
        query = query.where(Inspection.id.in_(ids))
    return query.order_by(Inspection.id)


def bulk_review(
    user: User,
    criteria: dict[str, Any],
    ids: list[int] | None,
    decision: str,
    reason: str | None,
    limit: int,
) -> list[ItemResult]:
    """Apply ``decision`` to every inspection matching ``criteria`` (and ``ids``) in scope.

    Set-based: one SELECT (rows locked on PostgreSQL), one UPDATE and one INSERT of review rows
    per chunk of 1,000, one multi-row INSERT into the audit log. Items that cannot take the
    decision are reported, not fatal; the others are applied in the same transaction.
    """
    query = bulk_candidates(user, criteria, ids)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Inspection)
    rows = db.session.execute(query.limit(limit + 1)).all()
    if len(rows) > limit:
        raise field_errors({"filter": [f"More than {limit} inspections match; narrow the filter."]})
    results: dict[int, ItemResult] = {}
    if ids is not None:
        found = {r.id for r in rows}
        for missing in dict.fromkeys(ids):
            if missing not in found:
                results[missing] = ItemResult(
                    missing, False, None, "not_found", "No such inspection within the filter."
                )
    eligible = [r for r in rows if decision in ALLOWED[r.status]]
    for r in rows:
        if decision not in ALLOWED[r.status]:
            results[r.id] = ItemResult(
                r.id,
                False,
                r.status,
                "invalid_transition",
                f"An inspection that is {r.status} cannot be given the decision {decision}.",
            )
    if decision == "approve":
        blocked = review_blockers_for_ids([r.id for r in eligible])
        for r in eligible:
            if blocked.get(r.id):
                results[r.id] = ItemResult(
                    r.id,
                    False,
                    r.status,
                    "review_blocked",
                    CATALOGUE["review_blocked"][1],
                    blocked[r.id],
                )
        eligible = [r for r in eligible if not blocked.get(r.id)]

    to_status = OUTCOME[decision]
    now = utcnow()
    for start in range(0, len(eligible), CHUNK):
        chunk = eligible[start : start + CHUNK]
        db.session.execute(
            update(Inspection)
            .where(Inspection.id.in_([r.id for r in chunk]))
            .values(status=to_status, reviewed_by_id=user.id, reviewed_at=now, review_reason=reason)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            insert(Review.__table__),
            [
                {
                    "inspection_id": r.id,
                    "reviewer_id": user.id,
                    "decision": decision,
                    "from_status": r.status,
                    "to_status": to_status,
                    "reason": reason,
                    "created_at": now,
                }
                for r in chunk
            ],
        )
    record_many(
        (
            Change(
                f"inspection.{decision}",
                "inspection",
                r.id,
                before={"status": r.status},
                after={"status": to_status, "review_reason": reason, "bulk": True},
                region=r.region_code,
            )
            for r in eligible
        ),
        actor=user,
    )
    for r in eligible:
        results[r.id] = ItemResult(r.id, True, to_status)
    # Objects already in the session would show their old status for the rest of the request.
    db.session.expire_all()
    _on_bulk_decision({r.unit_id for r in eligible})
    matched = [r.id for r in rows]
    seen = set(matched)
    return [results[i] for i in matched + [i for i in results if i not in seen]]


# --- comments ---------------------------------------------------------------------------------


def add_comment(inspection: Inspection, body: str, author: User) -> Comment:
    """Add a comment to ``inspection`` (already checked visible to ``author``); audited."""
    comment = Comment(inspection_id=inspection.id, author=author, body=body, created_at=utcnow())
    db.session.add(comment)
    db.session.flush()
    record(
        "comment.create",
        "inspection",
        inspection.id,
        after={"comment_id": comment.id, "body": body},
        actor=author,
        region=inspection.unit.region_code,
    )
    return comment


# --- corrected resubmission -------------------------------------------------------------------


def resolve_superseded(ref: int | uuid.UUID, unit: Unit, user: User) -> Inspection:
    """The returned inspection a new submission corrects, or a 422/409 saying why not.

    ``ref`` is its id or its submission_id. Only the surveyor who sent it (or an admin in scope)
    may correct it, only with a checklist for the same unit, and only once.
    """
    column = Inspection.submission_id if isinstance(ref, uuid.UUID) else Inspection.id
    target = (
        db.session.execute(select(Inspection).where(column == ref)).unique().scalar_one_or_none()
    )
    if target is not None:
        # Of several corrections sent at once, one wins; the others wait here and then see it
        # (already_superseded) instead of tripping the unique constraint (a bare conflict).
        lock(target)
    visible = target is not None and (
        target.surveyor_id == user.id
        or (user.role == "admin" and in_scope(user, target.unit.region_code))
    )
    if not visible:
        # Someone else's inspection is reported as unknown: existence is not revealed.
        raise field_errors({"supersedes": ["No such inspection of yours."]})
    assert target is not None  # noqa: S101 - narrowed by the check above
    if target.unit_id != unit.id:
        raise field_errors({"supersedes": ["The corrected inspection is of another unit."]})
    if target.status != "returned":
        raise field_errors(
            {
                "supersedes": [
                    f"Only a returned inspection can be corrected; this is {target.status}."
                ]
            }
        )
    # Asked in a statement of its own, after the lock: the refresh's snapshot predates the
    # correction a concurrent request committed while this one waited.
    superseded_by = db.session.execute(
        select(Inspection.id).where(Inspection.supersedes_id == target.id)
    ).scalar()
    if superseded_by is not None:
        raise ApiError(
            "already_superseded",
            details={"supersedes": target.id, "superseded_by": superseded_by},
        )
    return target


# --- objections (sanggahan) -------------------------------------------------------------------


def record_objection(
    finding: FindingRow, inspection: Inspection, text_: str, photos: list[str], user: User
) -> Objection:
    """Record the agency's objection to ``finding`` (on its behalf, by ``user``); audited.

    Its photos are stored photos the recorder may see (uploaded first, POST /api/v1/photos):
    evidence cited by digest alone would point at nothing.
    """
    if finding.is_withdrawn:
        raise ApiError("conflict", "This finding is already withdrawn.")
    from fieldcheck.evidence.models import Photo
    from fieldcheck.evidence.services import photo_visible_to

    missing = {
        f"photos.{i}": ["No such photo of yours: upload it first (POST /api/v1/photos)."]
        for i, sha in enumerate(photos)
        if db.session.get(Photo, sha) is None or not photo_visible_to(sha, user)
    }
    if missing:
        raise field_errors(missing)
    objection = Objection(
        finding_id=finding.id,
        inspection_id=inspection.id,
        text=text_,
        photos=photos,
        recorded_by_id=user.id,
        recorded_at=utcnow(),
        status="pending",
    )
    db.session.add(objection)
    db.session.flush()
    record(
        "objection.create",
        "objection",
        objection.id,
        after={
            "finding_id": finding.id,
            "inspection_id": inspection.id,
            "text": text_,
            "photos": photos,
        },
        actor=user,
        region=inspection.unit.region_code,
    )
    return objection


def decide_objection(
    objection: Objection, inspection: Inspection, decision: str, reason: str, user: User
) -> Objection:
    """Uphold (the finding is withdrawn) or dismiss a pending objection; audited."""
    lock(objection)  # one decision per objection, however many supervisors press at once
    if objection.status != "pending":
        raise ApiError(
            "invalid_transition",
            f"This objection was already decided: {objection.status}.",
            {"status": objection.status},
        )
    now = utcnow()
    objection.status = decision
    objection.decided_by_id = user.id
    objection.decided_at = now
    objection.decision_reason = reason
    finding = db.session.get(FindingRow, objection.finding_id)
    withdrawn = decision == "upheld" and finding is not None and not finding.is_withdrawn
    if withdrawn:
        finding.withdrawn_at = now
        finding.withdrawn_by_objection_id = objection.id
    db.session.flush()
    record(
        "objection.decide",
        "objection",
        objection.id,
        before={"status": "pending"},
        after={
            "status": decision,
            "reason": reason,
            "finding_id": objection.finding_id,
            "finding_withdrawn": withdrawn,
        },
        actor=user,
        region=inspection.unit.region_code,
    )
    if withdrawn:
        rescore_inspection(inspection, user)
        _on_decision(inspection)
    return objection


def rescore_inspection(inspection: Inspection, actor: User | None = None) -> None:
    """Re-score ``inspection`` now without its withdrawn findings and store the result; audited.

    The same core call as intake and zoning (``fieldcheck.core.evaluate``, on the stored answers
    and posted standards through ``inspections.scoring.evaluate_stored``). The stored score is
    what the next zoning run reads, so an upheld objection counts from that run on.
    """
    registry = get_registry()
    methodology = registry.methodology(inspection.methodology_id)
    if methodology is None:  # not loaded any more: a later zoning run re-scores from answers
        return
    db.session.flush()  # the withdrawal just made is read back with the stored rows
    evaluation = evaluate_stored([inspection.id], methodology, registry.catalogue)[inspection.id]
    before = _score_state(inspection)
    for name, value in stored_score(evaluation.result, methodology, registry.catalogue).items():
        setattr(inspection, name, value)
    db.session.flush()
    record(
        "inspection.rescore",
        "inspection",
        inspection.id,
        before=before,
        after={
            **_score_state(inspection),
            "withdrawn_findings": sorted(
                (list(k) for k in {finding_key(f) for f in evaluation.withdrawn}), key=str
            ),
        },
        actor=actor,
        region=inspection.unit.region_code,
    )


def _score_state(inspection: Inspection) -> dict[str, Any]:
    return {
        "score": inspection.score,
        "zone": inspection.zone,
        "grade": inspection.grade,
        "label": inspection.label,
    }
