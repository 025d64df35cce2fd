"""The audit log: one append-only row per change, each chained to the previous by a hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldcheck.columns import JSONType, UTCDateTime
from fieldcheck.extensions import db


class AuditEntry(db.Model):
    """Who did what to which object, when, with the state before and after.

    ``id`` is the position in the chain, assigned by ``record`` under a lock (not by a sequence),
    so ids are contiguous from 1 and a deleted row shows up as a gap.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: NULL for the system (CLI, jobs); the name is copied so the log reads without joins.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    #: Region of the object when the entry was written; a supervisor sees entries in scope.
    region_code: Mapped[str | None] = mapped_column(String(16), index=True)
    before: Mapped[object] = mapped_column(JSONType, nullable=True)
    after: Mapped[object] = mapped_column(JSONType, nullable=True)
    #: sha256 hex of the previous row (64 zeros for the first row).
    prev_hash: Mapped[str] = mapped_column(String(64))
    #: sha256(prev_hash + canonical JSON of this row's content).
    hash: Mapped[str] = mapped_column(String(64))
