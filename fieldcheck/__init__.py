"""fieldcheck: the backend for Ombudsman RI unannounced inspections of public service units.

This module stays light: it imports neither Flask nor SQLAlchemy, so the sync client
(``fieldcheck.client``, installed without the server's dependencies) can be imported on its own.
The app factory lives in ``fieldcheck.factory``; ``create_app`` and ``ConfigError`` here load it
on first use, so ``app.py``, the tests and gunicorn's ``'app:create_app()'`` keep working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["ConfigError", "create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app (see ``fieldcheck.factory.create_app``)."""
    from fieldcheck.factory import create_app as build

    return build(config)


def __getattr__(name: str) -> Any:
    """Load ``ConfigError`` lazily: it lives with the config loader, which needs the server."""
    if name == "ConfigError":
        from fieldcheck.config import ConfigError

        return ConfigError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
