"""The app factory: configuration, extensions, catalogue, blueprints, error handlers, CLI.

``fieldcheck.create_app`` is a thin wrapper over this module, so importing ``fieldcheck`` (and
the Flask-free ``fieldcheck.client``) does not load Flask.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, Response, has_request_context
from sqlalchemy import event, make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from fieldcheck.config import ConfigError, load_config
from fieldcheck.errors import (
    add_error_renderer,
    error_response,
    register_error_handlers,
    unavailable_response,
)
from fieldcheck.extensions import LONG_JOB, TIMEOUTS, db, migrate
from fieldcheck.http import IdConverter, TextConverter
from fieldcheck.i18n import N_
from fieldcheck.i18n import init_app as init_i18n
from fieldcheck.observability import init_app as init_observability
from fieldcheck.ratelimits import init_app as init_rate_limits

__all__ = ["ConfigError", "create_app"]

# The packages are imported inside the registration steps below, not up here: this module runs
# before any ``fieldcheck.<x>`` import, so importing them at the top would load the whole app (and
# close import cycles through this half-initialised module) for anyone importing only the pure
# core or one package.

log = logging.getLogger(__name__)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, catalogue, blueprints, error handlers, CLI."""
    # "fieldcheck", not __name__: the app keeps the name (and logger, root path) it had when the
    # factory lived in the package's __init__.
    app = Flask("fieldcheck", instance_relative_config=True)
    app.config.update(load_config(config, instance_path=app.instance_path))
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app.config)
    app.json.sort_keys = False  # keep the field order of the dump schemas
    app.json.ensure_ascii = False
    # First: its request hooks open and close every request (request id, log line, metrics).
    init_observability(app)

    register_extensions(app)
    init_rate_limits(app)  # before the blueprints: every view counts against the budgets
    register_signal_receivers()
    register_catalogue(app)
    # Before any route is added: ids fit their columns, path text holds no NUL.
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = TextConverter
    register_blueprints(app)
    register_error_handlers(app)
    register_request_boundary(app)
    register_commands(app)
    return app


def _engine_options(config: dict[str, Any]) -> dict[str, Any]:
    """Pool and driver options, with the timeouts after which a request gets 503 instead of
    waiting on a busy or unreachable database (docs/decisions.md, "Issue 14: a busy database")."""
    pool = {"pool_timeout": config["DATABASE_POOL_TIMEOUT_SECONDS"]}
    if config["DATABASE_URL"].startswith("sqlite"):
        # sqlite3's own wait until the connect hook sets PRAGMA busy_timeout (_tune_sqlite).
        connect_args = {"timeout": config["SQLITE_BUSY_TIMEOUT_MS"] / 1000}
        if make_url(config["DATABASE_URL"]).database in (None, "", ":memory:"):
            # An in-memory database gets a pool of one connection, which takes no pool_timeout.
            return {"connect_args": connect_args}
        return {**pool, "connect_args": connect_args}
    # A request's limits travel with the connection (startup options): no statement per request
    # sets them. Jobs and exports raise them per transaction (_tune_postgresql).
    options = (
        f"-c lock_timeout={int(config['DATABASE_LOCK_TIMEOUT_MS'])}"
        f" -c statement_timeout={int(config['DATABASE_STATEMENT_TIMEOUT_MS'])}"
    )
    connect_args = {
        "connect_timeout": config["DATABASE_CONNECT_TIMEOUT_SECONDS"],
        "options": options,
    }
    return {
        **pool,
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 10,
        "connect_args": connect_args,
    }


def register_extensions(app: Flask) -> None:
    """Bind the database and migrations; tune SQLite for durability and concurrent access."""
    db.init_app(app)
    migrate.init_app(app, db, directory=_migrations_dir())
    init_i18n(app)  # Flask-Babel: messages from the catalogues, in the reader's language
    # Import models so metadata (and Alembic autogenerate) sees every table.
    from fieldcheck import models  # noqa: F401

    with app.app_context():
        if app.config["DATABASE_URL"].startswith("sqlite"):
            _tune_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
        else:
            _tune_postgresql(db.engine, app.config["DATABASE_JOB_STATEMENT_TIMEOUT_MS"])


def _migrations_dir() -> str:
    return str(Path(__file__).resolve().parent.parent / "migrations")


def _tune_sqlite(engine: Any, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see "begin").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before we answer 201, even if the machine loses power.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers queue on busy_timeout instead
        # of one failing with "database is locked" when it upgrades a read lock. WAL keeps
        # readers of other connections unblocked. SQLite is the single-machine default only.
        # A long read-only snapshot (a zoning run streaming inspections) asks for a deferred
        # BEGIN instead, so it does not hold the write lock for minutes.
        if conn.get_execution_options().get("fieldcheck_read_snapshot"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _tune_postgresql(engine: Any, job_statement_timeout_ms: int) -> None:
    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        # A request keeps the short limits of its connection's startup options. Work outside a
        # request (CLI commands, the scheduler's zoning runs, migrations) and a streaming export
        # may rightly run long: their statements get the job limit and their lock waits are
        # bounded by it too (lock_timeout 0). SET LOCAL ends with the transaction, so a pooled
        # connection goes back with the request limits.
        options = conn.get_execution_options()
        timeouts = options.get(TIMEOUTS)
        if timeouts is None and (options.get(LONG_JOB) or not has_request_context()):
            timeouts = (0, job_statement_timeout_ms)
        if timeouts is not None:
            lock_ms, statement_ms = (int(value) for value in timeouts)
            conn.exec_driver_sql(
                f"SET LOCAL lock_timeout = {lock_ms}; SET LOCAL statement_timeout = {statement_ms}"
            )


def register_signal_receivers() -> None:
    """Connect the receivers of ``fieldcheck.signals`` (they connect when their module loads).

    Imported here, not only through the blueprints, so a CLI command or a job that never touches
    a blueprint still links photos at intake and sees photos cited by objections.
    """
    import fieldcheck.evidence.linking  # noqa: F401
    import fieldcheck.review.objections  # noqa: F401


def register_catalogue(app: Flask) -> None:
    """Load and validate the methodologies and the legal catalogue (fail fast when broken)."""
    from fieldcheck.catalogue.registry import init_app as init_catalogue  # a package: see top

    init_catalogue(app)


def register_blueprints(app: Flask) -> None:
    """Mount the HTTP API."""
    # Every package's blueprint: imported by the factory only (see the note at the top).
    from fieldcheck.audit.routes import bp as audit_bp
    from fieldcheck.auth.routes import bp as auth_bp
    from fieldcheck.catalogue.routes import bp as catalogue_bp
    from fieldcheck.dashboard.routes import bp as dashboard_bp
    from fieldcheck.evidence.routes import bp as evidence_bp
    from fieldcheck.exports.routes import bp as exports_bp
    from fieldcheck.inspections.routes import bp as inspections_bp
    from fieldcheck.interviews.routes import bp as interviews_bp
    from fieldcheck.methodologies.routes import bp as methodologies_bp
    from fieldcheck.openrosa.routes import OpenRosaErrors
    from fieldcheck.openrosa.routes import bp as openrosa_bp
    from fieldcheck.publication.routes import bp as publication_bp
    from fieldcheck.regions.routes import bp as regions_bp
    from fieldcheck.review.routes import bp as review_bp
    from fieldcheck.system.routes import bp as system_bp
    from fieldcheck.units.routes import bp as units_bp
    from fieldcheck.zoning.routes import bp as zoning_bp

    app.register_blueprint(system_bp)
    app.register_blueprint(openrosa_bp, url_prefix="/openrosa")  # ODK Collect (OpenRosa)
    add_error_renderer(app, OpenRosaErrors())  # before the pages': /openrosa/ errors are XML
    for bp in (inspections_bp, units_bp, catalogue_bp, regions_bp, evidence_bp, zoning_bp):
        app.register_blueprint(bp, url_prefix="/api/v1")
    for bp in (review_bp, auth_bp, audit_bp, publication_bp, dashboard_bp, exports_bp):
        app.register_blueprint(bp, url_prefix="/api/v1")
    for bp in (interviews_bp, methodologies_bp):
        app.register_blueprint(bp, url_prefix="/api/v1")
    from fieldcheck.webhooks import init_app as init_webhooks

    init_webhooks(app)  # /api/v1/webhooks, and the delivery job for the scheduler
    from fieldcheck.openapi import init_app as init_openapi

    init_openapi(app)  # GET /api/v1/openapi.json and /api/v1/docs
    from fieldcheck.web import init_app as init_web

    init_web(app)  # the supervisors' pages at /, over the same services


def register_request_boundary(app: Flask) -> None:
    """One commit per request: services only flush; a successful response commits here.

    The commit happens before the response leaves, so an accepted submission is durable before the
    phone hears 201. A failed commit turns into the error envelope instead of a half-sent success.
    """

    @app.after_request
    def commit_session(response: Response) -> Response:
        if "Cache-Control" not in response.headers:
            # Answers are per user (scope, role) and may carry a token once: no shared or
            # browser cache keeps them. Endpoints that may be cached say so themselves.
            response.headers["Cache-Control"] = "no-store"
        if response.status_code >= 400:
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except IntegrityError as exc:
            db.session.rollback()
            log.warning("commit conflict: %s", exc.orig)
            return error_response("conflict", N_("The change conflicts with stored data."))
        except (OperationalError, SQLAlchemyTimeoutError) as exc:
            db.session.rollback()
            log.error("commit failed: %s", getattr(exc, "orig", exc))
            return unavailable_response(N_("The database is busy; try again."))
        return response


def register_commands(app: Flask) -> None:
    """Add the ``flask --app app ...`` commands."""
    from fieldcheck.cli import register  # the CLI reaches every package: factory only

    register(app)
