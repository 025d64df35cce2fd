"""The one place that reads the clock, so tests inject time instead of patching it globally."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, has_app_context


def utcnow() -> datetime:
    """Now, in UTC; an app configured with ``CLOCK`` (a callable) uses that instead."""
    if has_app_context():
        clock = current_app.config.get("CLOCK")
        if clock is not None:
            return clock()
    return datetime.now(UTC)
