"""Demo visits and run under ombudsman-2022 (issue 16): the units of the demo's two
interviewed agencies (fieldcheck.demo.interviews) get an approved 2022 visit each, and one
national ombudsman-2022 zoning run is computed, so a fresh ``make run`` shows the 2022 method:
Sidoarjo's government (PEMKAB-35.15) complete with a zone, Padang's (PEMKOT-13.71) incomplete
(29 of 30 service users).

Visits go through the intake and review services like every demo visit (seeded ids: seeding
again replays them); the run is not published (the default methodology's run stays the
official one) and is computed again only when a 2022 visit or interview was new.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import utcnow
from fieldcheck.demo.inspections import COMPONENTS, _approve, _surveyor
from fieldcheck.demo.interviews import AGENCIES, METHODOLOGY
from fieldcheck.extensions import db
from fieldcheck.inspections.services import submit
from fieldcheck.units.models import Agency, Unit
from fieldcheck.zoning.lifecycle import execute
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.services import create_run, current_period
from schemas.inspections import InspectionSubmissionSchema

log = logging.getLogger(__name__)

NAMESPACE = uuid.UUID("3c7e9a52-1f4b-4d8e-b6a0-8e5d2f1c9b47")


def _body(unit: Unit, n: int, started: datetime) -> dict[str, Any]:
    methodology = get_registry().methodology(METHODOLOGY)
    assert methodology is not None  # noqa: S101 - checked by the caller
    answers: dict[str, Any] = {}
    for i, indicator in enumerate(methodology.observed_indicators):
        if indicator.scope != "unit":
            continue
        if indicator.is_scale:
            _kind, _low, high = indicator.answer
            answers[indicator.code] = {"value": high - (n + i) % 2}  # mostly good: 3 or 2
        else:
            answers[indicator.code] = {"value": "yes"}
    posted = [
        {"service": service, "components": list(COMPONENTS), "requirements": []}
        for service in unit.service_codes[:2]
    ]
    return {
        "submission_id": str(uuid.uuid5(NAMESPACE, f"{unit.code}/{started.year}/{n}")),
        "unit_code": unit.code,
        "methodology": METHODOLOGY,
        "started_at": started.isoformat(),
        "finished_at": (started + timedelta(minutes=40)).isoformat(),
        "location": None if unit.lat is None else {"lat": unit.lat, "lon": unit.lon},
        "answers": answers,
        "posted_standards": posted,
        "notes": "Inspeksi demo metode 2022 (data contoh).",
    }


def seed_2022_visits(admin: User, surveyors: dict[str, User]) -> int:
    """One approved ombudsman-2022 visit to each unit of the agencies the demo interviews
    cover; how many were new (0 when ombudsman-2022 is not loaded)."""
    if get_registry().methodology(METHODOLOGY) is None:
        return 0
    tz = ZoneInfo("Asia/Jakarta")
    today = utcnow().astimezone(tz).date()
    schema = InspectionSubmissionSchema()
    surveyors = dict(surveyors)
    created = 0
    for agency_code in AGENCIES:
        agency = db.session.execute(
            select(Agency).where(Agency.code == agency_code)
        ).scalar_one_or_none()
        if agency is None or agency.region_code is None:
            continue
        surveyor = _surveyor(agency.region_code.split(".")[0], surveyors)
        units = (
            db.session.execute(select(Unit).where(Unit.agency_id == agency.id).order_by(Unit.code))
            .unique()
            .scalars()
            .all()
        )
        for n, unit in enumerate(units):
            # In the afternoon, days apart, this year: the surveyor's morning demo visits and
            # these never overlap, and it stays inside the current period.
            day = max(today - timedelta(days=3 + 2 * n), date(today.year, 1, 1))
            started = datetime.combine(day, time(14, 0 + 10 * n), tzinfo=tz)
            body = _body(unit, n, started)
            outcome = submit(body, schema.load(body), surveyor)
            if outcome.created:
                created += 1
                db.session.flush()
                _approve(outcome.inspection, admin)
    return created


def run_2022(admin: User, inputs_changed: bool) -> ZoningRun | None:
    """A national ombudsman-2022 zoning run of this year (not published), computed when the
    2022 inputs changed or there is none yet; None otherwise or when it did not succeed.
    Commits (the run reads committed data on its own connection)."""
    if get_registry().methodology(METHODOLOGY) is None:
        return None
    period = current_period()
    existing = db.session.execute(
        select(ZoningRun.id).where(
            ZoningRun.methodology_id == METHODOLOGY,
            ZoningRun.period == period,
            ZoningRun.state == "succeeded",
            ZoningRun.is_dry_run.is_(False),
        )
    ).first()
    if existing is not None and not inputs_changed:
        return None
    db.session.commit()
    run = create_run(methodology_id=METHODOLOGY, period=period, trigger="cli", user=admin)
    db.session.commit()
    run_id = run.id
    outcome = execute(run_id)
    if outcome.state != "succeeded":
        log.warning("demo 2022 zoning run #%s did not succeed: %s", run_id, outcome.message)
        return None
    return db.session.get(ZoningRun, run_id)
