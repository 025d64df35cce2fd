"""Fixtures for the sync client: a folder of checklists and photos, and a served fieldcheck."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.evidence.images import jpeg

ROOT = Path(__file__).resolve().parents[2]
#: fieldcheck-sync as an installed console script would run it (``main`` of the module).
SYNC = [sys.executable, "-m", "fieldcheck.client.sync"]


@dataclass
class Served:
    """A real gunicorn on the test database, with the demo units and a surveyor's token."""

    url: str
    token: str
    server: Any


@pytest.fixture
def served(gunicorn, factory) -> Served:
    """gunicorn with the demo units and a surveyor of East Java (region 35)."""
    factory.units()
    _, token = factory.user("surveyor", "35", name="Sinta Dewi")
    # One token sends hundreds of requests in seconds here: the per-token budget is not what
    # these tests are about (tests/ops covers it; tests/client/test_retry.py covers the 429).
    server = gunicorn(settings={"ratelimit_per_token": "100000 per minute"})
    return Served(server.url, token, server)


def write_folder(folder: Path, factory, count: int, *, photo_every: int = 25) -> dict[str, Any]:
    """``count`` checklists (``checklist-0000.json``...) in ``folder``; one in ``photo_every``
    names a photo (a JPEG in ``foto/``). Returns {file name: body}."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "foto").mkdir(exist_ok=True)
    bodies: dict[str, Any] = {}
    for k in range(count):
        body = factory.submission()
        if photo_every and k % photo_every == 0:
            data = jpeg(size=(48, 32), seed=50_000 + k)
            sha = hashlib.sha256(data).hexdigest()
            (folder / "foto" / f"foto-{k:04d}.jpg").write_bytes(data)
            body["answers"]["SP-01"]["photos"] = [sha]
        name = f"checklist-{k:04d}.json"
        (folder / name).write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        bodies[name] = body
    return bodies


def sync_command(folder: Path, served: Served, *extra: str) -> tuple[list[str], dict[str, str]]:
    """The argv and environment of a ``fieldcheck-sync`` run against ``served``."""
    env = {
        **os.environ,
        "FIELDCHECK_URL": served.url,
        "FIELDCHECK_TOKEN": served.token,
        "PYTHONPATH": str(ROOT),
    }
    return [*SYNC, str(folder), "--no-progress", *extra], env


def run_sync(folder: Path, served: Served, *extra: str, timeout: float = 600):
    """Run ``fieldcheck-sync`` to the end as a subprocess; the CompletedProcess."""
    argv, env = sync_command(folder, served, *extra)
    return subprocess.run(  # noqa: S603 - our own module, fixed arguments
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
