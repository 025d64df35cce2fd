"""Who may see a photo, and integrity flags as a given user may see them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fieldcheck import signals
from fieldcheck.auth.models import User
from fieldcheck.evidence.models import InspectionPhoto, PhotoUpload
from fieldcheck.extensions import db
from fieldcheck.i18n import N_
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.visibility import visible_inspections


def photo_visible_to(sha256: str, user: User) -> bool:
    """Whether ``user`` may see a stored photo: they uploaded it, an inspection they may see
    received it, or an objection to such an inspection's finding cites it."""
    own = db.session.execute(
        select(PhotoUpload.id).where(PhotoUpload.sha256 == sha256, PhotoUpload.user_id == user.id)
    ).first()
    if own is not None:
        return True
    visible = visible_inspections(user).with_only_columns(Inspection.id)
    received = visible.join(InspectionPhoto, InspectionPhoto.inspection_id == Inspection.id)
    if db.session.execute(
        received.where(
            InspectionPhoto.sha256 == sha256, InspectionPhoto.received_at.is_not(None)
        ).limit(1)
    ).first():
        return True
    # Records of packages above evidence (objections) may cite the photo: they say which.
    for _receiver, citing in signals.photo_citations.send(sha256):
        if db.session.execute(visible.where(Inspection.id.in_(citing)).limit(1)).first():
            return True
    return False


def flags_for(flag_lists: list[list[dict[str, Any]]], user: User) -> list[list[dict[str, Any]]]:
    """Integrity flags as ``user`` may see them: another inspection a flag names (the same photo
    elsewhere, the same surveyor elsewhere) stays named only if the user may see it.

    Otherwise its id and unit are left out and the message says the other visit lies outside the
    user's view: the flag still warns, without revealing another region's work. One query for
    all the lists (a page of inspections).
    """
    named: set[int] = set()
    for flags in flag_lists:
        for f in flags or ():
            details = f.get("details") or {}
            named.update(details.get("other_inspection_ids") or ())
            if details.get("other_inspection_id") is not None:
                named.add(details["other_inspection_id"])
    if not named:
        return flag_lists
    seen = set(
        db.session.execute(
            visible_inspections(user)
            .with_only_columns(Inspection.id)
            .where(Inspection.id.in_(sorted(named)))
        ).scalars()
    )
    return [[_as_seen(f, seen) for f in flags or ()] for flags in flag_lists]


def _as_seen(flag: dict[str, Any], seen: set[int]) -> dict[str, Any]:
    details = dict(flag.get("details") or {})
    if flag.get("code") == "photo_reused":
        others = details.get("other_inspection_ids") or []
        kept = [i for i in others if i in seen]
        hidden = len(others) - len(kept)
        if not hidden:
            return flag
        details["other_inspection_ids"] = kept
        params: dict[str, Any] = {"photo": (details.get("sha256") or "")[:12], "hidden": hidden}
        if kept:
            message = N_(
                "Photo %(photo)s is also used on other visits (%(visits)s); %(hidden)s of them "
                "are outside your region."
            )
            params["visits"] = [f"#{i}" for i in kept]
        else:
            message = N_(
                "Photo %(photo)s is also used on other visits; %(hidden)s of them are outside "
                "your region."
            )
        return {**flag, "details": details, "message": message, "params": params}
    other = details.get("other_inspection_id")
    if flag.get("code") == "impossible_travel" and other is not None and other not in seen:
        details["other_inspection_id"] = None
        details.pop("other_unit", None)
        gap = max(details.get("gap_minutes") or 0, 0)
        message = N_(
            "The same surveyor was recorded on another visit, outside your region, "
            "%(distance_m)s away, %(minutes)s minutes apart; that cannot be travelled."
        )
        params = {
            "distance_m": round((details.get("distance_km") or 0) * 1000),
            "minutes": round(gap),
        }
        return {**flag, "details": details, "message": message, "params": params}
    return flag
