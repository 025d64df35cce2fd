"""``seed-demo``: demo units (through the same importer as ``import-units``) and demo users."""

from __future__ import annotations

import os
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.auth.passwords import set_password, set_username
from fieldcheck.auth.services import create_user, hash_token, issue_token, revoke_token
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.demo.inspections import seed_demo_inspections
from fieldcheck.demo.interviews import seed_demo_interviews
from fieldcheck.demo.method2022 import run_2022, seed_2022_visits
from fieldcheck.demo.received import seed_received_inspections
from fieldcheck.demo.zoning import publish_demo_run
from fieldcheck.extensions import db
from fieldcheck.units.services import import_units

DEMO_UNITS = Path(__file__).resolve().parent / "units.csv"
#: (name, role, region, username). Names end in "(demo)" so nobody mistakes them for real
#: accounts.
DEMO_USERS = [
    ("Surveyor Jawa Timur (demo)", "surveyor", "35", "surveyor-jatim"),
    ("Surveyor Sumatera Barat (demo)", "surveyor", "13", "surveyor-sumbar"),
    # The demo visits' own surveyors (one per province with demo units: no one is in two
    # provinces at once).
    ("Surveyor Jawa Barat (demo)", "surveyor", "32", "surveyor-jabar"),
    ("Surveyor Kepulauan Riau (demo)", "surveyor", "21", "surveyor-kepri"),
    ("Surveyor Sulawesi Selatan (demo)", "surveyor", "73", "surveyor-sulsel"),
    ("Supervisor Jawa Timur (demo)", "supervisor", "35", "supervisor-jatim"),
    ("Supervisor Sumatera Barat (demo)", "supervisor", "13", "supervisor-sumbar"),
    ("Admin Ombudsman RI (demo)", "admin", None, "admin"),
]
#: Every demo login's password (printed by ``make run``; a demo machine only).
DEMO_PASSWORD = "fieldcheck-demo"  # noqa: S105 - the documented demo password, not a secret


def seed_demo(
    tokens_file: Path | None = None, method_2022: bool = False
) -> list[tuple[str, str, str | None, str]]:
    """Import the demo units, ensure the demo users, and give each a fresh token; seed the
    approved demo visits, a published zoning run, a few visits waiting for review, the demo
    interviews (one agency complete, one short of service users), ombudsman-2022 visits to the
    interviewed agencies' units and an (unpublished) ombudsman-2022 run.

    Commits before the zoning run (which reads committed data on its own connection); the
    caller commits the rest.

    The tokens the previous seed wrote to ``tokens_file`` are revoked (matched by hash), and the
    new ones are written there (mode 600) so ``make run`` can show them again; demo tokens belong
    on a demo machine only. Tokens an admin issued to a demo user (say, for a phone's ODK
    Collect) are kept: a restart must not unplug a phone someone set up.
    """
    path = tokens_file or Path(current_app.instance_path) / "demo-tokens.txt"
    issued_before = _previous_token_hashes(path)
    with DEMO_UNITS.open(encoding="utf-8", newline="") as fh:
        import_units(fh, set(get_registry().catalogue.services))
    tokens = []
    users = []
    for name, role, region, username in DEMO_USERS:
        user = (
            db.session.execute(select(User).where(User.name == name, User.role == role))
            .unique()
            .scalar_one_or_none()
        )
        if user is None:
            user, token = create_user(name, role, region)
        else:
            for old in user.tokens:
                if old.token_hash in issued_before:
                    revoke_token(old)
            token = issue_token(user)
        if user.username != username:
            set_username(user, username, actor=None)
        # Set again on every seed, like the tokens: the printed demo password always works.
        set_password(user, DEMO_PASSWORD, actor=None, must_change=False)
        tokens.append((name, role, region, token))
        users.append(user)
    admin = next(u for u in users if u.role == "admin")
    surveyors = {u.region_code: u for u in users if u.role == "surveyor" and u.region_code}
    created = seed_demo_inspections(admin, surveyors)
    # Zones on the map and an official result from the first page, then the review queue's
    # waiting visits (received after the run, as they would be).
    publish_demo_run(admin, visits_changed=created > 0)
    seed_received_inspections(surveyors)
    interviews = seed_demo_interviews(surveyors)
    # The 2022 method (issue 16): visits to the interviewed agencies' sampled units and one
    # ombudsman-2022 run: Sidoarjo complete with a zone, Padang incomplete (29 of 30 users).
    if method_2022:
        visits_2022 = seed_2022_visits(admin, surveyors)
        run_2022(admin, inputs_changed=interviews > 0 or visits_2022 > 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for name, role, region, token in tokens:
            fh.write(f"{role}\t{region or 'national'}\t{name}\t{token}\n")
    logins = path.with_name("demo-logins.txt")
    fd = os.open(logins, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for name, role, region, username in DEMO_USERS:
            fh.write(f"{role}\t{region or 'national'}\t{name}\t{username}\t{DEMO_PASSWORD}\n")
    return tokens


def _previous_token_hashes(path: Path) -> set[str]:
    """The hashes of the tokens a previous seed wrote to ``path`` (its last column); none when
    the file is missing. Only these are the seed's own: any other token of a demo user was
    issued by someone on purpose."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return set()
    return {hash_token(line.rsplit("\t", 1)[-1]) for line in text.splitlines() if line.strip()}
