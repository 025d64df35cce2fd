"""The navigation bar: each page area's entry, shown to the roles that may open it."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g

from fieldcheck.i18n import N_

#: (endpoint, label msgid, roles). An entry whose page is not mounted is left out.
ENTRIES = (
    ("web.overview", N_("Overview"), ("supervisor", "admin")),
    ("web.review_queue", N_("Review queue"), ("supervisor", "admin")),
    ("web.runs", N_("Zoning runs"), ("supervisor", "admin")),
    ("web.interview_coverage", N_("Interview coverage"), ("supervisor", "admin")),
    ("web.exports", N_("Exports"), ("supervisor", "admin")),
    ("web.methodologies", N_("Methodologies"), ("admin",)),
    ("web.admin_users", N_("Users"), ("admin",)),
    ("web.admin_audit", N_("Audit log"), ("admin",)),
    ("web.admin_webhooks", N_("Webhooks"), ("admin",)),
)


def nav_items() -> list[dict[str, Any]]:
    """The entries the current person may open, as ``{"endpoint", "label"}``."""
    user = g.get("user")
    if user is None:
        return []
    views = current_app.view_functions
    return [
        {"endpoint": endpoint, "label": label}
        for endpoint, label, roles in ENTRIES
        if endpoint in views and user.role in roles
    ]


def init_app(app: Flask) -> None:
    """Give templates ``nav_items()``."""
    app.jinja_env.globals["nav_items"] = nav_items
