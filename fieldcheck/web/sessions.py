"""Server-side sessions for the web app (Flask's ``SessionInterface``).

The cookie carries a random id (256 bits); the session's contents live in ``web_sessions`` under
the id's SHA-256. So a login can be ended from the server (logout, deactivation, a new password)
and the cookie reveals nothing. Requests without the cookie (the API, phones) never touch the
table. Flask-Session was not used: its SQLAlchemy backend creates its table with ``create_all``
outside the migrations (docs/decisions.md).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, insert, select, update
from werkzeug.datastructures import CallbackDict

from fieldcheck.auth.models import WebSession
from fieldcheck.clock import utcnow
from fieldcheck.extensions import db

#: A session's expiry is pushed forward at most this often, so reading pages is not a write each.
_REFRESH = timedelta(minutes=5)
#: A visitor who has not logged in (a login form's CSRF token) is kept this long at most.
_ANONYMOUS = timedelta(hours=1)
#: Where the web blueprint serves its assets (fieldcheck.web.blueprint).
_ASSETS = "/assets/"


class ServerSession(CallbackDict, SessionMixin):
    """A session dict that knows its id and whether it changed."""

    def __init__(
        self, initial: dict[str, Any] | None = None, sid: str | None = None, expires_at: Any = None
    ) -> None:
        def on_update(_self: Any) -> None:
            self.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.expires_at = expires_at
        self.modified = False
        self.rotate_requested = False

    def rotate(self) -> None:
        """Give the session a new id at the end of this request (login, logout: no fixation)."""
        self.rotate_requested = True
        self.modified = True


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def _user_id(data: dict[str, Any]) -> int | None:
    value = data.get("_user_id")
    return int(value) if value is not None and str(value).isdigit() else None


class DatabaseSessionInterface(SessionInterface):
    """Keeps each session as a ``web_sessions`` row; the cookie holds only its random id."""

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        """The stored session named by the cookie, or a new empty one."""
        sid = request.cookies.get(self.get_cookie_name(app))
        if request.path.startswith(_ASSETS):
            # Scripts and styles need no login: no query for them. (The session is opened before
            # the URL is matched, so the path, not the endpoint, says what is asked for.)
            return ServerSession()
        if not sid or len(sid) > 128:
            return ServerSession()
        row = db.session.execute(
            select(WebSession.data, WebSession.expires_at).where(WebSession.id == _digest(sid))
        ).one_or_none()
        # The read began a transaction; end it so the request starts from a clean session.
        db.session.rollback()
        if row is None or row.expires_at <= utcnow():
            return ServerSession()
        try:
            data = json.loads(row.data)
        except ValueError:
            data = {}
        return ServerSession(data if isinstance(data, dict) else {}, sid, row.expires_at)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        """Write a changed session in its own short transaction (the request's has committed)."""
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        now = utcnow()
        lifetime = timedelta(hours=app.config["WEB_SESSION_HOURS"])
        if _user_id(session) is None:
            lifetime = min(lifetime, _ANONYMOUS)
        if not session:
            if session.sid is not None:
                with db.engine.begin() as conn:
                    conn.execute(delete(WebSession).where(WebSession.id == _digest(session.sid)))
                response.delete_cookie(name, domain=domain, path=path)
            return
        stale = session.expires_at is not None and session.expires_at - now < lifetime - _REFRESH
        if not (session.modified or stale):
            return
        values = {
            "data": json.dumps(dict(session), default=str),
            "user_id": _user_id(session),
            "expires_at": now + lifetime,
        }
        with db.engine.begin() as conn:
            if session.sid is not None and session.rotate_requested:
                conn.execute(delete(WebSession).where(WebSession.id == _digest(session.sid)))
                session.sid = None
            if session.sid is None:
                session.sid = secrets.token_urlsafe(32)
                # New sessions sweep expired ones (indexed): no job needed to keep the table small.
                conn.execute(delete(WebSession).where(WebSession.expires_at <= now))
                conn.execute(
                    insert(WebSession).values(id=_digest(session.sid), created_at=now, **values)
                )
            else:
                done = conn.execute(
                    update(WebSession).where(WebSession.id == _digest(session.sid)).values(**values)
                )
                if done.rowcount == 0:  # ended meanwhile (logout elsewhere): do not revive it
                    return
        response.set_cookie(
            name,
            session.sid,
            httponly=self.get_cookie_httponly(app),
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            domain=domain,
            path=path,
        )
        response.vary.add("Cookie")
