"""Settings the deployment relies on: the owner's URL for migrations, gunicorn's variables."""

from __future__ import annotations

from fieldcheck.config import load_config


def test_gunicorn_variables_share_the_environment_file(tmp_path):
    # deploy/gunicorn.conf.py reads these; the app must not refuse them as unknown settings.
    env = {
        "FIELDCHECK_BIND": "127.0.0.1:5000",
        "FIELDCHECK_WORKERS": "4",
        "FIELDCHECK_THREADS": "4",
    }
    config = load_config(environ=env, instance_path=str(tmp_path))
    assert "WORKERS" not in config


def test_migration_url_uses_the_shipped_driver(tmp_path):
    env = {
        "FIELDCHECK_DATABASE_URL": "postgresql://fieldcheck_app@db/fieldcheck",
        "FIELDCHECK_MIGRATION_DATABASE_URL": "postgresql://fieldcheck_owner@db/fieldcheck",
    }
    config = load_config(environ=env, instance_path=str(tmp_path))
    assert config["MIGRATION_DATABASE_URL"] == "postgresql+psycopg://fieldcheck_owner@db/fieldcheck"
    assert load_config(environ={}, instance_path=str(tmp_path))["MIGRATION_DATABASE_URL"] == ""
