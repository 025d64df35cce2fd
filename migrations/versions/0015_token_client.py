"""After the issue 15 user trial: which app a token was issued for (ODK Collect, else the API).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 13:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    # Existing tokens stay NULL ("API"): which of them went into a Collect QR is not recorded.
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client", sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f("ck_api_tokens_client_known"), "client IS NULL OR client IN ('odk-collect')"
        )


def downgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_api_tokens_client_known"), type_="check")
        batch_op.drop_column("client")
