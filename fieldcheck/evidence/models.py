"""Photos, who uploaded them, which inspections expect or received them, and waivers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fieldcheck.clock import utcnow
from fieldcheck.columns import UTCDateTime
from fieldcheck.extensions import db


class Photo(db.Model):
    """One stored image, keyed by the SHA-256 of its bytes (the same photo is stored once)."""

    __tablename__ = "photos"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    #: EXIF DateTimeOriginal as the camera wrote it: local wall-clock time, no zone (naive).
    exif_taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=False))
    #: EXIF OffsetTimeOriginal ("+07:00") when the camera recorded one.
    exif_utc_offset: Mapped[str | None] = mapped_column(String(6))
    exif_lat: Mapped[float | None] = mapped_column(Float)
    exif_lon: Mapped[float | None] = mapped_column(Float)
    #: The first uploader; later uploaders of the same bytes are in photo_uploads.
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    storage_key: Mapped[str] = mapped_column(String(200))
    preview_key: Mapped[str] = mapped_column(String(200))


class PhotoUpload(db.Model):
    """Who sent a photo's bytes: only its own uploads count as a surveyor's received evidence."""

    __tablename__ = "photo_uploads"
    __table_args__ = (UniqueConstraint("sha256", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("photos.sha256", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InspectionPhoto(db.Model):
    """A photo an inspection expects (referenced by an answer) and/or has received."""

    __tablename__ = "inspection_photos"
    __table_args__ = (
        UniqueConstraint("inspection_id", "sha256"),
        Index("ix_inspection_photos_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    #: No foreign key: an answer may reference a photo that has not arrived yet.
    sha256: Mapped[str] = mapped_column(String(64))
    #: True when an answer of the checklist references it.
    is_expected: Mapped[bool] = mapped_column(Boolean, default=False)
    #: When the inspection's surveyor delivered the bytes; NULL while still awaited.
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EvidenceWaiver(db.Model):
    """A supervisor's decision that a missing photo must not block approval, with the reason."""

    __tablename__ = "evidence_waivers"
    __table_args__ = (UniqueConstraint("inspection_id", "indicator_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    indicator_code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    waived_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    waived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InspectionFlag(db.Model):
    """One row per (inspection, flag code): an indexed copy of Inspection.flags for filtering."""

    __tablename__ = "inspection_flags"
    __table_args__ = (
        UniqueConstraint("inspection_id", "code"),
        Index("ix_inspection_flags_code", "code", "inspection_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))


__all__ = ["EvidenceWaiver", "InspectionFlag", "InspectionPhoto", "Photo", "PhotoUpload"]
