"""Helpers for migrations that add columns to tables already holding data.

On SQLite, Alembic's batch mode copies a table to alter it, and the copy must drop the old
table: with foreign keys enforced inside the migration's transaction that either fails (the
table is referenced) or cascades deletes. These add columns in place instead, and tolerate a
column left behind by a SQLite downgrade (docs/decisions.md items 33 and 61).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def has_column(table: str, column: str) -> bool:
    """True when ``table`` already has ``column``."""
    return column in {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def add_column(table: str, column: sa.Column) -> None:
    """ADD COLUMN unless it is already there."""
    if not has_column(table, column.name):
        op.add_column(table, column)


def add_fk_column(table: str, column: str, referred: str) -> None:
    """Add a nullable integer column with a named foreign key, without copying the table."""
    if has_column(table, column):
        return
    name = f"fk_{table}_{column}_{referred}"
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot ADD CONSTRAINT, but takes the key as a column constraint in ADD COLUMN.
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
            f"CONSTRAINT {name} REFERENCES {referred} (id)"
        )
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, referred, [column], ["id"])
