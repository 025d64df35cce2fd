"""Inspections indexed by surveyor and visit time, for intake's integrity checks (issue 14).

The impossible-travel check reads a surveyor's nearest earlier and later visit on every intake;
with only ``ix_inspections_surveyor_id`` it read every visit of the surveyor. The composite index
(surveyor_id, started_at, id) answers both in one index step and serves every query the
single-column index served (its leading column), which it replaces.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 09:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inspections_surveyor_id_started_at",
            ["surveyor_id", "started_at", "id"],
            unique=False,
        )
        batch_op.drop_index(batch_op.f("ix_inspections_surveyor_id"))


def downgrade():
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspections_surveyor_id"), ["surveyor_id"], unique=False
        )
        batch_op.drop_index("ix_inspections_surveyor_id_started_at")
