"""Zoning subjects (issue 16): per run, what each agency (or unit) scored by dimensions was
computed from: dimension scores with their sources, and the gaps of an incomplete one
(fieldcheck/zoning/models.py, ZoningSubject).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 15:40:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import fieldcheck.columns  # noqa: F401 - custom column types used by autogenerate

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "zoning_subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=13), nullable=True),
        sa.Column("agency_code", sa.String(length=64), nullable=True),
        sa.Column("is_complete", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("dimensions", _json(), nullable=False),
        sa.Column("gaps", _json(), nullable=False),
        sa.Column("counts", _json(), nullable=False),
        sa.Column("units", _json(), nullable=False),
        sa.Column("inspection_ids", _json(), nullable=False),
        sa.Column("interview_ids", _json(), nullable=False),
        sa.Column("unit_inputs", _json(), nullable=False),
        sa.CheckConstraint(
            "is_complete = (score IS NOT NULL)", name=op.f("ck_zoning_subjects_complete_scored")
        ),
        sa.CheckConstraint("level IN ('unit', 'agency')", name=op.f("ck_zoning_subjects_level")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["zoning_runs.id"],
            name=op.f("fk_zoning_subjects_run_id_zoning_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zoning_subjects")),
        sa.UniqueConstraint(
            "run_id", "level", "code", name=op.f("uq_zoning_subjects_run_id_level_code")
        ),
    )
    with op.batch_alter_table("zoning_subjects", schema=None) as batch_op:
        batch_op.create_index(
            "ix_zoning_subjects_run_id_is_complete", ["run_id", "is_complete"], unique=False
        )


def downgrade():
    with op.batch_alter_table("zoning_subjects", schema=None) as batch_op:
        batch_op.drop_index("ix_zoning_subjects_run_id_is_complete")
    op.drop_table("zoning_subjects")
