"""A zoning run's failure or skip reason is stored as a message code plus parameters.

``zoning_runs.error`` used to hold prose ("skipped: another run holds the lease (run #7)"). From
this revision it holds the English gettext msgid and ``error_params`` the values, rendered in the
reader's language when the run is read (fieldcheck.i18n.render). Runs written before keep their
text and get no params: a reader is shown that text as stored (a known English sentence is still
looked up in the catalogue), as findings written before revision 0008 are.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 04:30:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    # add_column is an ALTER TABLE on both backends (no batch copy of the runs table).
    op.add_column(
        "zoning_runs",
        sa.Column(
            "error_params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
    )


def downgrade():
    # A plain DROP COLUMN on both (SQLite 3.35+; the column has no constraint). A batch copy of
    # zoning_runs would drop the old table, and its results with it (ON DELETE CASCADE).
    op.drop_column("zoning_runs", "error_params")
