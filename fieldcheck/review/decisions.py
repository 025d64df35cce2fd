"""Review decisions on one inspection, and the rules every decision path shares.

State machine (docs/decisions.md, "Review, audit and access"):
``received -> approved | rejected | returned``; an ``approved`` inspection may later be
``returned`` or ``rejected`` (with a reason) when a supervisor finds a problem after approval;
``rejected`` and ``returned`` are final for that version: a returned checklist is corrected by a
new submission that ``supersedes`` it.

An approval waits while ``review_blockers_for_ids`` names a reason (missing photo evidence). A
decision that may change what counts marks its units dirty in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fieldcheck.audit.services import record
from fieldcheck.auth.models import User
from fieldcheck.clock import utcnow
from fieldcheck.errors import ApiError, field_errors
from fieldcheck.evidence.blockers import evidence_blockers_for_ids
from fieldcheck.extensions import db, lock
from fieldcheck.i18n import N_, _, state
from fieldcheck.inspections.models import Inspection
from fieldcheck.outbox.events import queue
from fieldcheck.review.models import Review
from fieldcheck.units.dirty import mark_unit_dirty

#: decision -> the status it leads to.
OUTCOME = {"approve": "approved", "reject": "rejected", "return": "returned"}


#: Decisions that must say why: the surveyor corrects from it and the audit log keeps it.
REASON_REQUIRED = frozenset({"reject", "return"})
REASON_MISSING = N_("A reason is required for this decision.")


def check_decision(decision: str, reason: str | None) -> None:
    """422 (on ``decision`` or ``reason``) unless ``decision`` is one and has the reason it needs.

    The one rule for every path: the API (its schema says the same before the service runs),
    bulk review and the web pages.
    """
    if decision not in OUTCOME:
        raise field_errors({"decision": [N_("Choose approve, return or reject.")]})
    if decision in REASON_REQUIRED and not (reason or "").strip():
        raise field_errors({"reason": [REASON_MISSING]})


#: status -> decisions allowed from it.
ALLOWED = {
    "received": ("approve", "reject", "return"),
    "approved": ("reject", "return"),
    "rejected": (),
    "returned": (),
}


def review_blockers_for_ids(ids: Sequence[int]) -> dict[int, list[str]]:
    """Reasons (Indonesian, for people) why each inspection may not be approved yet; set-based.

    Today one rule blocks: a photo-required item answered "yes" whose photo has not arrived and
    was not waived (issue 5). Each rule answers for all ``ids`` at once.
    """
    return evidence_blockers_for_ids(ids)


def review_blockers(inspection: Inspection) -> list[str]:
    """Reasons why ``inspection`` may not be approved yet (empty list: it may)."""
    return review_blockers_for_ids([inspection.id]).get(inspection.id, [])


def mark_units_dirty(unit_ids: Iterable[int], reason: str = "review") -> None:
    """Zoning must recompute these units: markers go in the same transaction as the decision.

    Called after every decision that may change what counts for a unit (a review, a bulk review,
    an upheld objection), once per unit.
    """
    for unit_id in sorted(set(unit_ids)):
        mark_unit_dirty(unit_id, reason)


def _check_transition(status: str, decision: str) -> None:
    if decision not in ALLOWED[status]:
        raise ApiError(
            "invalid_transition",
            _(
                "An inspection that is %(status)s cannot be given the decision %(decision)s.",
                status=state(status),
                decision=state(decision),
            ),
            {"status": status, "decision": decision, "allowed": list(ALLOWED[status])},
        )


def review(inspection: Inspection, decision: str, reason: str | None, reviewer: User) -> Review:
    """Decide on ``inspection`` (already checked visible to ``reviewer``); audited."""
    check_decision(decision, reason)
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
    queue(
        "inspection.reviewed",
        reviewed_payload(inspection.id, inspection.unit.code, decision, status, to_status),
        region=inspection.unit.region_code,
        created_at=now,
    )
    mark_units_dirty({inspection.unit_id})
    return row


def reviewed_payload(
    inspection_id: int, unit_code: str, decision: str, from_status: str, to_status: str
) -> dict[str, Any]:
    """The ``inspection.reviewed`` event's payload (one review or an item of a bulk one)."""
    return {
        "inspection_id": inspection_id,
        "unit_code": unit_code,
        "decision": decision,
        "from_status": from_status,
        "to_status": to_status,
    }


def _review_state(inspection: Inspection) -> dict[str, Any]:
    return {
        "status": inspection.status,
        "reviewed_by_id": inspection.reviewed_by_id,
        "reviewed_at": inspection.reviewed_at,
        "review_reason": inspection.review_reason,
    }
