"""Passwords for the web app: argon2id hashes, the password rule, login with lockout.

A person logs in with a username and a password an admin set; the first login must choose a new
one (``must_change_password``). Wrong passwords in a row lock the account for a while, so a
guessing attack from many addresses (which the per-address rate limit does not see) still stops.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from sqlalchemy import delete, func, select

from fieldcheck.audit.services import record
from fieldcheck.auth.models import User, WebSession
from fieldcheck.clock import utcnow
from fieldcheck.extensions import db, lock
from fieldcheck.i18n import N_

#: argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile).
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified when the username is unknown, so a wrong name costs as long as a wrong password
    (made on first use: hashing takes tens of milliseconds, not for every process start)."""
    return _hasher.hash("fieldcheck-no-such-user")


MIN_LENGTH = 10
MAX_LENGTH = 256
#: Login names: letters, digits, dot, dash, underscore (the demo's ``supervisor-jatim``).
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,63}")
#: Generated passwords avoid look-alikes (0/O, 1/l/I): an admin reads them out or writes them down.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class LoginRefused(Exception):
    """A login that did not succeed; ``message`` is a msgid the page shows as is."""

    def __init__(self, message: str, locked_until: datetime | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.locked_until = locked_until


def password_problems(password: str, username: str | None = None) -> list[str]:
    """What is wrong with ``password`` as msgids (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(N_("The password must have at least 10 characters."))
    if len(password) > MAX_LENGTH:
        problems.append(N_("The password must have at most 256 characters."))
    if username and password.strip().casefold() == username.strip().casefold():
        problems.append(N_("The password must not be the username."))
    if password and not password.strip():
        problems.append(N_("The password must not be only spaces."))
    return problems


def username_problems(username: str) -> list[str]:
    """What is wrong with ``username`` as a new login name, as msgids (empty when acceptable)."""
    if not _USERNAME.fullmatch(username):
        return [
            N_(
                "The username must have 3 to 64 characters: letters, digits, dot, dash or "
                "underscore, starting with a letter or digit."
            )
        ]
    if find_by_username(username) is not None:
        return [N_("This username is already taken.")]
    return []


def generate_password() -> str:
    """A temporary password of 3 groups of 5 (about 86 random bits), easy to read out."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(15))
    return "-".join(chars[i : i + 5] for i in range(0, 15, 5))


def unlock(user: User, *, actor: User | None) -> bool:
    """Lift a lockout (audited) so the user may log in again now; False when not locked."""
    lock(user)
    if not is_locked(user) and user.failed_logins == 0:
        return False
    before = {"locked_until": user.locked_until, "failed_logins": user.failed_logins}
    user.locked_until = None
    user.failed_logins = 0
    record(
        "user.unlock",
        "user",
        user.id,
        before=before,
        after={"locked_until": None, "failed_logins": 0},
        actor=actor,
        region=user.region_code,
    )
    return True


def is_locked(user: User, now: datetime | None = None) -> bool:
    """True while ``user``'s account is locked after too many wrong passwords."""
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def find_by_username(username: str) -> User | None:
    """The user with this login name (case-insensitive), or None."""
    return db.session.execute(
        select(User).where(func.lower(User.username) == username.strip().lower())
    ).scalar_one_or_none()


def set_password(user: User, password: str, *, actor: User | None, must_change: bool) -> None:
    """Store ``password``'s hash (audited, never the password); ends the user's web sessions.

    An admin setting it passes ``must_change=True``: the user chooses their own at next login.
    """
    lock(user)
    user.password_hash = _hasher.hash(password)
    user.must_change_password = must_change
    user.failed_logins = 0
    user.locked_until = None
    end_sessions(user)
    record(
        "user.password_set",
        "user",
        user.id,
        after={"must_change_password": must_change, "by_self": actor is user},
        actor=actor,
        region=user.region_code,
    )


def set_username(user: User, username: str, *, actor: User | None) -> None:
    """Give ``user`` a login name (audited); the UNIQUE constraint refuses a taken one."""
    before = user.username
    user.username = username.strip()
    record(
        "user.username_set",
        "user",
        user.id,
        before={"username": before},
        after={"username": user.username},
        actor=actor,
        region=user.region_code,
    )


def end_sessions(user: User) -> None:
    """Log ``user`` out of every browser (their web sessions are deleted)."""
    db.session.execute(delete(WebSession).where(WebSession.user_id == user.id))


def authenticate_password(username: str, password: str, now: datetime | None = None) -> User:
    """The active user with this username and password, or LoginRefused.

    Every failure says the same thing whether the name or the password was wrong; a locked or
    deactivated account says so only once the password was right, so a guesser learns nothing.
    """
    now = now or utcnow()
    user = find_by_username(username) if username.strip() else None
    if user is None or user.password_hash is None:
        _verify(_dummy_hash(), password)
        raise LoginRefused(N_("Wrong username or password."))
    lock(user)
    locked = user.locked_until is not None and user.locked_until > now
    if not _verify(user.password_hash, password):
        # The same words as for an unknown name, locked or not: a guesser cannot tell that the
        # name exists, nor that the guesses locked it. A locked account counts no further.
        if not locked:
            _count_failure(user, now)
        raise LoginRefused(N_("Wrong username or password."))
    if locked:
        # Only someone who knows the password learns that the account is locked (and till when).
        raise LoginRefused(
            N_("Too many wrong passwords: the account is locked until %(until_at)s."),
            user.locked_until,
        )
    if not user.is_active:
        raise LoginRefused(N_("This account has been deactivated."))
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def verify_password(user: User, password: str) -> bool:
    """True when ``password`` is ``user``'s password (for a change that asks for the old one)."""
    return user.password_hash is not None and _verify(user.password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _count_failure(user: User, now: datetime) -> None:
    user.failed_logins += 1
    if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.failed_logins = 0
        user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
        record(
            "user.locked",
            "user",
            user.id,
            after={"locked_until": user.locked_until},
            actor=None,
            region=user.region_code,
        )
