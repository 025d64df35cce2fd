"""A named, expiring lock in the database, safe on SQLite and PostgreSQL.

Taking it is one conditional UPDATE (``holder IS NULL OR expires_at < now``), so of two processes
that try at once exactly one changes the row; PostgreSQL re-checks the condition after waiting for
the other's row lock, SQLite serialises writers. Every call runs in its own short transaction on
its own connection, so a lease is visible to others at once, whatever the caller's session holds.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from fieldcheck.clock import utcnow
from fieldcheck.extensions import db
from fieldcheck.zoning.models import Lease

LEASES = Lease.__table__
#: The lease a zoning run holds from its start to its commit: one run at a time.
LEASE_NAME = "zoning"


class LeaseLost(RuntimeError):
    """The lease expired and someone else took it: the work must stop without writing."""


@dataclass(frozen=True)
class Grant:
    """Outcome of an attempt to take a lease."""

    acquired: bool
    #: The holder and run before us: the live holder when refused, the dead one when we stole it.
    other_holder: str | None
    other_run_id: int | None
    other_expires_at: datetime | None

    @property
    def stole_stale(self) -> bool:
        """True when we took over a lease whose holder stopped heartbeating."""
        return self.acquired and self.other_holder is not None


def new_holder() -> str:
    """A holder id naming this process (host:pid) and this attempt."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead_here(holder: str) -> bool:
    """True when ``holder`` names a process on this machine that no longer exists.

    A run killed with SIGKILL never releases its lease; on the machine it ran on we can tell at
    once instead of waiting for the lease to expire. On any doubt (another host, a reused pid,
    no permission to signal) the answer is False and expiry decides, which is always safe.
    """
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire(name: str, holder: str, seconds: int, run_id: int | None = None) -> Grant:
    """Take the lease ``name`` for ``seconds`` when it is free, expired, or its holder is dead."""
    now = utcnow()
    with db.engine.begin() as conn:
        row = conn.execute(select(LEASES).where(LEASES.c.name == name)).first()
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(LEASES).values(name=name, holder=None))
            except IntegrityError:
                pass  # another process created the row first; the UPDATE below decides
        takeable = [LEASES.c.holder.is_(None), LEASES.c.expires_at < now]
        if row is not None and row.holder is not None and holder_is_dead_here(row.holder):
            # Compare-and-swap on the dead holder: of two processes noticing, one wins.
            takeable.append(LEASES.c.holder == row.holder)
        result = conn.execute(
            update(LEASES)
            .where(LEASES.c.name == name, or_(*takeable))
            .values(
                holder=holder,
                run_id=run_id,
                acquired_at=now,
                expires_at=now + timedelta(seconds=seconds),
                heartbeat_at=now,
            )
        )
        acquired = result.rowcount == 1
        if not acquired:
            row = conn.execute(select(LEASES).where(LEASES.c.name == name)).first()
    other = row if row is not None and row.holder is not None else None
    return Grant(
        acquired=acquired,
        other_holder=None if other is None else other.holder,
        other_run_id=None if other is None else other.run_id,
        other_expires_at=None if other is None else other.expires_at,
    )


def renew(name: str, holder: str, seconds: int, conn: Connection | None = None) -> None:
    """Extend the lease we hold (the heartbeat); LeaseLost when it is no longer ours.

    On ``conn``, in its transaction, when given (the caller commits); else in its own.
    """
    now = utcnow()
    statement = (
        update(LEASES)
        .where(LEASES.c.name == name, LEASES.c.holder == holder)
        .values(heartbeat_at=now, expires_at=now + timedelta(seconds=seconds))
    )
    if conn is not None:
        result = conn.execute(statement)
    else:
        with db.engine.begin() as own:
            result = own.execute(statement)
    if result.rowcount != 1:
        raise LeaseLost(f"lease {name!r} is no longer held by {holder}")


def release(name: str, holder: str, conn: Connection | None = None) -> None:
    """Give the lease back if we still hold it (on ``conn``, in its transaction, when given)."""
    statement = (
        update(LEASES)
        .where(LEASES.c.name == name, LEASES.c.holder == holder)
        .values(holder=None, run_id=None, expires_at=None)
    )
    if conn is not None:
        conn.execute(statement)
        return
    with db.engine.begin() as own:
        own.execute(statement)


def current(name: str) -> Lease | None:
    """The lease row (free or held), read through the session."""
    return db.session.get(Lease, name)
