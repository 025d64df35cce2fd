"""Writing the audit log: one INSERT per change, nothing else.

An entry is written in the caller's transaction (flush only) and gets its id from the database.
Writing takes no lock and reads nothing: the chain that makes the log tamper-evident is built
after commit by ``fieldcheck.audit.sealing.seal`` (the scheduler, every few seconds), which
alone orders entries. The table is insert-only: triggers refuse UPDATE, DELETE and TRUNCATE
(migrations 0003 and 0011). Docs: decisions.md, "Issue 14: the audit chain".
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Select, insert, select

from fieldcheck.audit.models import AuditEntry
from fieldcheck.clock import utcnow
from fieldcheck.extensions import db

SYSTEM_ACTOR = "system"


class Actor(Protocol):
    """Who an entry is written for: a user's id and name (fieldcheck.auth's ``User`` is one).

    A protocol, not the model, so the audit log sits below auth: auth writes entries (users and
    tokens created, revoked), and so does every package above it.
    """

    id: int
    name: str


def _plain(value: Any) -> Any:
    """``value`` as JSON would give it back (times as ISO-8601 UTC, decimals as text), so stored
    == hashed. (Entries written before session 4 hold times as ``str()`` gave them; each entry
    is hashed as stored, so the chain holds either way.)"""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=_json_default, ensure_ascii=False))


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class Change:
    """One entry to append with ``record_many``."""

    action: str
    object_type: str
    object_id: Any
    before: Any = None
    after: Any = None
    region: str | None = None


def record_many(changes: Iterable[Change], *, actor: Actor | None = None) -> int:
    """Append ``changes`` (in order) with one multi-row INSERT; returns the count."""
    changes = list(changes)
    if not changes:
        return 0
    # Flush first so entries written in the same request get ids in the order they happened.
    db.session.flush()
    now = utcnow()
    rows = []
    for change in changes:
        entry = {
            "created_at": now,
            "actor_id": actor.id if actor is not None else None,
            "actor_name": actor.name if actor is not None else SYSTEM_ACTOR,
            "action": change.action,
            "object_type": change.object_type,
            "object_id": str(change.object_id),
            "region_code": change.region,
            "before": _plain(change.before),
            "after": _plain(change.after),
        }
        rows.append(entry)
    # Core executemany: the ORM bulk path adds nothing here and costs a third of the time.
    db.session.execute(insert(AuditEntry.__table__), rows)
    return len(rows)


def record(
    action: str,
    object_type: str,
    object_id: Any,
    *,
    before: Any = None,
    after: Any = None,
    actor: Actor | None = None,
    region: str | None = None,
) -> None:
    """Append one audit entry (flush only; the caller's transaction commits it).

    ``actor`` None means the system (CLI, jobs). ``region`` is the region code of the object, which
    decides which supervisors may read the entry (None: national users only).
    """
    record_many([Change(action, object_type, object_id, before, after, region)], actor=actor)


def entries_query(
    conditions: Iterable[Any] = (),
    *,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_id: int | None = None,
    system_only: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select:
    """Entries matching the filters (None = any) and ``conditions`` (the reader's scope, which
    the caller builds: regions sit beside this package), newest first."""
    query = select(AuditEntry).where(*conditions)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if object_type is not None:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if system_only:
        query = query.where(AuditEntry.actor_id.is_(None))
    if since is not None:
        query = query.where(AuditEntry.created_at >= since)
    if until is not None:
        query = query.where(AuditEntry.created_at < until)
    return query.order_by(AuditEntry.id.desc())


def known_values(column: Any) -> list[str]:
    """The distinct values of an (indexed) audit column, sorted: the choices of a filter."""
    return list(db.session.execute(select(column).distinct().order_by(column)).scalars())
