"""Fixtures for evidence tests: a seeded Sidoarjo/Padang world and upload helpers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import auth, multipart, post_json, upload  # noqa: F401 - re-exported to tests


@dataclass
class World:
    """Units imported; a surveyor for East Java (35) and one national, a supervisor for 35."""

    surveyor: str
    surveyor_id: int
    other_surveyor: str
    supervisor: str
    outsider: str
    admin: str


#: 10:00 WIB on the sample visit's day (it ran 09:12-09:41 WIB): received 19 minutes later.
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
def world(app, factory) -> World:
    app.config["CLOCK"] = lambda: NOW
    factory.units()
    sid, tok = factory.user("surveyor", None, name="Sri Surveyor")
    _, other = factory.user("surveyor", None, name="Budi Surveyor")
    _, sup = factory.user("supervisor", "35", name="Supervisor Jatim")
    _, outsider = factory.user("supervisor", "13", name="Supervisor Sumbar")
    _, admin = factory.user("admin", None, name="Admin")
    return World(tok, sid, other, sup, outsider, admin)


def sha(data: bytes) -> str:
    """SHA-256 hex of ``data``."""
    return hashlib.sha256(data).hexdigest()


def stored_files(app) -> list[str]:
    """Every file under the photo folder, temp files included (relative paths)."""
    root = Path(app.instance_path) / "photos"
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def submit(client, factory, token, **over):
    """POST an all-yes Sidoarjo checklist with overrides; returns the response."""
    body = factory.all_yes_submission(**over)
    return post_json(client, "/api/v1/inspections", body, token)


def fetch(client, url: str, token: str | None = None):
    """GET ``url`` and close the streamed response; (status, mimetype, body, headers)."""
    with client.get(url, headers=auth(token) if token else {}) as response:
        return response.status_code, response.mimetype, response.get_data(), response.headers
