"""Fixtures for the operations tests: people who log in, by role and region."""

from __future__ import annotations

from flask import Flask

from fieldcheck.auth.passwords import set_password
from fieldcheck.auth.services import add_user, issue_token
from fieldcheck.extensions import db

PASSWORD = "sandi-rahasia-2026"


def login_user(app: Flask, role: str, region: str | None, username: str) -> tuple[int, str]:
    """A person who logs in with ``PASSWORD`` (no change needed) and also holds a token."""
    with app.app_context():
        user = add_user(f"Orang {username}", role, region, username=username)
        set_password(user, PASSWORD, actor=None, must_change=False)
        token = issue_token(user)
        db.session.commit()
        return user.id, token
