"""Unit overrides belong to an assessment period: one active override per unit and period.

An override made while looking at the 2026 results must not change the final zone shown for
2025 (or 2027). Existing overrides get the year they were made in (WIB), which is the period
their author was looking at under the previous rule (results defaulted to the current year).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 23:30:00

"""

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import fieldcheck.columns

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WHERE_ACTIVE = sa.text("withdrawn_at IS NULL")


def upgrade():
    # Nothing references unit_overrides, so SQLite's batch copy of the table is safe here.
    with op.batch_alter_table("unit_overrides", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period", sa.Integer(), nullable=True))
    overrides = sa.table(
        "unit_overrides",
        sa.column("id", sa.Integer()),
        sa.column("created_at", fieldcheck.columns.UTCDateTime(timezone=True)),
        sa.column("period", sa.Integer()),
    )
    bind = op.get_bind()
    wib = ZoneInfo("Asia/Jakarta")
    for row_id, created_at in bind.execute(sa.select(overrides.c.id, overrides.c.created_at)):
        bind.execute(
            overrides.update()
            .where(overrides.c.id == row_id)
            .values(period=created_at.astimezone(wib).year)
        )
    with op.batch_alter_table("unit_overrides", schema=None) as batch_op:
        batch_op.alter_column("period", existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint("period", "period BETWEEN 2000 AND 2100")
        batch_op.drop_index(
            "uq_unit_overrides_active", sqlite_where=WHERE_ACTIVE, postgresql_where=WHERE_ACTIVE
        )
        batch_op.create_index(
            "uq_unit_overrides_active",
            ["unit_id", "period"],
            unique=True,
            sqlite_where=WHERE_ACTIVE,
            postgresql_where=WHERE_ACTIVE,
        )


def downgrade():
    # Back to one active override per unit: of several periods' active overrides, the newest
    # stays active and the others are withdrawn (withdrawn rows are history, never deleted).
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE unit_overrides SET withdrawn_at = created_at, "
            "withdraw_reason = 'downgrade: one active override per unit' "
            "WHERE withdrawn_at IS NULL AND EXISTS (SELECT 1 FROM unit_overrides newer "
            "WHERE newer.unit_id = unit_overrides.unit_id AND newer.withdrawn_at IS NULL "
            "AND newer.id > unit_overrides.id)"
        )
    )
    with op.batch_alter_table("unit_overrides", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_unit_overrides_active", sqlite_where=WHERE_ACTIVE, postgresql_where=WHERE_ACTIVE
        )
        batch_op.create_index(
            "uq_unit_overrides_active",
            ["unit_id"],
            unique=True,
            sqlite_where=WHERE_ACTIVE,
            postgresql_where=WHERE_ACTIVE,
        )
        batch_op.drop_constraint(batch_op.f("ck_unit_overrides_period"), type_="check")
        batch_op.drop_column("period")
