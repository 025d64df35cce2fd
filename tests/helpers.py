"""Helpers shared by the HTTP tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event


def auth(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def post_json(client: FlaskClient, url: str, body: Any, token: str | None = None):
    """POST ``body`` as JSON with an optional bearer token."""
    headers = auth(token) if token else {}
    return client.post(url, data=json.dumps(body), headers=headers, content_type="application/json")


def count_rows(app, model) -> int:
    """How many rows ``model`` has."""
    from sqlalchemy import func, select

    from fieldcheck.extensions import db

    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@contextmanager
def count_queries(app) -> Iterator[list[str]]:
    """Collect the SQL statements run while the block runs (an N+1 guard)."""
    from fieldcheck.extensions import db

    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        # Reads only: a token's last-use touch is a write that happens at most every few minutes.
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)
