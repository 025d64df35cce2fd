"""Interview records keep the surveyor's short note (issue 16, interviews): about the interview's
circumstances, limited to 500 characters and documented as not for personal data.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 15:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_column("note")
