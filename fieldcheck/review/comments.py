"""Comments on an inspection."""

from __future__ import annotations

from fieldcheck.audit.services import record
from fieldcheck.auth.models import User
from fieldcheck.clock import utcnow
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.review.models import Comment


def add_comment(inspection: Inspection, body: str, author: User) -> Comment:
    """Add a comment to ``inspection`` (already checked visible to ``author``); audited."""
    comment = Comment(inspection_id=inspection.id, author=author, body=body, created_at=utcnow())
    db.session.add(comment)
    db.session.flush()
    record(
        "comment.create",
        "inspection",
        inspection.id,
        after={"comment_id": comment.id, "body": body},
        actor=author,
        region=inspection.unit.region_code,
    )
    return comment
