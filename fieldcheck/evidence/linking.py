"""Linking photos to inspections: expected on intake, received as they arrive (with the
inspection or on their own), and the photo flags of every inspection sharing them kept current.

Intake does not call this package (evidence sits above inspections): it sends
``signals.inspection_received``, and ``link_on_intake`` answers it in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fieldcheck import signals
from fieldcheck.audit.services import record
from fieldcheck.auth.models import User
from fieldcheck.clock import utcnow
from fieldcheck.evidence.flags import refresh_flags, refresh_photo_flags
from fieldcheck.evidence.models import InspectionPhoto, PhotoUpload
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection


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


def on_intake(inspection: Inspection) -> None:
    """Link a new inspection's photos and compute all its flags (intake, through the signal).

    Photos the surveyor already uploaded count as received at once; the others are awaited.
    """
    expected = sorted({sha for answer in inspection.answers for sha in answer.photos})
    uploaded = set()
    if expected:
        uploaded = set(
            db.session.execute(
                select(PhotoUpload.sha256).where(
                    PhotoUpload.sha256.in_(expected), PhotoUpload.user_id == inspection.surveyor_id
                )
            ).scalars()
        )
    now = utcnow()
    for sha in expected:
        db.session.add(
            InspectionPhoto(
                inspection_id=inspection.id,
                sha256=sha,
                is_expected=True,
                received_at=now if sha in uploaded else None,
            )
        )
    db.session.flush()
    flags = refresh_flags(inspection)
    # An impossible trip involves two visits: show it on the other one too.
    others = {
        f["details"]["other_inspection_id"] for f in flags if f["code"] == "impossible_travel"
    }
    for sha in uploaded:
        _refresh_users_of(sha, also=inspection)
    for other in db.session.execute(select(Inspection).where(Inspection.id.in_(others))).unique():
        refresh_flags(other[0])


@signals.inspection_received.connect
def link_on_intake(inspection: Inspection, **_: Any) -> None:
    """Receiver of ``signals.inspection_received``: run ``on_intake`` in intake's transaction."""
    on_intake(inspection)
