"""Fixtures for the deployment tests: PostgreSQL roles made for one test and dropped after it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"


def needs_postgresql(database_url: str) -> None:
    """Skip with the reason on SQLite: roles, pg_dump and grants are PostgreSQL's."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: set FIELDCHECK_TEST_DATABASE_URL (make test-pg)")


def url_as(database_url: str, role: str, database: str | None = None) -> str:
    """The test database's URL logging in as ``role`` (the test cluster trusts 127.0.0.1)."""
    url = make_url(database_url).set(username=role, password=None)
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


def flask_cli(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    """``flask --app app ARGS`` as an operator runs it: a real process with its own environment."""
    result = subprocess.run(  # noqa: S603 - our own CLI
        [str(FLASK), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"flask {' '.join(args)}: {result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def login_role(database_url: str) -> Iterator[str]:
    """A fresh LOGIN role (owns nothing, holds nothing); dropped with its grants afterwards."""
    needs_postgresql(database_url)
    role = f"fc_app_{uuid.uuid4().hex[:10]}"
    owner = create_engine(database_url, poolclass=NullPool)
    with owner.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    try:
        yield role
    finally:
        with owner.begin() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                {"r": role},
            )
            # Revokes its privileges and the owner's default privileges for it, then the role.
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        owner.dispose()
