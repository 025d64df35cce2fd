"""Corrected resubmission: which returned inspection a new submission may supersede.

Checked at intake, so it lives with intake (below review, whose decision "returned" it reads).
"""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import in_scope
from fieldcheck.errors import ApiError, field_errors
from fieldcheck.extensions import db, lock
from fieldcheck.i18n import N_, _, state
from fieldcheck.inspections.models import Inspection


class HasId(Protocol):
    """The unit the correction is for (a ``Unit`` or intake's ``UnitRef``): its id."""

    id: int


def resolve_superseded(ref: int | uuid.UUID, unit: HasId, user: User) -> Inspection:
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
        raise field_errors({"supersedes": [N_("No such inspection of yours.")]})
    assert target is not None  # noqa: S101 - narrowed by the check above
    if target.unit_id != unit.id:
        raise field_errors({"supersedes": [N_("The corrected inspection is of another unit.")]})
    if target.status != "returned":
        message = _(
            "Only a returned inspection can be corrected; this is %(status)s.",
            status=state(target.status),
        )
        raise field_errors({"supersedes": [message]})
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
