"""Unit overrides (issue 4): a supervisor's final zone for a unit, one active per unit.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 16:33:43.835375

"""

import sqlalchemy as sa
from alembic import op

import fieldcheck.columns  # noqa: F401 - custom column types used by autogenerate

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "unit_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", fieldcheck.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", fieldcheck.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.Integer(), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "zone IN ('merah', 'kuning', 'hijau')", name=op.f("ck_unit_overrides_zone")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_unit_overrides_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_unit_overrides_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by"], ["users.id"], name=op.f("fk_unit_overrides_withdrawn_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_overrides")),
    )
    with op.batch_alter_table("unit_overrides", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_overrides_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(
            "uq_unit_overrides_active",
            ["unit_id"],
            unique=True,
            sqlite_where=sa.text("withdrawn_at IS NULL"),
            postgresql_where=sa.text("withdrawn_at IS NULL"),
        )


def downgrade():
    with op.batch_alter_table("unit_overrides", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_unit_overrides_active",
            sqlite_where=sa.text("withdrawn_at IS NULL"),
            postgresql_where=sa.text("withdrawn_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_unit_overrides_unit_id"))

    op.drop_table("unit_overrides")
