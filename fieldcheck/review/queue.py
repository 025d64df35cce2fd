"""The review queue: inspections waiting for a decision in a reviewer's scope, oldest first.

The same filter as bulk review (``review.bulk.matching``), so "decide on all N matching" acts on
exactly what the queue lists; each row carries its integrity flags as the reviewer may see them
and the reasons its approval is blocked, read set-based for a whole page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from fieldcheck.auth.models import User
from fieldcheck.evidence.visibility import flags_for
from fieldcheck.extensions import db
from fieldcheck.i18n import render_flags
from fieldcheck.inspections.models import Inspection
from fieldcheck.review.bulk import matching
from fieldcheck.review.decisions import review_blockers_for_ids
from fieldcheck.units.models import Unit

#: The queue shows what waits for a decision.
WAITING = "received"


@dataclass
class QueueRow:
    """One waiting inspection with what a reviewer must see first."""

    inspection: Inspection
    #: Rendered flags (``code``, ``severity``, ``message``...) as this reviewer may see them.
    flags: list[dict[str, Any]]
    #: Why approval must wait (missing photo evidence), in the reader's language.
    blockers: list[str]


def queue_query(user: User, criteria: dict[str, Any]) -> Any:
    """The select of waiting inspections in ``user``'s scope matching ``criteria``, oldest first."""
    query = select(Inspection).join(Unit, Unit.id == Inspection.unit_id)
    query = matching(query, user, {**criteria, "status": WAITING})
    return query.order_by(Inspection.received_at, Inspection.id)


def review_queue(
    user: User, criteria: dict[str, Any], page: int, per_page: int
) -> tuple[list[QueueRow], int]:
    """One page of the queue and the number of all matching inspections."""
    query = queue_query(user, criteria)
    total = db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    items = list(db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).scalars())
    flags = flags_for([i.flags or [] for i in items], user)
    blockers = review_blockers_for_ids([i.id for i in items])
    rows = [
        QueueRow(item, render_flags(item_flags), blockers.get(item.id, []))
        for item, item_flags in zip(items, flags, strict=True)
    ]
    return rows, total


def next_waiting(user: User, after: Inspection | None = None) -> int | None:
    """The id of the oldest waiting inspection in scope other than ``after``, or None."""
    query = queue_query(user, {}).with_only_columns(Inspection.id)
    if after is not None:
        query = query.where(Inspection.id != after.id)
    return db.session.execute(query.limit(1)).scalar_one_or_none()
