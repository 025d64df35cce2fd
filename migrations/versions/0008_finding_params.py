"""Findings are stored as a message code (a gettext msgid) plus parameters, rendered when read.

A finding's ``message`` used to be finished Indonesian text. From this revision the core stores
the English msgid with named placeholders in ``message`` and the values in ``params``; the API
renders them in the reader's language (fieldcheck.i18n.render). Rows written before keep their
Indonesian text and get no params, which is how the renderer knows to show them as stored: the
values they were written from (a service's name, a typed requirement) are not all kept beside
them, so rewriting them as msgids would lose words. Integrity flags need no column: they live in
``inspections.flags`` (JSON), where new flags carry a ``params`` key and old ones do not.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 04:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    # add_column is an ALTER TABLE on both backends (no batch copy of the findings table).
    op.add_column(
        "findings",
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
    )


def downgrade():
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_column("params")
