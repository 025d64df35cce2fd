"""Retention: photos only rejected inspections use are deleted after the retention period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select

from fieldcheck.audit.services import record
from fieldcheck.clock import utcnow
from fieldcheck.evidence.models import InspectionPhoto, Photo, PhotoUpload
from fieldcheck.evidence.storage import get_storage
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection


@dataclass
class PurgeCandidate:
    """A photo only rejected inspections use, the newest of them rejected before the cutoff."""

    sha256: str
    size_bytes: int
    inspection_ids: list[int]


def _rejected_at_column() -> Any:
    # The retention period runs from the rejection (the review's time); the receipt time stands in
    # only for a row rejected without a recorded review time.
    return func.coalesce(Inspection.reviewed_at, Inspection.received_at)


def purge_candidates(older_than_days: int) -> list[PurgeCandidate]:
    """Photos whose every receiving inspection is rejected, all of them before the cutoff."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    decided_at = _rejected_at_column()
    rows = db.session.execute(
        select(Photo.sha256, Photo.size_bytes, Inspection.id, Inspection.status, decided_at)
        .join(InspectionPhoto, InspectionPhoto.sha256 == Photo.sha256)
        .join(Inspection, Inspection.id == InspectionPhoto.inspection_id)
        .where(InspectionPhoto.received_at.is_not(None))
        .order_by(Photo.sha256, Inspection.id)
    ).all()
    by_photo: dict[str, list[Any]] = {}
    for row in rows:
        by_photo.setdefault(row[0], []).append(row)
    result = []
    for sha, uses in by_photo.items():
        if all(u[3] == "rejected" and u[4] is not None and u[4] < cutoff for u in uses):
            result.append(PurgeCandidate(sha, uses[0][1], [u[2] for u in uses]))
    return result


def purge_rejected(older_than_days: int, dry_run: bool = False) -> list[PurgeCandidate]:
    """Delete the blobs and rows of purge candidates (audited); idempotent. Caller commits.

    Blobs go first: if the commit then fails the rows point at nothing and a rerun finishes the
    job; the reverse order could leave blobs no row knows about. Links from inspections to the
    SHA-256 stay, as the record that a photo existed.
    """
    candidates = purge_candidates(older_than_days)
    if dry_run:
        return candidates
    storage = get_storage()
    for candidate in candidates:
        photo = db.session.get(Photo, candidate.sha256)
        if photo is None:
            continue
        storage.delete(photo.storage_key)
        storage.delete(photo.preview_key)
        db.session.execute(delete(PhotoUpload).where(PhotoUpload.sha256 == photo.sha256))
        db.session.delete(photo)
        record(
            "photos.purge",
            "photo",
            candidate.sha256,
            after={
                "inspections": candidate.inspection_ids,
                "size_bytes": candidate.size_bytes,
                "older_than_days": older_than_days,
            },
        )
    db.session.flush()
    return candidates
