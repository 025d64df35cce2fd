"""Approval blockers from missing photo evidence, and waivers that lift them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from fieldcheck.audit.services import record
from fieldcheck.auth.models import User
from fieldcheck.clock import utcnow
from fieldcheck.core import integrity
from fieldcheck.errors import ApiError, field_errors
from fieldcheck.evidence.flags import refresh_photo_flags
from fieldcheck.evidence.models import EvidenceWaiver, InspectionFlag
from fieldcheck.evidence.state import evidence_state
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, _, render, request_language
from fieldcheck.inspections.models import Inspection


def evidence_blockers_for_ids(ids: Sequence[int]) -> dict[int, list[str]]:
    """For each inspection in ``ids`` with missing photo evidence, the reviewer-facing messages.

    Reads the stored ``evidence_missing`` flags (kept current whenever photos or waivers arrive),
    in a few queries whatever the number of ids, so bulk review stays set-based.
    """
    blockers: dict[int, list[str]] = {}
    ids = list(ids)
    for start in range(0, len(ids), 900):  # stay under every backend's bound-parameter limit
        chunk = ids[start : start + 900]
        rows = db.session.execute(
            select(Inspection.id, Inspection.flags)
            .join(InspectionFlag, InspectionFlag.inspection_id == Inspection.id)
            .where(InspectionFlag.code == "evidence_missing", Inspection.id.in_(chunk))
        ).all()
        for inspection_id, flags in rows:
            # Blockers are part of an error answer: in the request's language, as errors are.
            blockers[inspection_id] = [
                render(f.get("message") or "", f.get("params"), request_language())
                for f in flags or []
                if f.get("code") == "evidence_missing"
            ]
    return blockers


def approval_blockers(inspection: Inspection) -> list[str]:
    """Why ``inspection`` cannot be approved yet, e.g. ``["evidence_missing:MP-01"]``.

    Approval (fieldcheck.review) is refused while this is non-empty; bulk review reads the same
    rule set-based through ``evidence_blockers_for_ids``.
    """
    state = evidence_state(inspection)
    return [
        f"evidence_missing:{f['details']['indicator']}"
        for f in integrity.evidence_flags(state.items, state.received)
        if f["code"] == "evidence_missing"
    ]


def waive(inspection: Inspection, indicator: str, reason: str, user: User) -> EvidenceWaiver:
    """Waive a missing photo for one indicator, with a reason (audited); 422 if none is missing."""
    low, high = integrity.WAIVER_REASON_MIN, integrity.WAIVER_REASON_MAX
    if not low <= len((reason or "").strip()) <= high:
        raise field_errors(
            {
                "reason": [
                    _(
                        "Give a reason of %(min)s to %(max)s characters.",
                        min=low,
                        max=high,
                    )
                ]
            }
        )
    if f"evidence_missing:{indicator}" not in approval_blockers(inspection):
        raise ApiError(
            "validation_failed",
            N_("This indicator has no missing photo evidence to waive."),
            {"fields": {"indicator": [N_("No missing evidence for this indicator.")]}},
        )
    waiver = EvidenceWaiver(
        inspection_id=inspection.id,
        indicator_code=indicator,
        reason=reason,
        waived_by=user.id,
        waived_at=utcnow(),
    )
    db.session.add(waiver)
    db.session.flush()
    refresh_photo_flags(inspection)
    record(
        "evidence.waive",
        "inspection",
        inspection.id,
        after={"indicator": indicator, "reason": reason},
        actor=user,
        region=inspection.unit.region_code,
    )
    return waiver
