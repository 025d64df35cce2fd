"""zoning runs: runs, results, changes, dirty-unit markers, the lease and the outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 15:42:12.176163

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import fieldcheck.columns

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("acquired_at", fieldcheck.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", fieldcheck.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", fieldcheck.columns.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", fieldcheck.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", fieldcheck.columns.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_events_delivered_at_id", ["delivered_at", "id"], unique=False
        )

    op.create_table(
        "zoning_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("methodology_id", sa.String(length=64), nullable=False),
        sa.Column("methodology_version", sa.Integer(), nullable=False),
        sa.Column("methodology_hash", sa.String(length=64), nullable=False),
        sa.Column("catalogue_hash", sa.String(length=64), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=13), nullable=False),
        sa.Column("requested_mode", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("is_dry_run", sa.Boolean(), nullable=False),
        sa.Column(
            "weights",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("base_run_id", sa.Integer(), nullable=True),
        sa.Column("compared_run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", fieldcheck.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", fieldcheck.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", fieldcheck.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", fieldcheck.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=False),
        sa.Column(
            "counts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("is_official", sa.Boolean(), nullable=False),
        sa.Column("published_at", fieldcheck.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "NOT is_official OR state = 'succeeded'", name=op.f("ck_zoning_runs_official_succeeded")
        ),
        sa.CheckConstraint("mode IN ('full', 'incremental')", name=op.f("ck_zoning_runs_mode")),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'succeeded', 'failed', 'skipped')",
            name=op.f("ck_zoning_runs_state"),
        ),
        sa.CheckConstraint(
            "NOT (is_dry_run AND is_official)", name=op.f("ck_zoning_runs_dry_run_never_official")
        ),
        sa.ForeignKeyConstraint(
            ["base_run_id"], ["zoning_runs.id"], name=op.f("fk_zoning_runs_base_run_id_zoning_runs")
        ),
        sa.ForeignKeyConstraint(
            ["compared_run_id"],
            ["zoning_runs.id"],
            name=op.f("fk_zoning_runs_compared_run_id_zoning_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["published_by"], ["users.id"], name=op.f("fk_zoning_runs_published_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_zoning_runs_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zoning_runs")),
    )
    with op.batch_alter_table("zoning_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_zoning_runs_state_created_at", ["state", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_zoning_runs_official",
            ["methodology_id", "period", "scope"],
            unique=True,
            sqlite_where=sa.text("is_official"),
            postgresql_where=sa.text("is_official"),
        )

    op.create_table(
        "zoning_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=13), nullable=True),
        sa.Column("old_score", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("new_score", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("old_zone", sa.String(length=8), nullable=True),
        sa.Column("new_zone", sa.String(length=8), nullable=True),
        sa.Column("is_zone_move", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["zoning_runs.id"],
            name=op.f("fk_zoning_changes_run_id_zoning_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zoning_changes")),
        sa.UniqueConstraint(
            "run_id", "level", "code", name=op.f("uq_zoning_changes_run_id_level_code")
        ),
    )
    op.create_table(
        "zoning_dirty_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", fieldcheck.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_zoning_dirty_units_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zoning_dirty_units")),
    )
    with op.batch_alter_table("zoning_dirty_units", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_zoning_dirty_units_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "zoning_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=13), nullable=True),
        sa.Column("agency_code", sa.String(length=64), nullable=True),
        sa.Column("score", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("zone", sa.String(length=8), nullable=False),
        sa.Column("grade", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column(
            "inspection_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "level IN ('unit', 'agency', 'regency', 'province')",
            name=op.f("ck_zoning_results_level"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["zoning_runs.id"],
            name=op.f("fk_zoning_results_run_id_zoning_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zoning_results")),
        sa.UniqueConstraint(
            "run_id", "level", "code", name=op.f("uq_zoning_results_run_id_level_code")
        ),
    )
    with op.batch_alter_table("zoning_results", schema=None) as batch_op:
        batch_op.create_index(
            "ix_zoning_results_run_id_level_rank", ["run_id", "level", "rank"], unique=False
        )


def downgrade():
    with op.batch_alter_table("zoning_results", schema=None) as batch_op:
        batch_op.drop_index("ix_zoning_results_run_id_level_rank")

    op.drop_table("zoning_results")
    with op.batch_alter_table("zoning_dirty_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_zoning_dirty_units_unit_id"))

    op.drop_table("zoning_dirty_units")
    op.drop_table("zoning_changes")
    with op.batch_alter_table("zoning_runs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_zoning_runs_official",
            sqlite_where=sa.text("is_official"),
            postgresql_where=sa.text("is_official"),
        )
        batch_op.drop_index("ix_zoning_runs_state_created_at")

    op.drop_table("zoning_runs")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_events_delivered_at_id")

    op.drop_table("outbox_events")
    op.drop_table("leases")
