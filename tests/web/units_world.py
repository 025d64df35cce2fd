"""The demo world with a zoning run and one photo: what the unit page and the reports read."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import issue_token
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.units.models import Unit
from fieldcheck.zoning.lifecycle import execute
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.results import level_rows
from fieldcheck.zoning.services import create_run, current_period
from tests.evidence import images
from tests.helpers import upload


@dataclass
class UnitsWorld:
    """A scored demo world: the lowest-scored East Java unit, its latest visit and a photo."""

    app: Flask
    period: int
    run_id: int
    code: str  # a 35 unit (the lowest score there: red in the demo)
    name: str
    agency_code: str
    inspection_id: int
    sha256: str
    tokens: dict[str, str]  # bearer tokens of demo users for the API


def build(app: Flask) -> UnitsWorld:
    """Run zoning over the demo visits and upload a photo to the chosen unit's latest visit."""
    period = current_period()
    with app.app_context():
        run = create_run(region=None, period=period, dry_run=False, full=True)
        db.session.commit()
        run_id = run.id
        assert execute(run_id).state == "succeeded"
        run = db.session.get(ZoningRun, run_id)
        rows = [r for r in db.session.execute(level_rows(run, "unit")) if r.code.startswith("35")]
        lowest = min(rows, key=lambda r: r.score)
        unit = (
            db.session.execute(select(Unit).where(Unit.code == lowest.code)).unique().scalar_one()
        )
        inspection_id = (
            db.session.execute(
                select(Inspection.id)
                .where(Inspection.unit_id == unit.id)
                .order_by(Inspection.visit_date.desc())
            )
            .scalars()
            .first()
        )
        tokens = {}
        for username in ("admin", "supervisor-jatim", "supervisor-sumbar"):
            user = db.session.execute(select(User).where(User.username == username)).scalar_one()
            tokens[username] = issue_token(user)
        db.session.commit()
        code, name, agency_code = unit.code, unit.name, unit.agency.code
    response = upload(
        app.test_client(),
        f"/api/v1/inspections/{inspection_id}/photos",
        images.jpeg(seed=7),
        tokens["admin"],
    )
    assert response.status_code == 201, response.get_json()
    return UnitsWorld(
        app=app,
        period=period,
        run_id=run_id,
        code=code,
        name=name,
        agency_code=agency_code,
        inspection_id=inspection_id,
        sha256=response.get_json()["sha256"],
        tokens=tokens,
    )
