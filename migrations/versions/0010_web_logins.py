"""People log in to the web app: usernames, argon2 password hashes, lockout, server-side sessions.

Users created before this revision have no username and no password: they keep their API tokens
and cannot log in to the web app until an admin gives them a username and a password
(``flask --app app users set-password`` or the admin page).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 06:40:00

"""

import sqlalchemy as sa
from alembic import op

from fieldcheck.columns import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    # add_column, not a batch copy: SQLite rebuilding ``users`` would trip the foreign keys that
    # point at it (tokens, audit, overrides). A unique index works the same on both backends.
    op.add_column("users", sa.Column("username", sa.String(64), nullable=True))
    op.add_column("users", sa.Column("password_hash", sa.String(255), nullable=True))
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "users", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("users", sa.Column("locked_until", UTCDateTime(timezone=True), nullable=True))
    op.create_index("ix_users_username", "users", ["username"], unique=True)
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_web_sessions_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])


def downgrade():
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index("ix_users_username", table_name="users")
    # Plain DROP COLUMN on both (SQLite 3.35+), for the reason given in upgrade().
    for column in (
        "locked_until",
        "failed_logins",
        "must_change_password",
        "password_hash",
        "username",
    ):
        op.drop_column("users", column)
