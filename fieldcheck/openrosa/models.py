"""The photos an OpenRosa submission names by file name, awaited until their bytes arrive."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldcheck.columns import UTCDateTime
from fieldcheck.extensions import db


class OpenRosaAttachment(db.Model):
    """A file an OpenRosa submission's XML names for an indicator's photo question.

    The JSON API names photos by SHA-256; an OpenRosa client only knows the file name until the
    bytes arrive, possibly in a later POST of the same submission. The row records the name at
    intake (``sha256`` NULL: awaited) and the photo it turned out to be once received, which is
    then cited by the answer and linked as the inspection's evidence.
    """

    __tablename__ = "openrosa_attachments"
    __table_args__ = (
        UniqueConstraint("inspection_id", "indicator_code"),
        CheckConstraint("length(filename) BETWEEN 1 AND 255", name="filename_length"),
        CheckConstraint(
            "(sha256 IS NULL AND received_at IS NULL) OR "
            "(sha256 IS NOT NULL AND received_at IS NOT NULL)",
            name="received_with_sha256",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    #: The file name the XML gives as the photo question's answer (``1733400000000.jpg``).
    filename: Mapped[str] = mapped_column(String(255))
    #: The indicator whose photo question named the file.
    indicator_code: Mapped[str] = mapped_column(String(32))
    #: The received photo's SHA-256 (a photos row); NULL while awaited.
    sha256: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


__all__ = ["OpenRosaAttachment"]
