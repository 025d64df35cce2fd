"""OpenRosa (issue 15): the photos a submission names by file name, awaited until they arrive.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 12:30:00

"""

import sqlalchemy as sa
from alembic import op

import fieldcheck.columns  # noqa: F401 - custom column types

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "openrosa_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("indicator_code", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("received_at", fieldcheck.columns.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "length(filename) BETWEEN 1 AND 255",
            name=op.f("ck_openrosa_attachments_filename_length"),
        ),
        sa.CheckConstraint(
            "(sha256 IS NULL AND received_at IS NULL) OR "
            "(sha256 IS NOT NULL AND received_at IS NOT NULL)",
            name=op.f("ck_openrosa_attachments_received_with_sha256"),
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_openrosa_attachments_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_openrosa_attachments")),
        sa.UniqueConstraint(
            "inspection_id",
            "indicator_code",
            name=op.f("uq_openrosa_attachments_inspection_id_indicator_code"),
        ),
    )


def downgrade():
    op.drop_table("openrosa_attachments")
