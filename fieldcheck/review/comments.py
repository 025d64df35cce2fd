"""Comments on an inspection."""

from __future__ import annotations

from fieldcheck.audit.services import record
from fieldcheck.auth.models import User
from fieldcheck.clock import utcnow
from fieldcheck.errors import field_errors
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, _
from fieldcheck.inspections.models import Inspection
from fieldcheck.review.models import Comment

#: The longest comment kept (the API's schema reads it too).
COMMENT_MAX = 4000


def add_comment(inspection: Inspection, body: str, author: User) -> Comment:
    """Add a comment to ``inspection`` (already checked visible to ``author``); audited.

    422 on ``body`` when it is blank or longer than ``COMMENT_MAX``.
    """
    if not (body or "").strip():
        raise field_errors({"body": [N_("Write a comment first.")]})
    if len(body) > COMMENT_MAX:
        raise field_errors({"body": [_("At most %(max)s characters.", max=COMMENT_MAX)]})
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
