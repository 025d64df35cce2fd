"""Methodology versions that admins upload (issue 16): `methodology_versions`.

One row per uploaded (methodology id, version): the file's bytes as uploaded (TOML or JSON), their
sha256, status draft|published|retired and the effective dates publishing sets. A published (or
retired) row is immutable: triggers refuse to change its id, version, content, format, hash,
effective_from or publication stamp, to make it a draft again, or to delete it. Only status
(published -> retired), effective_to and `changed_at` may still change.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 15:30:00

"""

import sqlalchemy as sa
from alembic import op

from fieldcheck.columns import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

#: Columns a published row keeps forever.
FROZEN = (
    "methodology_id",
    "version",
    "content",
    "format",
    "content_hash",
    "effective_from",
    "published_at",
    "published_by",
    "uploaded_at",
    "uploaded_by",
)
MESSAGE = "methodology_versions: a published methodology version is immutable"


def upgrade():
    op.create_table(
        "methodology_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("methodology_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("changed_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'retired')",
            name=op.f("ck_methodology_versions_status"),
        ),
        sa.CheckConstraint(
            "format IN ('toml', 'json')", name=op.f("ck_methodology_versions_format")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_methodology_versions_version")),
        sa.CheckConstraint(
            "status = 'draft' OR (effective_from IS NOT NULL AND published_at IS NOT NULL)",
            name=op.f("ck_methodology_versions_published_dated"),
        ),
        sa.ForeignKeyConstraint(
            ["published_by"],
            ["users.id"],
            name=op.f("fk_methodology_versions_published_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_methodology_versions_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_methodology_versions")),
        sa.UniqueConstraint(
            "methodology_id", "version", name=op.f("uq_methodology_versions_methodology_id_version")
        ),
    )
    op.create_index(
        op.f("ix_methodology_versions_content_hash"),
        "methodology_versions",
        ["content_hash"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FROZEN)
        op.execute(
            f"""CREATE FUNCTION methodology_versions_immutable() RETURNS trigger AS $$
BEGIN
  IF OLD.status <> 'draft' THEN
    IF TG_OP = 'DELETE' OR NEW.status = 'draft' OR {changed} THEN
      RAISE EXCEPTION '{MESSAGE} (% version %)', OLD.methodology_id, OLD.version
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql"""
        )
        op.execute(
            "CREATE TRIGGER methodology_versions_immutable BEFORE UPDATE OR DELETE ON "
            "methodology_versions FOR EACH ROW EXECUTE FUNCTION methodology_versions_immutable()"
        )
    else:
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN)
        op.execute(
            "CREATE TRIGGER methodology_versions_no_update BEFORE UPDATE ON methodology_versions "
            f"WHEN OLD.status <> 'draft' AND (NEW.status = 'draft' OR {changed}) "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
        op.execute(
            "CREATE TRIGGER methodology_versions_no_delete BEFORE DELETE ON methodology_versions "
            f"WHEN OLD.status <> 'draft' BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS methodology_versions_immutable ON methodology_versions")
        op.execute("DROP FUNCTION IF EXISTS methodology_versions_immutable()")
    else:
        op.execute("DROP TRIGGER IF EXISTS methodology_versions_no_update")
        op.execute("DROP TRIGGER IF EXISTS methodology_versions_no_delete")
    op.drop_index(op.f("ix_methodology_versions_content_hash"), table_name="methodology_versions")
    op.drop_table("methodology_versions")
