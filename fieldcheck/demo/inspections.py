"""Demo inspections: a few approved visits per demo unit this year, so zoning shows real zones.

They go through the same intake core (``inspections.services.submit``) as a phone's POST, then are
marked approved (what a supervisor's review does). Submission ids are derived from the unit and
visit number, so seeding twice replays instead of duplicating.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from fieldcheck.auth.models import User
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import utcnow
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.services import submit
from fieldcheck.units.models import Unit
from fieldcheck.zoning.services import mark_unit_dirty
from schemas.inspections import InspectionSubmissionSchema

VISITS_PER_UNIT = 3
NAMESPACE = uuid.UUID("6f1d2a40-5c1e-4b8e-9d7a-2a9e0c3f4b11")
COMPONENTS = ("persyaratan", "prosedur", "waktu", "biaya", "produk", "pengaduan")


def _quality(code: str) -> float:
    # A stable per-unit level of compliance, so the demo has red, yellow and green units.
    digest = hashlib.sha256(code.encode("utf-8")).digest()
    return 0.15 + 0.85 * digest[0] / 255


def _body(unit: Unit, visit: int, started: datetime, rng: random.Random) -> dict[str, Any]:
    methodology = get_registry().methodology("ombudsman-2019")
    assert methodology is not None  # noqa: S101 - shipped with the app
    q = _quality(unit.code)
    answers = {}
    for indicator in methodology.indicators:
        if indicator.scope != "unit":
            continue
        roll = rng.random()
        value = "yes" if roll < q else "partial" if roll < q + (1 - q) / 2 else "no"
        answers[indicator.code] = {"value": value}
    posted = []
    for service in unit.service_codes[:2]:
        shown = [c for c in COMPONENTS if rng.random() < q + 0.1]
        posted.append({"service": service, "components": shown, "requirements": []})
    return {
        "submission_id": str(uuid.uuid5(NAMESPACE, f"{unit.code}/{started.year}/{visit}")),
        "unit_code": unit.code,
        "methodology": methodology.id,
        "started_at": started.isoformat(),
        "finished_at": (started + timedelta(minutes=35)).isoformat(),
        "location": None if unit.lat is None else {"lat": unit.lat, "lon": unit.lon},
        "answers": answers,
        "posted_standards": posted,
        "notes": "Inspeksi demo (data contoh).",
    }


def seed_demo_inspections(user: User) -> int:
    """Submit and approve the demo visits of this year; returns how many were new."""
    tz = ZoneInfo("Asia/Jakarta")
    today = utcnow().astimezone(tz).date()
    start_of_year = today.replace(month=1, day=1)
    span = max((today - start_of_year).days, 0)
    schema = InspectionSubmissionSchema()
    created = 0
    units = db.session.execute(select(Unit).order_by(Unit.code)).unique().scalars().all()
    for unit in units:
        rng = random.Random(unit.code)  # noqa: S311 - demo data, not security
        for visit in range(VISITS_PER_UNIT):
            day = start_of_year + timedelta(days=span * (visit + 1) // (VISITS_PER_UNIT + 1))
            started = datetime.combine(day, time(9, 0), tzinfo=tz)
            body = _body(unit, visit, started, rng)
            outcome = submit(body, schema.load(body), user)
            if outcome.created:
                created += 1
                db.session.flush()
                db.session.execute(
                    update(Inspection)
                    .where(Inspection.id == outcome.inspection.id)
                    .values(status="approved")
                )
                mark_unit_dirty(unit.id, "review")
    return created
