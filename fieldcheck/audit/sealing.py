"""Sealing: the entries committed since the last seal become the next links of the keyed chain.

Only sealers take the chain's lock (a PostgreSQL advisory lock; SQLite's ``BEGIN IMMEDIATE``
write lock), never a request: a request only INSERTs its entries. Under the lock ``seal`` reads
the head link, picks committed entries that have no seal in id order, gives them the next
``seq`` numbers and inserts their seals. Chain order is seal order: an entry with a lower id
whose transaction commits later simply gets a later ``seq``.

After sealing (at most every ``audit.checkpoint_seconds``) the head is written to the checkpoint
file outside the database (``fieldcheck.audit.checkpoints``).

The scheduler runs ``seal_job`` every ``audit.seal_seconds``; ``flask --app app audit seal``
does the same by hand.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import exists, func, insert, select, text

from fieldcheck.audit import checkpoints
from fieldcheck.audit.chain import CONTENT_COLUMNS, GENESIS, LEGACY_KEY_ID, seal_hash
from fieldcheck.audit.keys import KeyRing, key_ring
from fieldcheck.audit.models import AuditEntry, AuditSeal
from fieldcheck.clock import utcnow
from fieldcheck.extensions import db

log = logging.getLogger(__name__)

#: Any constant; names the advisory lock sealers (and only sealers) take on PostgreSQL.
SEAL_LOCK_KEY = 0x46434153  # "FCAS"
#: A routine seal looks only at entries written this recently (an index range on created_at,
#: not an anti-join over the whole log); a transaction open longer than this is caught by the
#: full scan the job makes every FULL_SCAN_SECONDS, and ``audit seal`` always makes.
RECENT = timedelta(hours=1)
FULL_SCAN_SECONDS = 600


@dataclass(frozen=True)
class Sealed:
    """What one ``seal`` call did."""

    count: int
    head_seq: int
    head_hash: str
    #: The checkpoint line written, if one was.
    checkpoint: dict[str, Any] | None


def seal(*, full: bool = True, batch: int | None = None) -> Sealed:
    """Seal every committed unsealed entry (in batches, one transaction each), then write a
    checkpoint when one is due. ``full=False`` looks only at entries of the last hour."""
    ring = key_ring(create=True)
    batch = batch or current_app.config["AUDIT_SEAL_BATCH"]
    total = 0
    while True:
        try:
            count, head_seq, head_hash = _seal_batch(ring, full, batch)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        total += count
        if count < batch:
            break
    written = _checkpoint_if_due(ring, head_seq, head_hash)
    return Sealed(total, head_seq, head_hash, written)


def _seal_batch(ring: KeyRing, full: bool, batch: int) -> tuple[int, int, str]:
    if db.session.get_bind().dialect.name == "postgresql":
        # Released at commit. Taken before reading the head: in READ COMMITTED the statements
        # after it see the seals the previous holder committed.
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEAL_LOCK_KEY})
    head = db.session.execute(
        select(AuditSeal.seq, AuditSeal.hash).order_by(AuditSeal.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (0, GENESIS) if head is None else (head.seq, head.hash)
    table = AuditEntry.__table__
    query = (
        select(*(table.c[name] for name in CONTENT_COLUMNS))
        .where(~exists().where(AuditSeal.entry_id == table.c.id))
        .order_by(table.c.id)
        .limit(batch)
    )
    if not full:
        query = query.where(table.c.created_at >= utcnow() - RECENT)
    now = utcnow()
    seals = []
    for row in db.session.execute(query):
        seq += 1
        hash_ = seal_hash(ring.current, prev_hash, seq, row._mapping)
        seals.append(
            {
                "seq": seq,
                "entry_id": row.id,
                "prev_hash": prev_hash,
                "hash": hash_,
                "key_id": ring.current_id,
                "sealed_at": now,
            }
        )
        prev_hash = hash_
    if seals:
        db.session.execute(insert(AuditSeal.__table__), seals)
    return len(seals), seq, prev_hash


def _checkpoint_if_due(ring: KeyRing, head_seq: int, head_hash: str) -> dict[str, Any] | None:
    # Written after the seals' commit, so a line never names a link that could still roll back.
    if head_seq == 0:
        return None
    last = checkpoints.last()
    now = utcnow()
    if last is not None:
        if last.seq == head_seq:
            return None  # nothing new to anchor
        if now - last.at < timedelta(seconds=current_app.config["AUDIT_CHECKPOINT_SECONDS"]):
            return None
    # Every committed entry, sealed or not: none may ever disappear (the log is insert-only).
    entries = db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    legacy = _legacy_links()
    db.session.rollback()  # end the read transaction (SQLite: its IMMEDIATE write lock)
    return checkpoints.append(ring, head_seq, head_hash, entries, legacy, now)


def _legacy_links() -> int:
    """How many links the unkeyed prefix has. Written into every checkpoint, so links passed off
    as unkeyed later (which anyone can compute) are caught. Fixed since migration 0011."""
    return db.session.execute(
        select(func.count()).select_from(AuditSeal).where(AuditSeal.key_id == LEGACY_KEY_ID)
    ).scalar_one()


_last_full_scan: float | None = None


def seal_job(app: Flask) -> None:
    """The scheduler's job: seal recent entries, and all of them every FULL_SCAN_SECONDS."""
    global _last_full_scan
    full = _last_full_scan is None or time.monotonic() - _last_full_scan >= FULL_SCAN_SECONDS
    with app.app_context():
        try:
            done = seal(full=full)
            if full:
                _last_full_scan = time.monotonic()
            if done.count:
                log.info("audit: sealed %s entries, head link %s", done.count, done.head_seq)
        finally:
            db.session.remove()
