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


def multipart(data: bytes, filename: str = "foto.jpg", field: str = "file") -> tuple[bytes, str]:
    """A multipart/form-data body with one file part, and its content type."""
    boundary = "fieldcheck-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"'
        "\r\nContent-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


def upload(client, url: str, data: bytes, token: str, filename: str = "foto.jpg", field="file"):
    """POST ``data`` as the multipart field ``file`` (built in memory: no client temp files)."""
    body, content_type = multipart(data, filename, field)
    return client.post(url, data=body, headers=auth(token), content_type=content_type)
