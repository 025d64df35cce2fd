"""Bulk review: one decision applied set-based to every inspection a filter matches in scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.dialects.postgresql import JSONB

from fieldcheck.audit.services import Change, record_many
from fieldcheck.auth.models import User
from fieldcheck.auth.services import scope_filter
from fieldcheck.clock import utcnow
from fieldcheck.errors import CATALOGUE, field_errors
from fieldcheck.evidence.models import InspectionFlag
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, _, state
from fieldcheck.inspections.models import Inspection
from fieldcheck.outbox.events import queue_many
from fieldcheck.regions.services import in_region
from fieldcheck.review.decisions import (
    ALLOWED,
    OUTCOME,
    check_decision,
    mark_units_dirty,
    review_blockers_for_ids,
    reviewed_payload,
)
from fieldcheck.review.models import Review
from fieldcheck.units.models import Unit

#: IN-lists are sent in chunks well under SQLite's bound-parameter limit.
CHUNK = 1000


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
    """The select of (id, status, unit_id, region_code, unit_code) matching ``criteria``
    within scope."""
    query = select(
        Inspection.id,
        Inspection.status,
        Inspection.unit_id,
        Unit.region_code,
        Unit.code.label("unit_code"),
    ).join(Unit, Unit.id == Inspection.unit_id)
    query = matching(query, user, criteria)
    if ids is not None:
        query = query.where(Inspection.id.in_(ids))
    return query.order_by(Inspection.id)


def matching(query: Any, user: User, criteria: dict[str, Any]) -> Any:
    """``query`` (over inspections joined to their unit) limited to ``user``'s scope and
    ``criteria``; the one filter of bulk review and the review queue page, so "all N matching"
    acts on exactly the rows the queue lists.

    Criteria: ``unit`` (code), ``region`` (code, with the regions below it), ``surveyor`` (id),
    ``since``/``until`` (received, UTC), ``visited_from``/``visited_to`` (the visit's local date,
    inclusive), ``status``, ``flag`` (an integrity flag code), ``unit_type`` and
    ``has_blockers`` (True: approval is blocked by missing evidence; False: it is not).
    """
    condition = scope_filter(user, Unit.region_code)
    if condition is not None:
        query = query.where(condition)
    if user.role == "surveyor":  # not reachable through the API; kept so the rule lives here too
        query = query.where(Inspection.surveyor_id == user.id)
    if "unit" in criteria:
        query = query.where(Unit.code == criteria["unit"])
    if "region" in criteria:
        query = query.where(in_region(Unit.region_code, criteria["region"]))
    if "surveyor" in criteria:
        query = query.where(Inspection.surveyor_id == criteria["surveyor"])
    if "since" in criteria:
        query = query.where(Inspection.received_at >= criteria["since"])
    if "until" in criteria:
        query = query.where(Inspection.received_at < criteria["until"])
    if "visited_from" in criteria:
        query = query.where(Inspection.visit_date >= criteria["visited_from"])
    if "visited_to" in criteria:
        query = query.where(Inspection.visit_date <= criteria["visited_to"])
    if "status" in criteria:
        query = query.where(Inspection.status == criteria["status"])
    if "flag" in criteria:
        query = query.where(_flag_condition(criteria["flag"]))
    if "unit_type" in criteria:
        query = query.where(Unit.unit_type == criteria["unit_type"])
    if "has_blockers" in criteria:
        # The stored evidence_missing flag is what approval reads (evidence_blockers_for_ids).
        blocked = select(InspectionFlag.inspection_id).where(
            InspectionFlag.code == "evidence_missing"
        )
        held = Inspection.id.in_(blocked)
        query = query.where(held if criteria["has_blockers"] else ~held)
    return query


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
    check_decision(decision, reason)
    rows = _matching_rows(user, criteria, ids, limit)
    results = _ids_not_found(ids, rows)
    eligible = _can_take(decision, rows, results)
    if decision == "approve":
        eligible = _not_blocked(eligible, results)
    to_status = _apply(eligible, user, decision, reason)
    for r in eligible:
        results[r.id] = ItemResult(r.id, True, to_status)
    # Objects already in the session would show their old status for the rest of the request.
    db.session.expire_all()
    mark_units_dirty({r.unit_id for r in eligible})
    matched = [r.id for r in rows]
    seen = set(matched)
    return [results[i] for i in matched + [i for i in results if i not in seen]]


def _matching_rows(
    user: User, criteria: dict[str, Any], ids: list[int] | None, limit: int
) -> list[Any]:
    """The candidate rows (locked on PostgreSQL); 422 when more than ``limit`` match."""
    query = bulk_candidates(user, criteria, ids)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Inspection)
    rows = db.session.execute(query.limit(limit + 1)).all()
    if len(rows) > limit:
        message = _("More than %(limit)s inspections match; narrow the filter.", limit=limit)
        raise field_errors({"filter": [message]})
    return rows


def _ids_not_found(ids: list[int] | None, rows: list[Any]) -> dict[int, ItemResult]:
    """A not_found result for each id asked for that the filter (and scope) did not match."""
    results: dict[int, ItemResult] = {}
    if ids is not None:
        found = {r.id for r in rows}
        for missing in dict.fromkeys(ids):
            if missing not in found:
                results[missing] = ItemResult(
                    missing, False, None, "not_found", N_("No such inspection within the filter.")
                )
    return results


def _can_take(decision: str, rows: list[Any], results: dict[int, ItemResult]) -> list[Any]:
    """The rows whose status allows ``decision``; the others get an invalid_transition result."""
    for r in rows:
        if decision not in ALLOWED[r.status]:
            results[r.id] = ItemResult(
                r.id,
                False,
                r.status,
                "invalid_transition",
                _(
                    "An inspection that is %(status)s cannot be given the decision %(decision)s.",
                    status=state(r.status),
                    decision=state(decision),
                ),
            )
    return [r for r in rows if decision in ALLOWED[r.status]]


def _not_blocked(eligible: list[Any], results: dict[int, ItemResult]) -> list[Any]:
    """The rows no approval blocker holds back; the others get a review_blocked result."""
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
    return [r for r in eligible if not blocked.get(r.id)]


def _apply(eligible: list[Any], user: User, decision: str, reason: str | None) -> str:
    """Update the rows' status, insert their review rows and audit entries; the new status."""
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
    queue_many(
        "inspection.reviewed",
        [
            (reviewed_payload(r.id, r.unit_code, decision, r.status, to_status), r.region_code)
            for r in eligible
        ],
    )
    return to_status
