"""Agency results from dimensions (issue 16): the app with the test copies of the 2022 and 2025
methodologies loaded, and helpers that put observations and interviews in the real database.

Inspections go through the real intake API. Interview rows are written through the model as
intake stores them (``dimensions`` from ``core.dimensions.interview_dimensions``): their intake
API is another helper's work, and the run reads only the table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from fieldcheck import create_app
from fieldcheck.extensions import db
from tests.conftest import _empty_tables
from tests.helpers import auth, post_json

# The browser fixtures of the web tests, here serving this directory's app.
from tests.web.conftest import browser, chromium, live_server  # noqa: F401

METHODOLOGIES = Path(__file__).resolve().parent / "methodologies"
M2022 = "uji-2022"
EDGES = "uji-tepi"
M2025 = "uji-2025"
#: Inside the current period (the sample inspection's visit is on this day).
ON = date(2026, 11, 20)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """As tests/conftest.py's ``app``, with the test methodologies loaded."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "EXTRA_METHODOLOGY_DIRS": str(METHODOLOGIES),
        }
    )
    app.instance_path = str(tmp_path / "instance")
    yield app
    _empty_tables(app)


class Field:
    """Puts a world's inputs in the database and runs zoning over them."""

    def __init__(self, app: Flask, client, factory) -> None:
        self.app, self.client, self.factory = app, client, factory
        factory.units()
        self.admin_id, self.admin = factory.user("admin")

    def get(self, url: str, language: str = "en"):
        """GET ``url`` as the national admin."""
        headers = {**auth(self.admin), "Accept-Language": language}
        return self.client.get(url, headers=headers)

    def inspect(self, methodology: str, unit: str, answers: dict[str, int]) -> int:
        """Post an inspection of ``unit`` through the API and approve it; returns its id."""
        from fieldcheck.inspections.models import Inspection

        body = self.factory.submission(
            unit_code=unit,
            methodology=methodology,
            answers={code: {"value": value} for code, value in answers.items()},
            posted_standards=[],
        )
        response = post_json(self.client, "/api/v1/inspections", body, self.admin)
        assert response.status_code == 201, response.get_json()
        inspection_id = response.get_json()["id"]
        with self.app.app_context():
            db.session.execute(
                update(Inspection).where(Inspection.id == inspection_id).values(status="approved")
            )
            db.session.commit()
        return inspection_id

    def interview(
        self,
        methodology_id: str,
        instrument: str,
        agency: str,
        answers: dict[str, int],
        unit: str | None = None,
        status: str = "received",
        on: date = ON,
    ) -> int:
        """Store an interview record as intake stores it; returns its id."""
        from fieldcheck.catalogue.registry import get_registry
        from fieldcheck.core.dimensions import interview_dimensions
        from fieldcheck.interviews.models import Interview
        from fieldcheck.units.models import Agency, Unit

        with self.app.app_context():
            m = get_registry().methodology(methodology_id)
            dims = interview_dimensions(m, instrument, answers, on)
            row = Interview(
                submission_id=uuid.uuid4(),
                payload_hash="0" * 64,
                instrument=instrument,
                level=m.instrument(instrument).level,
                methodology_id=m.id,
                methodology_version=m.version,
                methodology_hash=m.content_hash,
                agency_id=db.session.execute(
                    select(Agency.id).where(Agency.code == agency)
                ).scalar_one(),
                unit_id=None
                if unit is None
                else db.session.execute(select(Unit.id).where(Unit.code == unit)).scalar_one(),
                surveyor_id=self.admin_id,
                interview_date=on,
                respondent={"role": instrument},
                answers=answers,
                dimensions={k: None if v is None else str(v) for k, v in dims.items()},
                status=status,
            )
            db.session.add(row)
            db.session.commit()
            return row.id

    def run(self, methodology: str, dry_run: bool = False, region: str | None = None) -> int:
        """Queue and execute a full run; returns its id (it must succeed)."""
        from fieldcheck.zoning.lifecycle import execute
        from fieldcheck.zoning.services import create_run, current_period

        with self.app.app_context():
            run = create_run(
                methodology_id=methodology,
                period=current_period(),
                region=region,
                dry_run=dry_run,
                full=True,
            )
            db.session.commit()
            outcome = execute(run.id)
            assert outcome.state == "succeeded", outcome.message
            return run.id


@pytest.fixture
def field(app, client, factory) -> Field:
    """A ``Field`` over the demo units with a national admin."""
    return Field(app, client, factory)
