"""Demo inspections: a few approved visits per demo unit this year, so zoning shows real zones.

Each goes the way a real one does: submitted through the intake core (``inspections.services.
submit``, as a phone's POST) by a demo surveyor of the unit's province, then approved through the
review service by the demo admin, who first waives the photo evidence demo visits do not carry
(so every approval has its review row and audit entries, as decisions items 24-30 require). One
surveyor visits one unit a day, so no visit is flagged as impossible travel. Submission ids are
derived from the unit and visit number, so seeding twice replays instead of duplicating.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import create_user
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import utcnow
from fieldcheck.evidence.blockers import waive
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.services import submit
from fieldcheck.regions.models import Region
from fieldcheck.review.decisions import review
from fieldcheck.units.models import Unit
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


def send(body: dict[str, Any], surveyor: User) -> Any:
    """Submit ``body`` as the surveyor's phone does (the wire schema, then intake)."""
    return submit(body, InspectionSubmissionSchema().load(body), surveyor)


def _surveyor(province: str, surveyors: dict[str, User]) -> User:
    """The demo surveyor of ``province`` (created once; the printed demo tokens are seed.py's)."""
    if province not in surveyors:
        region = db.session.get(Region, province)
        name = f"Surveyor {region.name if region else province} (demo)"
        found = db.session.execute(
            select(User).where(User.name == name, User.role == "surveyor")
        ).scalar_one_or_none()
        surveyors[province] = found or create_user(name, "surveyor", province)[0]
    return surveyors[province]


def _approve(inspection: Inspection, admin: User) -> None:
    """Approve as a supervisor would: waive the photos a demo visit lacks, then review."""
    for flag in inspection.flags or ():
        if flag.get("code") == "evidence_missing":
            indicator = flag["details"]["indicator"]
            waive(inspection, indicator, "Data demo: kunjungan contoh tanpa foto bukti.", admin)
    review(inspection, "approve", None, admin)


def seed_demo_inspections(admin: User, surveyors: dict[str, User] | None = None) -> int:
    """Submit and approve the demo visits of this year; returns how many were new."""
    tz = ZoneInfo("Asia/Jakarta")
    today = utcnow().astimezone(tz).date()
    start_of_year = today.replace(month=1, day=1)
    span = max((today - start_of_year).days - 14, 0)
    schema = InspectionSubmissionSchema()
    created = 0
    surveyors = dict(surveyors or {})
    units = db.session.execute(select(Unit).order_by(Unit.code)).unique().scalars().all()
    per_province: dict[str, int] = {}
    for unit in units:
        province = unit.region_code.split(".")[0]
        surveyor = _surveyor(province, surveyors)
        # One unit a day for each province's surveyor: never two places at once.
        offset = per_province.get(province, 0)
        per_province[province] = offset + 1
        rng = random.Random(unit.code)  # noqa: S311 - demo data, not security
        for visit in range(VISITS_PER_UNIT):
            day = start_of_year + timedelta(
                days=span * (visit + 1) // (VISITS_PER_UNIT + 1) + offset
            )
            started = datetime.combine(day, time(9, 0), tzinfo=tz)
            body = _body(unit, visit, started, rng)
            outcome = submit(body, schema.load(body), surveyor)
            if outcome.created:
                created += 1
                db.session.flush()
                _approve(outcome.inspection, admin)
    return created
