"""The one place that reads the clock, so tests inject time instead of patching it globally."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def utcnow() -> datetime:
    """Now, in UTC; an app configured with ``CLOCK`` (a callable) uses that instead."""
    if has_app_context():
        clock = current_app.config.get("CLOCK")
        if clock is not None:
            return clock()
    return datetime.now(UTC)


def shown(at: datetime | None) -> str | None:
    """A stored UTC time as people read it: ISO-8601 in ``DISPLAY_TIMEZONE`` (WIB by default).

    The same rendering as ``schemas.common.DisplayDateTime``, for answers built without a schema
    (health and status).
    """
    if at is None:
        return None
    name = current_app.config["DISPLAY_TIMEZONE"] if has_app_context() else "Asia/Jakarta"
    return at.astimezone(ZoneInfo(name)).isoformat()
