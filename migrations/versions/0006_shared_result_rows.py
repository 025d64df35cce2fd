"""Zoning runs may share unit result rows with an anchor run (issue 3 performance).

A run with ``anchor_run_id`` stores only the unit rows that differ from that complete run, plus a
tombstone (``is_removed``) for an anchor unit it no longer has; readers resolve the rest from the
anchor (fieldcheck.zoning.results). Agency rows keep the exact sum of their unit scores
(``score_total``), which such a run adjusts by its own rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 18:35:00

"""

import sqlalchemy as sa
from alembic import op

from fieldcheck.migrating import add_column, add_fk_column, has_column

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # In place, not a batch copy (fieldcheck.migrating): the copy would have to drop
    # zoning_runs, which results reference, and SQLite refuses that once runs exist.
    add_fk_column("zoning_runs", "anchor_run_id", "zoning_runs")
    add_column("zoning_results", sa.Column("score_total", sa.BigInteger(), nullable=True))
    if has_column("zoning_results", "is_removed"):
        return  # downgraded on SQLite, which keeps the columns (see downgrade)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot ADD CONSTRAINT, but takes the check as a column constraint.
        op.execute(
            "ALTER TABLE zoning_results ADD COLUMN is_removed BOOLEAN DEFAULT (false) NOT NULL "
            "CONSTRAINT ck_zoning_results_removed_unit CHECK (NOT is_removed OR level = 'unit')"
        )
        return
    op.add_column(
        "zoning_results",
        sa.Column("is_removed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_check_constraint(
        "ck_zoning_results_removed_unit", "zoning_results", "NOT is_removed OR level = 'unit'"
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # DROP COLUMN refuses columns with constraints; nothing reads them below 0006, so on
        # SQLite they stay (harmless: NULL and false).
        return
    op.drop_constraint("ck_zoning_results_removed_unit", "zoning_results", type_="check")
    op.drop_column("zoning_results", "is_removed")
    op.drop_column("zoning_results", "score_total")
    op.drop_constraint(
        "fk_zoning_runs_anchor_run_id_zoning_runs", "zoning_runs", type_="foreignkey"
    )
    op.drop_column("zoning_runs", "anchor_run_id")
