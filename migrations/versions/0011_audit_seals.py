"""The audit chain is sealed after commit with a key kept outside the database.

``audit_log`` loses its hash columns and gets its ids from the database (a sequence on
PostgreSQL; the rowid on SQLite already is one): writing an entry no longer reads the chain's
head under a lock. The chain moves to the new insert-only table ``audit_seals``. The existing
unkeyed sha256 chain is carried over as its prefix: one seal per existing row, ``seq = id``,
with the row's old ``prev_hash`` and ``hash`` and ``key_id = "sha256"``; the first keyed seal
continues from its last hash, so ``audit verify`` still checks the old rows and says where the
keyed part begins. TRUNCATE is now refused like UPDATE and DELETE on both tables.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:30:00

"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op

from fieldcheck.columns import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_PG_FUNCTION = """CREATE OR REPLACE FUNCTION audit_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END
$$ LANGUAGE plpgsql"""
_PG_TRIGGERS = [
    # Per statement: TRUNCATE fires no row triggers, and one refusal per statement is enough.
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_forbid_change()""",
    """CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_forbid_change()""",
    """CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_forbid_change()""",
]
# SQLite has no TRUNCATE: an unqualified DELETE is one, and the DELETE trigger refuses it.
_SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
    BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END""",
    """CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
    BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END""",
]
# Migration 0003's triggers on audit_log (restored by the downgrade after its UPDATEs).
_SQLITE_LOG_TRIGGERS = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
]


def upgrade():
    op.create_table(
        "audit_seals",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("sealed_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_audit_seals_seq_positive")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["audit_log.id"], name=op.f("fk_audit_seals_entry_id_audit_log")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_seals")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_audit_seals_entry_id")),
    )
    # The old chain becomes the prefix: its ids were contiguous positions from 1.
    op.execute(
        "INSERT INTO audit_seals (seq, entry_id, prev_hash, hash, key_id, sealed_at) "
        "SELECT id, id, prev_hash, hash, 'sha256', created_at FROM audit_log ORDER BY id"
    )
    # Plain DROP COLUMN on both (SQLite 3.35+): a batch copy would drop audit_log's triggers.
    op.drop_column("audit_log", "hash")
    op.drop_column("audit_log", "prev_hash")
    if op.get_bind().dialect.name == "postgresql":
        # What SERIAL would have made, starting after the existing rows.
        op.execute("CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id")
        op.execute(
            "SELECT setval('audit_log_id_seq', COALESCE(MAX(id), 0) + 1, false) FROM audit_log"
        )
        op.execute("ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq')")
        op.execute(_PG_FUNCTION)
        for statement in _PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    """Back to one unkeyed chain in ``audit_log``, recomputed over every row in id order (ids
    the sequence skipped show as missing rows to the old ``verify``)."""
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for trigger, table in (
            ("audit_seals_no_truncate", "audit_seals"),
            ("audit_seals_append_only", "audit_seals"),
            ("audit_log_no_truncate", "audit_log"),
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_forbid_change()")
        op.execute("ALTER TABLE audit_log ALTER COLUMN id DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS audit_log_id_seq")
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    else:
        for name in ("audit_seals_no_update", "audit_seals_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for name in ("audit_log_no_update", "audit_log_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("audit_seals")
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_log", sa.Column("hash", sa.String(64), nullable=True))
    _rechain_unkeyed()
    if postgres:
        op.execute("ALTER TABLE audit_log ALTER COLUMN prev_hash SET NOT NULL")
        op.execute("ALTER TABLE audit_log ALTER COLUMN hash SET NOT NULL")
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        # SQLite keeps the columns nullable: NOT NULL would need a table copy (and the old
        # code always writes both).
        for statement in _SQLITE_LOG_TRIGGERS:
            op.execute(statement)


def _rechain_unkeyed() -> None:
    """The old ``sha256(prev_hash + canonical JSON)`` chain (0003's ``chain_hash``), frozen here:
    a migration must not change when the application's code does."""
    bind = op.get_bind()
    log = sa.table(
        "audit_log",
        sa.column("id", sa.Integer),
        sa.column("created_at", UTCDateTime(timezone=True)),
        sa.column("actor_id", sa.Integer),
        sa.column("actor_name", sa.String),
        sa.column("action", sa.String),
        sa.column("object_type", sa.String),
        sa.column("object_id", sa.String),
        sa.column("region_code", sa.String),
        sa.column("before", sa.JSON),
        sa.column("after", sa.JSON),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )
    prev = "0" * 64
    updates = []
    for row in bind.execute(sa.select(log).order_by(log.c.id)).mappings():
        content = {k: row[k] for k in row if k not in ("prev_hash", "hash")}
        content["created_at"] = row["created_at"].isoformat(timespec="microseconds")
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256((prev + canonical).encode("utf-8")).hexdigest()
        updates.append({"row_id": row["id"], "prev": prev, "digest": digest})
        prev = digest
    if updates:
        bind.execute(
            log.update()
            .where(log.c.id == sa.bindparam("row_id"))
            .values(prev_hash=sa.bindparam("prev"), hash=sa.bindparam("digest")),
            updates,
        )
