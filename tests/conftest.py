"""Fixtures: an app on a real migrated database (SQLite, or PostgreSQL when
``FIELDCHECK_TEST_DATABASE_URL`` is set), a client, a CLI runner, and factories."""

from __future__ import annotations

import copy
import itertools
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from fieldcheck import create_app
from fieldcheck.extensions import db

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "docs" / "examples" / "inspection-dukcapil-sidoarjo.json"
#: Tables holding reference data created by migrations; every other table is emptied per test.
KEEP_TABLES = {"regions", "zones", "alembic_version"}


def _pg_url() -> str | None:
    return os.environ.get("FIELDCHECK_TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for the whole session: a fresh PostgreSQL schema or a SQLite file."""
    url = _pg_url()
    if url:
        if url.startswith("postgresql://"):
            url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    yield url


def _empty_tables(app: Flask) -> None:
    with app.app_context():
        tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Triggers off for this connection: the audit tables refuse TRUNCATE.
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                names = ", ".join(t.name for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                # Append-only tables refuse DELETE by trigger: lift the triggers while emptying.
                triggers = conn.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                ).all()
                for name, _sql in triggers:
                    conn.execute(text(f'DROP TRIGGER "{name}"'))
                for table in tables:
                    conn.execute(table.delete())
                for _name, sql in triggers:
                    conn.execute(text(sql))
        db.engine.dispose()


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """A fresh app on the session database; all non-reference tables are emptied afterwards."""
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    app.instance_path = str(tmp_path / "instance")
    yield app
    _empty_tables(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client speaking WSGI to the app (the whole Flask stack, no mocks)."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """A CLI runner for ``flask --app app ...`` commands."""
    return app.test_cli_runner()


class Factory:
    """Builds users, units and submissions in the test database."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def user(self, role: str = "surveyor", region: str | None = None, name: str | None = None):
        """Create a user; returns (user id, bearer token)."""
        from fieldcheck.auth.services import create_user

        with self.app.app_context():
            user, token = create_user(name or f"{role} {region or 'national'}", role, region)
            db.session.commit()
            return user.id, token

    def units(self, csv_text: str | None = None) -> None:
        """Import units (the demo set by default) through the real importer."""
        import io

        from fieldcheck.catalogue.registry import get_registry
        from fieldcheck.demo.seed import DEMO_UNITS
        from fieldcheck.units.services import import_units

        text_ = csv_text if csv_text is not None else DEMO_UNITS.read_text(encoding="utf-8")
        with self.app.app_context():
            import_units(io.StringIO(text_), set(get_registry().catalogue.services))
            db.session.commit()

    @staticmethod
    def submission(**overrides: Any) -> dict[str, Any]:
        """A valid checklist (the documented sample) with a new submission_id and overrides."""
        body = json.loads(SAMPLE.read_text(encoding="utf-8"))
        body["submission_id"] = str(uuid.uuid4())
        for key, value in overrides.items():
            body[key] = copy.deepcopy(value)
        return body

    @staticmethod
    def all_yes_submission(unit_code: str = "35.15-DUKCAPIL", **overrides: Any) -> dict[str, Any]:
        """A checklist where every item is present and lawful (scores 100)."""
        from fieldcheck.catalogue import load_methodology
        from fieldcheck.catalogue.registry import METHODOLOGY_DIR

        methodology = load_methodology(METHODOLOGY_DIR / "ombudsman-2019.toml")
        body = Factory.submission(unit_code=unit_code)
        body["answers"] = {
            i.code: {"value": "yes"} for i in methodology.indicators if i.scope == "unit"
        }
        # A service the unit offers (intake refuses others): KTP-el where it is offered.
        offered = Factory.demo_services().get(unit_code, ["adminduk.ktp-el"])
        service = "adminduk.ktp-el" if "adminduk.ktp-el" in offered else sorted(offered)[0]
        body["posted_standards"] = [
            {
                "service": service,
                "components": ["persyaratan", "prosedur", "waktu", "biaya", "produk", "pengaduan"],
                "fee_idr": 0,
                "max_days": 1,
                "requirements": ["kk", "usia-17-atau-kawin"]
                if service == "adminduk.ktp-el"
                else [],
            },
        ]
        body.update(copy.deepcopy(overrides))
        return body

    @staticmethod
    def demo_services() -> dict[str, list[str]]:
        """Unit code -> the services it offers, from the demo units file."""
        import csv

        from fieldcheck.demo.seed import DEMO_UNITS

        with DEMO_UNITS.open(encoding="utf-8") as fh:
            return {r["code"]: r["services"].split(";") for r in csv.DictReader(fh)}

    _photo_seeds = itertools.count(10_000)

    def with_evidence(self, body: dict[str, Any], token: str) -> dict[str, Any]:
        """Upload one new photo as ``token``'s user and attach it to every photo-required item
        answered "yes", as a phone does, so the checklist can be approved (issue 5 rule)."""
        from fieldcheck.catalogue.registry import get_registry
        from tests.evidence.images import jpeg
        from tests.helpers import upload

        data = jpeg(size=(64, 48), seed=next(self._photo_seeds))
        response = upload(self.app.test_client(), "/api/v1/photos", data, token)
        assert response.status_code in (200, 201), response.get_json()
        sha = response.get_json()["sha256"]
        with self.app.app_context():
            methodology = get_registry().methodology(body["methodology"])
            required = {i.code for i in methodology.indicators if i.photo_required}
        for code, answer in body["answers"].items():
            if code in required and answer["value"] == "yes":
                answer["photos"] = [sha]
        return body


@pytest.fixture
def factory(app: Flask) -> Factory:
    """Factories bound to the test app."""
    return Factory(app)


@pytest.fixture
def gunicorn(database_url: str, app: Flask, tmp_path: Path):
    """Start real gunicorn servers on the test database: ``gunicorn(**options)`` -> Gunicorn
    (see tests/serving.py); every server started is stopped after the test."""
    from tests.serving import Gunicorn

    started: list[Gunicorn] = []

    def start(**options: Any) -> Gunicorn:
        server = Gunicorn(database_url, tmp_path / "served", **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
