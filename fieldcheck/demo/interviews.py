"""Demo interviews (issue 16): under ombudsman-2022, Sidoarjo's government (PEMKAB-35.15) has
every quota met and Padang's (PEMKOT-13.71) is one service user short (29 of 30), so the
"Cakupan wawancara" page shows both a complete and a short agency.

Each record goes through the interview intake (the wire schema, then ``interviews.services.
submit``) as a phone's POST, by the demo surveyor of the province. Submission ids are derived from
the agency, instrument and number, so seeding twice replays instead of duplicating.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.clock import utcnow
from fieldcheck.demo.inspections import _surveyor
from fieldcheck.extensions import db
from fieldcheck.interviews.respondents import AGE_BANDS, GENDERS, roles_for
from fieldcheck.interviews.services import submit
from fieldcheck.units.models import Agency, Unit
from schemas.interviews import InterviewSubmissionSchema

METHODOLOGY = "ombudsman-2022"
NAMESPACE = uuid.UUID("0b6f3c4e-8d2a-4f6b-9a71-5e2c7d9f1a03")
#: Agency -> how many service-user records it gets (the quota is 30).
AGENCIES = {"PEMKAB-35.15": 30, "PEMKOT-13.71": 29}


def _date(n: int) -> str:
    """A date this year (WIB) some days back, never before 1 January."""
    today = utcnow().astimezone(ZoneInfo("Asia/Jakarta")).date()
    return max(today - timedelta(days=n % 40), date(today.year, 1, 1)).isoformat()


def _body(agency: str, instrument: Any, n: int, subject: dict[str, str]) -> dict[str, Any]:
    methodology = get_registry().methodology(METHODOLOGY)
    assert methodology is not None  # noqa: S101 - checked by the caller
    answers: dict[str, Any] = {}
    for i, question in enumerate(methodology.questions(instrument.code)):
        if question.is_scale:
            _kind, _low, high = question.answer
            answers[question.code] = high - (n + i) % 2  # mostly good: 3 or 2
        else:
            answers[question.code] = "yes" if (n + i) % 3 else "partial"
    roles = roles_for(instrument.code)
    return {
        "submission_id": str(uuid.uuid5(NAMESPACE, f"{agency}/{instrument.code}/{n}")),
        "methodology": METHODOLOGY,
        "instrument": instrument.code,
        **subject,
        "interview_date": _date(n),
        "respondent": {
            "role": roles[n % len(roles)],
            "gender": GENDERS[n % 2],
            "age_band": AGE_BANDS[n % 5],
        },
        "answers": answers,
    }


def seed_demo_interviews(surveyors: dict[str, User]) -> int:
    """Post the demo records (none when ombudsman-2022 is not loaded); how many were new."""
    methodology = get_registry().methodology(METHODOLOGY)
    if methodology is None or not methodology.instruments:
        return 0
    schema = InterviewSubmissionSchema()
    created = 0
    for agency_code, users in AGENCIES.items():
        agency = db.session.execute(
            select(Agency).where(Agency.code == agency_code)
        ).scalar_one_or_none()
        if agency is None or agency.region_code is None:
            continue
        surveyor = _surveyor(agency.region_code.split(".")[0], surveyors)
        units = list(
            db.session.execute(
                # Every unit of the agency: each unit visited in the period is sampled by a
                # 2022 run (the demo visits every unit), so each needs its staff interviews.
                select(Unit.code).where(Unit.agency_id == agency.id).order_by(Unit.code)
            ).scalars()
        )
        for instrument in methodology.instruments:
            if instrument.level == "unit":
                subjects = [{"unit": code} for code in units for _ in range(instrument.quota)]
            else:
                count = users if instrument.code == "pengguna" else instrument.quota
                subjects = [{"agency": agency_code}] * count
            for n, subject in enumerate(subjects):
                body = _body(agency_code, instrument, n, subject)
                created += submit(body, schema.load(body), surveyor).created
    return created
