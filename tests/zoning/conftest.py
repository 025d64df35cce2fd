"""Zoning fixtures: inspections submitted through the real intake, approved in the database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from fieldcheck.extensions import db
from tests.helpers import post_json

PERIOD = 2026


class Zoning:
    """Builds inspections for zoning tests and runs zoning through the CLI."""

    def __init__(self, app, client, runner, factory) -> None:
        self.app = app
        self.client = client
        self.runner = runner
        self.factory = factory
        factory.units()
        self.admin_id, self.admin = factory.user("admin")

    def inspect(
        self,
        unit_code: str,
        noes: int = 0,
        day: str = f"{PERIOD}-03-10",
        approve: bool = True,
    ) -> int:
        """Submit an all-yes checklist with the first ``noes`` unit indicators answered "no"."""
        body = self.factory.all_yes_submission(
            unit_code,
            started_at=f"{day}T09:00:00+07:00",
            finished_at=f"{day}T09:30:00+07:00",
        )
        for code in sorted(body["answers"])[:noes]:
            body["answers"][code] = {"value": "no"}
        response = post_json(self.client, "/api/v1/inspections", body, self.admin)
        assert response.status_code == 201, response.get_json()
        inspection_id = response.get_json()["id"]
        if approve:
            self.approve(inspection_id)
        return inspection_id

    def approve(self, *ids: int, status: str = "approved") -> None:
        """Set the status directly (what review will do) and mark the units dirty like it will."""
        from fieldcheck.inspections.models import Inspection
        from fieldcheck.units.dirty import mark_unit_dirty

        with self.app.app_context():
            db.session.execute(
                update(Inspection).where(Inspection.id.in_(ids)).values(status=status)
            )
            for unit_id in db.session.execute(
                select(Inspection.unit_id).where(Inspection.id.in_(ids))
            ).scalars():
                mark_unit_dirty(unit_id, "review")
            db.session.commit()

    def scores(self) -> dict[int, tuple[str, Decimal | None, str]]:
        """Stored inspection scores: id -> (unit code, score, status)."""
        from fieldcheck.inspections.models import Inspection
        from fieldcheck.units.models import Unit

        with self.app.app_context():
            rows = db.session.execute(
                select(Inspection.id, Unit.code, Inspection.score, Inspection.status).join(
                    Unit, Inspection.unit_id == Unit.id
                )
            ).all()
            return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def rescore(self, *args: str) -> Any:
        """Run ``flask rescore --period 2026 --no-progress ...``; returns the click result."""
        result = self.runner.invoke(
            args=["rescore", "--period", str(PERIOD), "--no-progress", *args]
        )
        return result

    def rows(self, run_id: int) -> list[tuple]:
        """Every result row of a run (unit rows resolved as readers see them), comparable
        across runs."""
        from fieldcheck.zoning.models import ZoningRun
        from fieldcheck.zoning.results import level_rows

        with self.app.app_context():
            run = db.session.get(ZoningRun, run_id)
            out = []
            for level in ("agency", "province", "regency", "unit"):
                for r in db.session.execute(level_rows(run, level)):
                    out.append(
                        (
                            r.level,
                            r.code,
                            r.name,
                            r.region_code,
                            r.agency_code,
                            r.score,
                            r.zone,
                            r.grade,
                            r.rank,
                            r.members,
                            sorted(r.inspection_ids or []),
                        )
                    )
            return sorted(out, key=lambda row: (row[0], row[1]))

    def run(self, run_id: int):
        """The run row (detached, attributes loaded)."""
        from fieldcheck.zoning.models import ZoningRun

        with self.app.app_context():
            run = db.session.get(ZoningRun, run_id)
            db.session.expunge(run)
            return run

    def last_run_id(self) -> int:
        """Id of the newest run."""
        from fieldcheck.zoning.models import ZoningRun

        with self.app.app_context():
            return db.session.execute(select(db.func.max(ZoningRun.id))).scalar_one()


@pytest.fixture
def zoning(app, client, runner, factory) -> Zoning:
    """Demo units, an admin, and helpers to build inspections and run zoning."""
    return Zoning(app, client, runner, factory)
