"""Zones are data (issue 16): a `zones` reference table and foreign keys instead of CHECK lists.

The zone columns of `inspections` and `unit_overrides` were constrained by
CHECK (zone IN ('merah', 'kuning', 'hijau')). They now reference `zones(code)`, seeded with the
zone catalogue's codes (fieldcheck/catalogue/data/zones.toml): the 2015-2021 three and `hitam`,
the black zone of the 2025 opinion reports. A zone added to the catalogue later needs a migration
inserting its code (tests/zones/test_catalogue.py checks the table and the file agree).

SQLite cannot drop a CHECK or add a foreign key in place, and copying `inspections` is not an
option: migrations run with foreign keys ON inside a transaction, where dropping the old table
would cascade-delete answers and findings (see 0003). So on SQLite the table definitions are
edited in sqlite_schema, the procedure SQLite documents for removing CHECK constraints and
changing constraints that do not alter the stored rows (sqlite.org/lang_altertable.html,
"Making Other Kinds Of Table Schema Changes"), then `PRAGMA foreign_key_check` proves the
existing rows satisfy the new keys.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 14:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

#: The zone catalogue's codes when this migration was written, worst first.
ZONES = ("hitam", "merah", "kuning", "hijau")
#: (table, old CHECK name, old CHECK expression, new FK name).
TABLES = (
    (
        "inspections",
        "ck_inspections_zone",
        "zone IS NULL OR zone IN ('merah', 'kuning', 'hijau')",
        "fk_inspections_zone_zones",
    ),
    (
        "unit_overrides",
        "ck_unit_overrides_zone",
        "zone IN ('merah', 'kuning', 'hijau')",
        "fk_unit_overrides_zone_zones",
    ),
)


def upgrade():
    zones = op.create_table(
        "zones",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_zones")),
    )
    op.bulk_insert(zones, [{"code": code} for code in ZONES])
    if op.get_bind().dialect.name == "sqlite":
        for table, check, expression, fk in TABLES:
            _sqlite_edit(
                table,
                f"CONSTRAINT {check} CHECK ({expression})",
                f"CONSTRAINT {fk} FOREIGN KEY(zone) REFERENCES zones (code)",
            )
        return
    for table, check, _expression, fk in TABLES:
        # op.f: the names are final (the naming convention must not be applied again).
        op.drop_constraint(op.f(check), table, type_="check")
        op.create_foreign_key(op.f(fk), table, "zones", ["zone"], ["code"])


def downgrade():
    # Refused by the database while a row holds a zone outside the three (hitam): as it should.
    if op.get_bind().dialect.name == "sqlite":
        for table, check, expression, fk in TABLES:
            outside = sa.text(
                f"SELECT 1 FROM {table} "  # noqa: S608 - table names from TABLES above
                "WHERE zone IS NOT NULL AND zone NOT IN ('merah', 'kuning', 'hijau')"
            )
            if op.get_bind().execute(outside).first():
                raise RuntimeError(f"{table} holds zones outside merah, kuning, hijau")
            _sqlite_edit(
                table,
                f"CONSTRAINT {fk} FOREIGN KEY(zone) REFERENCES zones (code)",
                f"CONSTRAINT {check} CHECK ({expression})",
            )
    else:
        for table, check, expression, fk in TABLES:
            op.drop_constraint(op.f(fk), table, type_="foreignkey")
            op.create_check_constraint(op.f(check), table, expression)
    op.drop_table("zones")


def _sqlite_edit(table: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in ``table``'s stored definition (no row is rewritten)."""
    bind = op.get_bind()
    sql = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
    ).scalar_one()
    if sql.count(old) != 1:
        raise RuntimeError(f"{table}: expected one {old!r} in its definition, found {sql!r}")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :t"),
        {"sql": sql.replace(old, new), "t": table},
    )
    # A new schema version makes every connection re-read the definitions.
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))
    problems = bind.execute(sa.text(f"PRAGMA foreign_key_check({table})")).all()
    if problems:
        raise RuntimeError(f"{table}: rows break the new zone key: {problems[:5]}")
