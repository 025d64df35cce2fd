"""The app connects as a role that owns nothing: what it may and may not do (real PostgreSQL,
real gunicorn, the real ``flask db grant-app-role``)."""

from __future__ import annotations

import os
import re

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool

from tests.deploy.conftest import flask_cli, needs_postgresql, url_as
from tests.helpers import auth
from tests.serving import Gunicorn

#: What an insider holding the app's credentials tries; each must be refused (42501).
REFUSED = [
    "UPDATE audit_log SET action = 'x'",
    "DELETE FROM audit_log",
    "TRUNCATE audit_log",
    "TRUNCATE inspections",
    "DROP TABLE inspections",
    "ALTER TABLE inspections ADD COLUMN sneaky integer",
    "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "CREATE TABLE sneaky (id integer)",
    "UPDATE alembic_version SET version_num = 'x'",
]


def _operator_env(database_url: str, app_role: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDCHECK_")}
    env["FIELDCHECK_DATABASE_URL"] = url_as(database_url, app_role)
    env["FIELDCHECK_MIGRATION_DATABASE_URL"] = database_url  # the tables' owner
    env["FIELDCHECK_SECRET_KEY"] = "test-secret-key"
    return env


def _refused(engine, statement: str) -> bool:
    with engine.connect() as conn:
        try:
            conn.execute(text(statement))
        except ProgrammingError as exc:
            return getattr(exc.orig, "sqlstate", None) == "42501"  # insufficient_privilege
        finally:
            conn.rollback()
    return False


def test_the_app_runs_as_a_role_that_owns_nothing(app, factory, database_url, login_role, tmp_path):
    needs_postgresql(database_url)
    env = _operator_env(database_url, login_role)
    # Migrations and grants run as the owner, the app role named by DATABASE_URL.
    current = flask_cli("db", "current", env=env)
    assert "(head)" in current.stdout, current.stdout + current.stderr
    granted = flask_cli("db", "grant-app-role", env=env)
    assert "append-only audit_log" in granted.stdout
    assert "read-only alembic_version" in granted.stdout

    factory.units()
    _, token = factory.user("surveyor", "35")
    server = Gunicorn(url_as(database_url, login_role), tmp_path / "served").start()
    try:
        body = factory.submission()
        answer = requests.post(
            f"{server.url}/api/v1/inspections", json=body, headers=auth(token), timeout=30
        )
        assert answer.status_code == 201, answer.text
        read = requests.get(
            f"{server.url}/api/v1/inspections/{answer.json()['id']}",
            headers=auth(token),
            timeout=30,
        )
        assert read.status_code == 200, read.text
    finally:
        server.stop()
    assert "Traceback" not in server.output()

    as_app = create_engine(url_as(database_url, login_role), poolclass=NullPool)
    try:
        with as_app.connect() as conn:
            # It wrote the audit entry of the submission, and may read the log back.
            assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() >= 1
        refused = {statement: _refused(as_app, statement) for statement in REFUSED}
        assert all(refused.values()), refused
    finally:
        as_app.dispose()


def test_grants_are_exact_and_cover_future_tables(app, database_url, login_role):
    needs_postgresql(database_url)
    owner = create_engine(database_url, poolclass=NullPool)
    as_app = create_engine(url_as(database_url, login_role), poolclass=NullPool)
    env = _operator_env(database_url, login_role)
    try:
        # A privilege granted by hand is gone after the next grant-app-role.
        with owner.begin() as conn:
            conn.execute(text(f"GRANT TRUNCATE, UPDATE ON audit_log TO {login_role}"))
        flask_cli("db", "grant-app-role", login_role, env=env)
        assert _refused(as_app, "TRUNCATE audit_log")
        assert _refused(as_app, "UPDATE audit_log SET action = 'x'")

        # A table a later migration adds (before grant-app-role runs again): readable and
        # insertable, nothing more, so a new audit_* table is never updatable in that window.
        with owner.begin() as conn:
            conn.execute(text("CREATE TABLE audit_future (id serial PRIMARY KEY, v integer)"))
            conn.execute(text("CREATE TABLE plain_future (id serial PRIMARY KEY, v integer)"))
        with as_app.begin() as conn:
            conn.execute(text("INSERT INTO audit_future (v) VALUES (1)"))
            conn.execute(text("INSERT INTO plain_future (v) VALUES (1)"))
        assert _refused(as_app, "UPDATE plain_future SET v = 2")
        flask_cli("db", "grant-app-role", env=env)  # after the upgrade, as the runbook says
        with as_app.begin() as conn:
            assert conn.execute(text("UPDATE plain_future SET v = 2")).rowcount == 1
        assert _refused(as_app, "UPDATE audit_future SET v = 2")
        assert _refused(as_app, "DELETE FROM audit_future")
    finally:
        with owner.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS audit_future, plain_future"))
        owner.dispose()
        as_app.dispose()


@pytest.mark.parametrize("who", ["owner", "superuser", "missing"])
def test_a_role_that_would_hold_too_much_is_refused(app, database_url, login_role, who):
    needs_postgresql(database_url)
    env = _operator_env(database_url, login_role)
    owner = create_engine(database_url, poolclass=NullPool)
    try:
        with owner.connect() as conn:
            current_user = conn.execute(text("SELECT current_user")).scalar()
        if who == "superuser":
            with owner.begin() as conn:
                conn.execute(text(f"ALTER ROLE {login_role} SUPERUSER"))
        role = {"owner": current_user, "superuser": login_role, "missing": "fc_nobody_here"}[who]
        result = flask_cli("db", "grant-app-role", role, env=env, check=False)
        assert result.returncode == 1
        expected = {"owner": "is the owner", "superuser": "SUPERUSER", "missing": "does not exist"}
        assert expected[who] in result.stderr
    finally:
        owner.dispose()


def test_grant_sql_can_be_reviewed_without_changing_anything(app, database_url, login_role):
    needs_postgresql(database_url)
    result = flask_cli("db", "grant-app-role", "--sql", env=_operator_env(database_url, login_role))
    grant = re.search(f"GRANT SELECT, INSERT ON TABLE ([^;]*) TO {login_role};", result.stdout)
    assert grant and "public.audit_log" in grant.group(1).split(", "), result.stdout
    assert "TRUNCATE" not in result.stdout.replace("REVOKE ALL", "")
    owner = create_engine(database_url, poolclass=NullPool)
    try:
        with owner.connect() as conn:
            held = conn.execute(
                text("SELECT has_table_privilege(:r, 'audit_log', 'SELECT')"), {"r": login_role}
            ).scalar()
        assert held is False
    finally:
        owner.dispose()
