"""CLI: users create with a login, users set-password, users unlock (all audited)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from fieldcheck.audit.models import AuditEntry
from fieldcheck.auth.models import User
from fieldcheck.auth.passwords import authenticate_password
from fieldcheck.clock import utcnow
from fieldcheck.extensions import db
from tests.helpers import count_rows

PASSWORD = "sementara-2026"


def _user(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def test_users_create_with_a_username_sets_a_temporary_password(runner, app):
    result = runner.invoke(
        args=["users", "create", "--name", "Siti", "--role", "admin", "--username", "siti"],
        input=f"{PASSWORD}\n{PASSWORD}\n",  # asked twice, hidden
    )
    assert result.exit_code == 0, result.output
    assert "must change the password" in result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("fc_")  # the token, last
    piped = runner.invoke(
        args=["users", "create", "--name", "Rudi", "--role", "surveyor", "--region", "35"]
        + ["--username", "rudi", "--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    assert piped.exit_code == 0, piped.output
    with app.app_context():
        for username in ("siti", "rudi"):
            user = authenticate_password(username, PASSWORD)
            assert user.must_change_password
        assert PASSWORD not in str(db.session.execute(select(AuditEntry.after)).scalars().all())
    # Refused: a taken name, a short password, --password-stdin without a username.
    taken = runner.invoke(
        args=["users", "create", "--name", "S2", "--role", "admin", "--username", "SITI"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert taken.exit_code == 2 and "already taken" in taken.output
    short = runner.invoke(
        args=["users", "create", "--name", "S3", "--role", "admin", "--username", "s-three"]
        + ["--password-stdin"],
        input="pendek\n",
    )
    assert short.exit_code == 2 and "at least 10" in short.output
    lone = runner.invoke(
        args=["users", "create", "--name", "S4", "--role", "admin", "--password-stdin"], input="x"
    )
    assert lone.exit_code == 2
    assert count_rows(app, User) == 2
    listing = runner.invoke(args=["users", "list"]).stdout
    assert "\tsiti\tSiti\t" in listing and "\trudi\tRudi\t" in listing


def test_set_password_and_unlock(runner, app):
    created = runner.invoke(args=["users", "create", "--name", "Ani", "--role", "supervisor"])
    user_id = int(created.stderr.split("#")[1].split()[0])
    no_name = runner.invoke(
        args=["users", "set-password", str(user_id), "--password-stdin"], input=f"{PASSWORD}\n"
    )
    assert no_name.exit_code == 2 and "--username" in no_name.output
    done = runner.invoke(
        args=["users", "set-password", str(user_id), "--username", "ani", "--permanent"]
        + ["--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    assert done.exit_code == 0, done.output
    assert "permanent" in done.stdout
    with app.app_context():
        user = authenticate_password("ani", PASSWORD)
        assert not user.must_change_password
        user.locked_until = utcnow() + timedelta(minutes=15)
        db.session.commit()
    assert runner.invoke(args=["users", "unlock", str(user_id)]).stdout.endswith("unlocked\n")
    assert _user(app, user_id).locked_until is None
    assert "was not locked" in runner.invoke(args=["users", "unlock", str(user_id)]).stdout
    temporary = runner.invoke(
        args=["users", "set-password", str(user_id), "--password-stdin"], input="Baru-sekali-2026\n"
    )
    assert temporary.exit_code == 0 and _user(app, user_id).must_change_password
    assert runner.invoke(args=["users", "unlock", "999"]).exit_code == 2
    with app.app_context():
        actions = db.session.execute(
            select(AuditEntry.action).where(AuditEntry.object_id == str(user_id))
        ).scalars()
        assert {"user.username_set", "user.password_set", "user.unlock"} <= set(actions)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
