"""Objections (sanggahan): an agency disputes a finding; an upheld objection withdraws it and
the inspection is re-scored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Text, cast, select

from fieldcheck import signals
from fieldcheck.audit.services import record
from fieldcheck.auth.models import User
from fieldcheck.clock import utcnow
from fieldcheck.errors import ApiError, field_errors
from fieldcheck.evidence.models import Photo
from fieldcheck.evidence.visibility import photo_visible_to
from fieldcheck.extensions import db, lock
from fieldcheck.i18n import N_, _, state
from fieldcheck.inspections.models import FindingRow, Inspection
from fieldcheck.inspections.visibility import get_visible_inspection, visible_inspections
from fieldcheck.outbox.events import queue
from fieldcheck.review.decisions import REASON_MISSING, mark_units_dirty
from fieldcheck.review.models import Objection
from fieldcheck.review.services import rescore_inspection


def visible_finding(finding_id: int, user: User) -> tuple[FindingRow, Inspection]:
    """The finding and its inspection if ``user`` may see it, else 404."""
    row = db.session.execute(
        visible_inspections(user)
        .add_columns(FindingRow)
        .join(FindingRow, FindingRow.inspection_id == Inspection.id)
        .where(FindingRow.id == finding_id)
    ).first()
    if row is None:
        raise ApiError("not_found", N_("No such finding."))
    return row[1], row[0]


def visible_objection(objection_id: int) -> tuple[Objection, Inspection]:
    """The objection and its inspection if the current user may see it, else 404 (an objection
    of another region's inspection is "no such objection", as if it did not exist)."""
    objection = db.session.get(Objection, objection_id)
    if objection is None:
        raise ApiError("not_found", N_("No such objection."))
    try:
        inspection = get_visible_inspection(objection.inspection_id)
    except ApiError:
        raise ApiError("not_found", N_("No such objection.")) from None
    return objection, inspection


def record_objection(
    finding: FindingRow, inspection: Inspection, text_: str, photos: list[str], user: User
) -> Objection:
    """Record the agency's objection to ``finding`` (on its behalf, by ``user``); audited.

    Its photos are stored photos the recorder may see (uploaded first, POST /api/v1/photos):
    evidence cited by digest alone would point at nothing.
    """
    if finding.is_withdrawn:
        raise ApiError("conflict", N_("This finding is already withdrawn."))
    missing = {
        f"photos.{i}": [N_("No such photo of yours: upload it first (POST /api/v1/photos).")]
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
    if decision not in ("upheld", "dismissed"):
        raise field_errors({"decision": [N_("Choose uphold or dismiss.")]})
    if not (reason or "").strip():
        raise field_errors({"reason": [REASON_MISSING]})
    lock(objection)  # one decision per objection, however many supervisors press at once
    if objection.status != "pending":
        raise ApiError(
            "invalid_transition",
            _("This objection was already decided: %(status)s.", status=state(objection.status)),
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
    queue(
        "objection.decided",
        {
            "objection_id": objection.id,
            "inspection_id": inspection.id,
            "finding_id": objection.finding_id,
            "unit_code": inspection.unit.code,
            "decision": decision,
            "finding_withdrawn": withdrawn,
        },
        region=inspection.unit.region_code,
        created_at=now,
    )
    if withdrawn:
        rescore_inspection(inspection, user)
        mark_units_dirty({inspection.unit_id})
    return objection


@signals.photo_citations.connect
def inspections_citing(sha256: str, **_: Any) -> Select:
    """Receiver of ``signals.photo_citations``: inspections with an objection citing the photo.

    Whoever may see such an inspection may see the photos its objections cite.
    """
    # A 64-hex digest in quotes can only be a whole element of the JSON list.
    return select(Objection.inspection_id).where(cast(Objection.photos, Text).like(f'%"{sha256}"%'))
