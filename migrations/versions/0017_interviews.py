"""Interview records (issue 16): staff, service users and complaint officers, the inputs of the
2022 method's Input, Output and Pengaduan dimensions (fieldcheck/interviews/models.py).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 15:23:11.935828

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import fieldcheck.columns  # noqa: F401 - custom column types used by autogenerate

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "interviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("methodology_id", sa.String(length=64), nullable=False),
        sa.Column("methodology_version", sa.Integer(), nullable=False),
        sa.Column("methodology_hash", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("surveyor_id", sa.Integer(), nullable=False),
        sa.Column("interview_date", sa.Date(), nullable=False),
        sa.Column("received_at", fieldcheck.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "respondent",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "answers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "dimensions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(level = 'unit' AND unit_id IS NOT NULL) OR (level = 'agency' AND unit_id IS NULL)",
            name=op.f("ck_interviews_level_unit"),
        ),
        sa.CheckConstraint("level IN ('unit', 'agency')", name=op.f("ck_interviews_level")),
        sa.CheckConstraint("status IN ('received', 'rejected')", name=op.f("ck_interviews_status")),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_interviews_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["surveyor_id"], ["users.id"], name=op.f("fk_interviews_surveyor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_interviews_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interviews")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_interviews_submission_id")),
    )
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interviews_agency_id_interview_date", ["agency_id", "interview_date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_interviews_surveyor_id"), ["surveyor_id"], unique=False
        )
        batch_op.create_index(
            "ix_interviews_unit_id_interview_date", ["unit_id", "interview_date"], unique=False
        )


def downgrade():
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_index("ix_interviews_unit_id_interview_date")
        batch_op.drop_index(batch_op.f("ix_interviews_surveyor_id"))
        batch_op.drop_index("ix_interviews_agency_id_interview_date")

    op.drop_table("interviews")
