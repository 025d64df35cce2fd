"""Zone tests: the app with the four-zone test methodology loaded beside the shipped one, and a
world of inspections scored with it, approved, run and published through the real code."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from fieldcheck import create_app
from fieldcheck.extensions import db
from tests.conftest import _empty_tables
from tests.helpers import auth, post_json

# The browser fixtures of the web tests, here serving this directory's four-zone app.
from tests.web.conftest import browser, chromium, live_server  # noqa: F401

#: The four-zone methodology (lowest band hitam, 0-31.99): tests/zones/methodologies.
METHODOLOGIES = Path(__file__).resolve().parent / "methodologies"
FOUR = "uji-empat-zona"


def four_zone_app(database_url: str, tmp_path: Path) -> Flask:
    """An app that also loads the test methodologies (the EXTRA_METHODOLOGY_DIRS setting)."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "EXTRA_METHODOLOGY_DIRS": str(METHODOLOGIES),
        }
    )
    app.instance_path = str(tmp_path / "instance")
    return app


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """As tests/conftest.py's ``app``, with the four-zone methodology loaded."""
    app = four_zone_app(database_url, tmp_path)
    yield app
    _empty_tables(app)


@dataclass
class FourZones:
    """Two inspections scored with the four-zone methodology: one all "no" in Makassar (province
    73's only unit: score 0, hitam) and one all "yes" in Sidoarjo (hijau); a published run."""

    app: Flask
    client: object
    admin: str
    hitam_inspection: dict
    hijau_inspection: dict
    run_id: int

    def get(self, url: str):
        """GET ``url`` as the national admin."""
        return self.client.get(url, headers=auth(self.admin))


def _post(client, factory, token: str, unit: str, value: str) -> dict:
    body = factory.all_yes_submission(unit, methodology=FOUR)
    for code in body["answers"]:
        body["answers"][code] = {"value": value}
    if value == "no":
        # Nothing posted: the standard obligation answered "no" means no component is shown.
        body["posted_standards"] = []
    else:
        body = factory.with_evidence(body, token)
    response = post_json(client, "/api/v1/inspections", body, token)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def four_zones(app, client, factory) -> FourZones:
    """The world of ``FourZones``, run with the four-zone methodology and published."""
    from fieldcheck.inspections.models import Inspection
    from fieldcheck.units.dirty import mark_unit_dirty
    from fieldcheck.zoning.lifecycle import execute
    from fieldcheck.zoning.services import create_run, current_period

    factory.units()
    _admin_id, admin = factory.user("admin")
    hitam = _post(client, factory, admin, "73.71-DUKCAPIL", "no")
    hijau = _post(client, factory, admin, "35.15-DUKCAPIL", "yes")
    with app.app_context():
        ids = [hitam["id"], hijau["id"]]
        db.session.execute(
            update(Inspection).where(Inspection.id.in_(ids)).values(status="approved")
        )
        for unit_id in db.session.execute(
            select(Inspection.unit_id).where(Inspection.id.in_(ids))
        ).scalars():
            mark_unit_dirty(unit_id, "review")
        run = create_run(methodology_id=FOUR, period=current_period(), full=True)
        db.session.commit()
        run_id = run.id
        assert execute(run_id).state == "succeeded"
    published = post_json(client, f"/api/v1/zoning-runs/{run_id}/publish", {}, admin)
    assert published.status_code == 200, published.get_json()
    return FourZones(app, client, admin, hitam, hijau, run_id)
