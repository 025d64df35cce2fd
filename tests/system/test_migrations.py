"""The schema comes only from migrations, and the migrations match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from fieldcheck.extensions import db


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == [], "models changed without a migration: run `flask --app app db migrate`"


def test_regions_are_seeded_by_the_migration(app):
    from sqlalchemy import func, select

    from fieldcheck.regions.models import Region

    with app.app_context():
        counts = dict(
            db.session.execute(select(Region.level, func.count()).group_by(Region.level)).all()
        )
    assert counts == {"province": 38, "regency": 514}


def test_upgrading_a_database_with_runs_keeps_them(tmp_path):
    """0006 alters tables that already hold runs and results (an existing SQLite file)."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from fieldcheck import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}", "TESTING": True})
    with app.app_context():
        upgrade(revision="0005")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO zoning_runs (id, methodology_id, methodology_version, "
                    "methodology_hash, catalogue_hash, period, scope, requested_mode, mode, "
                    'is_dry_run, state, "trigger", created_at, progress_done, progress_total, '
                    "counts, is_official) VALUES (1, 'm', 1, 'h', 'c', 2026, '', 'full', 'full', "
                    "0, 'succeeded', 'cli', '2026-01-01 00:00:00', 0, 0, '{}', 1)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO zoning_results (run_id, level, code, name, score, zone, grade, "
                    "label, rank, members) VALUES (1, 'unit', 'U', 'U', 75.5, 'kuning', 'B', "
                    "'Baik', 1, 2)"
                )
            )
        upgrade()
        downgrade(revision="0005")
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id, anchor_run_id FROM zoning_runs")).all() == [
                (1, None)
            ]
            assert conn.execute(text("SELECT code, is_removed FROM zoning_results")).all() == [
                ("U", 0)
            ]
        db.engine.dispose()


def test_overrides_get_the_period_they_were_made_in(tmp_path):
    """0007: existing overrides get the year (WIB) they were made in; a downgrade keeps one
    active override per unit (the newest) and withdraws the rest instead of deleting them."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from fieldcheck import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}", "TESTING": True})
    with app.app_context():
        upgrade(revision="0006")
        with db.engine.begin() as conn:
            for statement in (
                "INSERT INTO users (id, name, role, is_active, created_at) "
                "VALUES (1, 'Admin', 'admin', 1, '2025-01-01 00:00:00')",
                "INSERT INTO agencies (id, code, name, kind, region_code, created_at, updated_at) "
                "VALUES (1, 'A', 'A', 'pemkab', '35.15', '2025-01-01 00:00:00', "
                "'2025-01-01 00:00:00')",
                "INSERT INTO units (id, code, name, agency_id, region_code, unit_type, "
                "created_at, updated_at) VALUES (1, 'U', 'U', 1, '35.15', 'disdukcapil', "
                "'2025-01-01 00:00:00', '2025-01-01 00:00:00')",
                # 2025-12-31 18:00 UTC is already 2026 in WIB.
                "INSERT INTO unit_overrides (id, unit_id, zone, reason, created_by, created_at) "
                "VALUES (1, 1, 'merah', 'r', 1, '2025-12-31 18:00:00')",
            ):
                conn.execute(text(statement))
        upgrade()
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT id, period FROM unit_overrides")).all() == [(1, 2026)]
            conn.execute(
                text(
                    "INSERT INTO unit_overrides (id, unit_id, period, zone, reason, created_by, "
                    "created_at) VALUES (2, 1, 2025, 'hijau', 'r', 1, '2026-02-01 00:00:00')"
                )
            )
        downgrade(revision="0006")
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, withdrawn_at IS NULL FROM unit_overrides ORDER BY id")
            ).all()
            assert rows == [(1, 0), (2, 1)]
        upgrade()
        db.engine.dispose()
