"""What an insider with the database's owner role can do to the audit log, for the tests.

They can lift the triggers (they own the tables), delete, edit, truncate and recompute the chain
with the application's own functions. They do not have the audit key (kept outside the database)
and cannot rewrite the checkpoint file (shipped elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text

from fieldcheck.audit.chain import CONTENT_COLUMNS, LEGACY_KEY_ID, legacy_hash, seal_hash
from fieldcheck.extensions import db

TABLES = ("audit_log", "audit_seals")


@contextmanager
def untriggered(app) -> Iterator[Any]:
    """A connection (in a transaction) on which the audit tables' triggers are lifted."""
    with app.app_context(), db.engine.connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            for table in TABLES:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            yield conn
            for table in TABLES:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        else:
            triggers = conn.execute(
                text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name IN ('audit_log', 'audit_seals')"
                )
            ).all()
            for name, _ in triggers:
                conn.execute(text(f"DROP TRIGGER {name}"))
            yield conn
            for _, sql in triggers:
                conn.execute(text(sql))


def tamper(app, *statements: str) -> None:
    """Run ``statements`` with the triggers lifted."""
    with untriggered(app) as conn:
        for statement in statements:
            conn.execute(text(statement))


def recompute_from(app, first_seq: int, *, key: bytes | None = None) -> None:
    """Rewrite every link from ``first_seq`` on with the app's own functions: HMAC under ``key``
    (a key the insider made up, keeping the key_id), or the unkeyed sha256 when ``key`` is None."""
    with untriggered(app) as conn:
        columns = ", ".join(f"e.{c}" for c in CONTENT_COLUMNS)
        rows = conn.execute(
            text(
                f"SELECT s.seq, s.prev_hash, s.key_id, {columns} FROM audit_seals s "  # noqa: S608
                "JOIN audit_log e ON e.id = s.entry_id ORDER BY s.seq"
            )
        ).all()
        prev = None
        for row in rows:
            if row.seq < first_seq:
                prev = None
                continue
            if prev is None:
                prev = row.prev_hash
            content = _content(conn, row)
            if key is None:
                new, key_id = legacy_hash(prev, content), LEGACY_KEY_ID
            else:
                new, key_id = seal_hash(key, prev, row.seq, content), row.key_id
            conn.execute(
                text(
                    "UPDATE audit_seals SET prev_hash = :p, hash = :h, key_id = :k WHERE seq = :s"
                ),
                {"p": prev, "h": new, "k": key_id, "s": row.seq},
            )
            prev = new


def _content(conn, row: Any) -> dict[str, Any]:
    """The entry as the application reads it (typed columns), from a raw row."""
    from fieldcheck.audit.models import AuditEntry

    table = AuditEntry.__table__
    entry = conn.execute(table.select().where(table.c.id == row.id)).one()
    return {name: entry._mapping[name] for name in CONTENT_COLUMNS}
