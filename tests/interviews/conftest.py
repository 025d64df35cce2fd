"""Interview tests: the app with the small 2022-shaped test methodology (uji-wawancara) loaded
beside the shipped ones, the demo units, and one user per role and scope."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from fieldcheck import create_app
from fieldcheck.extensions import db
from tests.conftest import _empty_tables
from tests.helpers import auth, post_json

# The browser fixtures of the web tests, here serving this directory's app.
from tests.web.conftest import browser, chromium, live_server  # noqa: F401

#: tests/interviews/methodologies: uji-wawancara (staf per unit 4, pengguna 30, petugas 2).
METHODOLOGIES = Path(__file__).resolve().parent / "methodologies"
M = "uji-wawancara"
URL = "/api/v1/interviews"
AGENCY = "PEMKAB-35.15"
UNIT = "35.15-DUKCAPIL"


def interview_app(database_url: str, tmp_path: Path, **extra: Any) -> Flask:
    """An app that also loads the interview test methodology (EXTRA_METHODOLOGY_DIRS)."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "EXTRA_METHODOLOGY_DIRS": str(METHODOLOGIES),
            **extra,
        }
    )
    app.instance_path = str(tmp_path / "instance")
    return app


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """As tests/conftest.py's ``app``, with uji-wawancara loaded."""
    app = interview_app(database_url, tmp_path)
    yield app
    _empty_tables(app)


def record(instrument: str = "pengguna", **over: Any) -> dict[str, Any]:
    """A valid record of ``instrument`` (about Sidoarjo's agency or its Dukcapil unit)."""
    answers = {
        "staf": {"IN-01": 3, "IN-02": "yes"},
        "pengguna": {"OUT-01": 3, "OUT-02": 2},
        "petugas_pengaduan": {"PG-01": 2},
    }[instrument]
    roles = {"staf": "petugas_layanan", "pengguna": "pengguna_langsung"}
    body: dict[str, Any] = {
        "submission_id": str(uuid.uuid4()),
        "methodology": M,
        "instrument": instrument,
        "interview_date": "2026-03-10",
        "respondent": {"gender": "P", "age_band": "25_34"},
        "answers": answers,
    }
    if instrument in roles:
        body["respondent"]["role"] = roles[instrument]
    if instrument == "staf":
        body["unit"] = UNIT
    else:
        body["agency"] = AGENCY
    body.update(over)
    return body


@dataclass
class People:
    """Tokens by name; helpers to post and get as one of them."""

    client: Any
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def post(self, body: Any, who: str = "surveyor"):
        """POST a record as ``who``."""
        return post_json(self.client, URL, body, self.tokens[who])

    def stored(self, body: Any, who: str = "surveyor") -> dict:
        """POST a record that must be stored (201); its JSON."""
        response = self.post(body, who)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def get(self, url: str, who: str = "supervisor"):
        """GET ``url`` as ``who``."""
        return self.client.get(url, headers=auth(self.tokens[who]))


USERS = {
    "surveyor": ("surveyor", "35"),
    "surveyor_other": ("surveyor", "35"),
    "surveyor_out": ("surveyor", "13"),
    "supervisor": ("supervisor", "35"),
    "supervisor_out": ("supervisor", "13"),
    "admin": ("admin", None),
}


@pytest.fixture
def people(client, factory) -> People:
    """Demo units and one user per entry of ``USERS``."""
    factory.units()
    out = People(client)
    for name, (role, region) in USERS.items():
        out.ids[name], out.tokens[name] = factory.user(role, region, name=name)
    return out


def visit(people, app, unit: str, approve: bool = True) -> int:
    """An inspection of ``unit`` under the test methodology (its one observed indicator),
    approved as a supervisor would."""
    from fieldcheck.inspections.models import Inspection
    from tests.conftest import Factory

    body = Factory.submission(
        unit_code=unit,
        methodology=M,
        answers={"P-01": {"value": 2}},
        posted_standards=[],
        started_at="2026-03-10T02:00:00Z",
        finished_at="2026-03-10T03:00:00Z",
    )
    response = post_json(people.client, "/api/v1/inspections", body, people.tokens["surveyor"])
    assert response.status_code == 201, response.get_json()
    inspection_id = response.get_json()["id"]
    if approve:
        with app.app_context():
            db.session.execute(
                update(Inspection).where(Inspection.id == inspection_id).values(status="approved")
            )
            db.session.commit()
    return inspection_id


@pytest.fixture
def world(people, app):
    """Sidoarjo's agency short: 29 counted users (a 30th rejected), Dukcapil complete, DPMPTSP
    3 of 4 staff and never visited; Surabaya's agency complete."""
    # Sidoarjo (PEMKAB-35.15)
    visit(people, app, "35.15-DUKCAPIL")
    visit(people, app, "35.15-RSUD", approve=False)  # received, not approved: does not count
    for _ in range(4):
        people.stored(record("staf", unit="35.15-DUKCAPIL"))
    for _ in range(3):
        people.stored(record("staf", unit="35.15-DPMPTSP"))
    users = [people.stored(record()) for _ in range(30)]
    for _ in range(2):
        people.stored(record("petugas_pengaduan"))
    rejected = post_json(
        people.client,
        f"{URL}/{users[0]['id']}/reject",
        {"reason": "Responden bukan pengguna layanan"},
        people.tokens["supervisor"],
    )
    assert rejected.status_code == 200
    # Surabaya (PEMKOT-35.78): complete.
    visit(people, app, "35.78-DUKCAPIL")
    for _ in range(4):
        people.stored(record("staf", unit="35.78-DUKCAPIL"))
    for _ in range(30):
        people.stored(record(agency="PEMKOT-35.78"))
    for _ in range(2):
        people.stored(record("petugas_pengaduan", agency="PEMKOT-35.78"))
    # Another year and another region do not count here.
    people.stored(record(interview_date="2025-06-01"))
    return people
