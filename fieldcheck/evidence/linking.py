"""Linking photos to inspections: expected on intake, received as they arrive (with the
inspection or on their own), and the photo flags of every inspection sharing them kept current.

Intake does not call this package (evidence sits above inspections): it sends
``signals.inspection_checking`` before storing a checklist (``check_on_intake`` computes its
flags) and ``signals.inspection_received`` after (``link_on_intake`` stores the links and flag
rows), both in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fieldcheck import signals
from fieldcheck.audit.services import record
from fieldcheck.auth.models import User
from fieldcheck.clock import utcnow
from fieldcheck.evidence.flags import check_new, refresh_flags, refresh_photo_flags, store_new
from fieldcheck.evidence.models import InspectionPhoto
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.services import Received


def attach(inspection: Inspection, sha: str, user: User) -> None:
    """Mark ``sha`` received on ``inspection`` (uploaded straight to it), then refresh flags.

    Audited when it is new to the inspection: a photo can lift an approval blocker, and an admin
    may add one to a surveyor's inspection.
    """
    link = _link(inspection.id, sha)
    if link is None:
        link = InspectionPhoto(inspection_id=inspection.id, sha256=sha, is_expected=False)
        db.session.add(link)
    if link.received_at is None:
        link.received_at = utcnow()
        _audit_received(inspection.id, sha, user)
    db.session.flush()
    _refresh_users_of(sha, also=inspection)


def _audit_received(inspection_id: int, sha: str, user: User) -> None:
    inspection = db.session.get(Inspection, inspection_id)
    record(
        "inspection.photo",
        "inspection",
        inspection_id,
        after={"sha256": sha, "received_from_user_id": user.id},
        actor=user,
        region=None if inspection is None else inspection.unit.region_code,
    )


def deliver(sha: str, user: User) -> list[int]:
    """A photo sent on its own: it completes the user's inspections that await it (their ids)."""
    links = db.session.execute(
        select(InspectionPhoto)
        .join(Inspection, Inspection.id == InspectionPhoto.inspection_id)
        .where(
            InspectionPhoto.sha256 == sha,
            InspectionPhoto.received_at.is_(None),
            Inspection.surveyor_id == user.id,
        )
    ).scalars()
    ids = []
    for link in links:
        link.received_at = utcnow()
        ids.append(link.inspection_id)
        _audit_received(link.inspection_id, sha, user)
    if ids:
        db.session.flush()
        _refresh_users_of(sha)
    return ids


def _link(inspection_id: int, sha: str) -> InspectionPhoto | None:
    return db.session.execute(
        select(InspectionPhoto).where(
            InspectionPhoto.inspection_id == inspection_id, InspectionPhoto.sha256 == sha
        )
    ).scalar_one_or_none()


def _refresh_users_of(sha: str, also: Inspection | None = None) -> None:
    """Recompute photo flags of every inspection that received ``sha`` (reuse is mutual)."""
    ids = set(
        db.session.execute(
            select(InspectionPhoto.inspection_id).where(
                InspectionPhoto.sha256 == sha, InspectionPhoto.received_at.is_not(None)
            )
        ).scalars()
    )
    if also is not None:
        ids.add(also.id)
    for inspection in (
        db.session.execute(select(Inspection).where(Inspection.id.in_(ids)).order_by(Inspection.id))
        .unique()
        .scalars()
    ):
        refresh_photo_flags(inspection)


@signals.inspection_checking.connect
def check_on_intake(received: Received, **_: Any) -> None:
    """Receiver of ``signals.inspection_checking``: compute a new inspection's flags and photo
    summary before intake stores it (``flags.check_new``)."""
    check_new(received)


@signals.inspection_received.connect
def link_on_intake(received: Received, **_: Any) -> None:
    """Receiver of ``signals.inspection_received``: store the new inspection's photo links and
    flag rows, and recompute the flags of the other inspections they name, in intake's
    transaction.

    An impossible trip involves two visits, and a reused photo is reused on both: the other
    visit is shown the new one too. (Photos the surveyor uploaded that no other inspection
    received change no other inspection's flags: nothing else to recompute.)
    """
    named = store_new(received)
    if not named:
        return
    travel = {
        f["details"]["other_inspection_id"]
        for f in received.flags
        if f["code"] == "impossible_travel"
    }
    for other in (
        db.session.execute(
            select(Inspection).where(Inspection.id.in_(named)).order_by(Inspection.id)
        )
        .unique()
        .scalars()
    ):
        if other.id in travel:
            refresh_flags(other)
        else:
            refresh_photo_flags(other)
