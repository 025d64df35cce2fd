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
