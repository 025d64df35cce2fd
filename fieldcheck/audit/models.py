"""The audit log: one insert-only row per change, sealed into a keyed hash chain after commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldcheck.columns import JSONType, UTCDateTime
from fieldcheck.extensions import db


class AuditEntry(db.Model):
    """Who did what to which object, when, with the state before and after.

    ``id`` comes from the database (a sequence on PostgreSQL, the rowid on SQLite): writing an
    entry takes no lock and reads nothing, so audited requests never queue behind each other.
    Its place in the chain is given later by its seal (``AuditSeal``); ids may have gaps (a
    rolled-back transaction consumes a sequence value), seal numbers may not.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
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
    #: The entry's link in the chain; None until the sealer has reached it (seconds after commit).
    #: selectin: a page of entries loads its seals in one more query, not one per row.
    seal: Mapped[AuditSeal | None] = relationship(
        "AuditSeal", lazy="selectin", uselist=False, viewonly=True
    )


class AuditSeal(db.Model):
    """One link of the chain: entry ``entry_id`` is the ``seq``-th entry sealed.

    ``hash = HMAC-SHA256(key, prev_hash + canonical JSON of the entry with seq)`` (see
    ``fieldcheck.audit.chain``); the key is kept outside the database, so whoever can write the
    tables cannot make a link that verifies. Rows migrated from the unkeyed chain of migration
    0003 carry ``key_id = "sha256"`` and their old hashes (a legacy prefix).
    """

    __tablename__ = "audit_seals"
    __table_args__ = (CheckConstraint("seq >= 1", name="seq_positive"),)

    #: Position in the chain: 1, 2, 3, ... without gaps, in the order entries were sealed.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entry_id: Mapped[int] = mapped_column(ForeignKey("audit_log.id"), unique=True)
    #: ``hash`` of seal ``seq - 1`` (64 zeros for seq 1).
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    #: Which key made ``hash`` (a short sha256 of the key, so verify picks the right one from
    #: the key ring; "sha256" for the unkeyed legacy prefix).
    key_id: Mapped[str] = mapped_column(String(16))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
