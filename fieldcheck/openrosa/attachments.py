"""Photos of an OpenRosa submission: named by file name in the XML, received now or later.

At intake every photo the XML names is recorded as awaited (``OpenRosaAttachment``, no
SHA-256 yet): the inspection is stored at once and shows the evidence as missing meanwhile.
When the bytes arrive (in the same POST or a later one with the same XML), they go through the
evidence pipeline (``store_photo``: decoded, checked, stored once), the answer cites the photo
as a JSON checklist would have cited it, and ``evidence.linking.attach`` marks it received and
recomputes the photo flags, in the request's one transaction.
"""

from __future__ import annotations

from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.clock import utcnow
from fieldcheck.errors import ApiError
from fieldcheck.evidence.linking import attach
from fieldcheck.evidence.models import InspectionPhoto
from fieldcheck.evidence.upload import Spooled, store_photo
from fieldcheck.extensions import db
from fieldcheck.i18n import _, localize
from fieldcheck.inspections.models import Answer, Inspection
from fieldcheck.openrosa.models import OpenRosaAttachment


def expect(inspection_id: int, photos: list[tuple[str, str]]) -> None:
    """Record the photos a new submission names, as awaited."""
    for indicator_code, filename in photos:
        db.session.add(
            OpenRosaAttachment(
                inspection_id=inspection_id, indicator_code=indicator_code, filename=filename
            )
        )
    db.session.flush()


def receive(inspection: Inspection, files: dict[str, Spooled], user: User) -> list[str]:
    """Take the attachments the inspection awaits from ``files``; the file names received.

    Files the XML does not name are ignored (as ODK Central does): only evidence the answers
    cite becomes evidence. A named file that was already received must be the same bytes; a
    different photo under that name is a conflict, never a silent replacement of evidence.
    """
    rows = list(
        db.session.execute(
            select(OpenRosaAttachment)
            .where(OpenRosaAttachment.inspection_id == inspection.id)
            .order_by(OpenRosaAttachment.indicator_code)
        ).scalars()
    )
    received = []
    for row in rows:
        spooled = files.get(row.filename)
        if spooled is None:
            continue
        if row.sha256 is not None:
            if row.sha256 != spooled.sha256:
                raise ApiError(
                    "submission_conflict",
                    _(
                        "The photo %(name)s was already received with other content.",
                        name=row.filename,
                    ),
                    {"filename": row.filename, "inspection_id": inspection.id},
                )
            continue
        try:
            sha = store_photo(spooled, user).photo.sha256
        except ApiError as exc:
            # The evidence pipeline speaks of "the file"; a phone sending several must be told
            # which one (and for which question) it refused.
            raise ApiError(
                exc.code,
                _(
                    "The file %(name)s (photo for %(code)s) was refused: %(reason)s",
                    name=row.filename,
                    code=row.indicator_code,
                    reason=localize(exc.message),
                ),
                {"filename": row.filename, "indicator": row.indicator_code},
                exc.status,
            ) from None
        row.sha256 = sha
        row.received_at = utcnow()
        _cite(inspection, row.indicator_code, sha)
        attach(inspection, sha, user)
        received.append(row.filename)
    return received


def _cite(inspection: Inspection, indicator_code: str, sha: str) -> None:
    """The answer cites the photo and the inspection expects it, as if the checklist had
    named its SHA-256 (what the JSON API's intake stores)."""
    answer = db.session.execute(
        select(Answer).where(
            Answer.inspection_id == inspection.id, Answer.indicator_code == indicator_code
        )
    ).scalar_one_or_none()
    if answer is not None and sha not in (answer.photos or []):
        answer.photos = [*(answer.photos or []), sha]  # a new list: the JSON column sees it
    link = db.session.execute(
        select(InspectionPhoto).where(
            InspectionPhoto.inspection_id == inspection.id, InspectionPhoto.sha256 == sha
        )
    ).scalar_one_or_none()
    if link is None:
        db.session.add(InspectionPhoto(inspection_id=inspection.id, sha256=sha, is_expected=True))
    else:
        link.is_expected = True
    db.session.flush()


def awaited(inspection_id: int) -> list[str]:
    """The file names the inspection still awaits."""
    return list(
        db.session.execute(
            select(OpenRosaAttachment.filename)
            .where(
                OpenRosaAttachment.inspection_id == inspection_id,
                OpenRosaAttachment.sha256.is_(None),
            )
            .order_by(OpenRosaAttachment.filename)
        ).scalars()
    )
