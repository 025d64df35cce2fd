"""A rerun names the run it repeats (issue 16, after the user trial): `zoning_runs.rerun_of_id`,
so the run's page and API can say whether every number of the original was reproduced.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 17:25:03

"""

from alembic import op

from fieldcheck.migrating import add_fk_column

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    # In place, not a batch copy (fieldcheck.migrating): the copy would have to drop
    # zoning_runs, which results reference.
    add_fk_column("zoning_runs", "rerun_of_id", "zoning_runs")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # DROP COLUMN refuses a column with a constraint; nothing reads it below 0021.
        return
    op.drop_constraint("fk_zoning_runs_rerun_of_id_zoning_runs", "zoning_runs", type_="foreignkey")
    op.drop_column("zoning_runs", "rerun_of_id")
