"""Flask extensions, created unbound here and bound to an app in ``create_app`` via ``init_app``."""

import hashlib

from flask import current_app, g, request
from flask_babel import Babel
from flask_limiter import Limit, Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

#: Execution option: this connection's transactions run a long job inside a request (an export
#: streaming its rows) and get the job limits on PostgreSQL, as work outside any request does
#: (``fieldcheck._tune_postgresql``; a request's own limits are short so a busy database is a 503).
LONG_JOB = "fieldcheck_long_job"
#: Execution option: ``(lock_timeout_ms, statement_timeout_ms)`` for this connection's
#: transactions on PostgreSQL, whatever the context (the /healthz probe's short ones).
TIMEOUTS = "fieldcheck_timeouts"

#: Stable constraint names so Alembic migrations name the same thing on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
# render_as_batch lets Alembic alter tables on SQLite (which cannot ALTER most things in place).
migrate = Migrate(render_as_batch=True, compare_type=True)
#: Messages from the gettext catalogues in fieldcheck/translations (fieldcheck.i18n).
babel = Babel()
#: The web app's logins (fieldcheck.web): who a browser session belongs to.
login_manager = LoginManager()
#: CSRF tokens on every web form; checked by the web blueprint only (the API takes bearer
#: tokens, which a browser never sends on its own, so it has no CSRF to defend against).
csrf = CSRFProtect()
#: Endpoints no rate limit counts: the health probe (and vendored assets) must always answer.
UNLIMITED_ENDPOINTS = frozenset({"system.healthz", "web.static", "static"})


def bearer_key() -> str | None:
    """The rate-limit key of the request's bearer token (a digest, never the token), or None."""
    if "rate_key" in g:  # asked up to four times a request (keys, exemptions, deduction)
        return g.rate_key
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    key = None
    if scheme.lower() == "bearer" and token:
        # The digest only names the bucket: a phone's token keeps its own budget wherever it is.
        key = "token:" + hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]
    g.rate_key = key
    return key


def _token_key() -> str:
    return bearer_key() or get_remote_address()


def _unlimited() -> bool:
    return request.endpoint in UNLIMITED_ENDPOINTS


def _config_limit(key: str):
    # Read at each request (not at start) so a test or an operator's reload sees the new value.
    return lambda: current_app.config[key]


#: Rate limits (RATELIMIT_STORAGE_URI: memory:// per process, redis://... across processes).
#: Three budgets, shared by every endpoint (a view with its own ``@limiter.limit``, like the
#: login form, replaces them): per API token when a bearer token is presented (the key is the
#: token's digest, so a benchmark with many tokens from one address is not one bucket); per
#: client address otherwise (pages, anonymous calls); and per address for refused bearer tokens
#: only (a 401 after presenting one), much smaller, so guessing tokens soon stops.
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[
        Limit(
            _config_limit("RATELIMIT_PER_TOKEN"),
            key_function=_token_key,
            scope="per_token",
            shared=True,
            exempt_when=lambda: _unlimited() or bearer_key() is None,
        ),
        Limit(
            _config_limit("RATELIMIT_PER_ADDRESS"),
            scope="per_address",
            shared=True,
            exempt_when=lambda: _unlimited() or bearer_key() is not None,
        ),
        Limit(
            _config_limit("RATELIMIT_FAILED_AUTH"),
            scope="failed_auth",
            shared=True,
            exempt_when=_unlimited,
            deduct_when=lambda response: response.status_code == 401 and bearer_key() is not None,
        ),
    ],
)


#: ``app.extensions`` keys through which a package adds to a lower one it may not be imported by
#: (the layers, .importlinter): callables ``(scheduler, app)`` adding scheduler jobs (read by
#: fieldcheck.zoning.scheduler), and callables ``() -> Iterable[Metric]`` adding ``/metrics``
#: families, read at each scrape in the app context (fieldcheck.system.metrics). The webhooks
#: package adds both in its ``init_app``.
SCHEDULER_JOBS = "fieldcheck.scheduler_jobs"
METRIC_FAMILIES = "fieldcheck.metric_families"


def lock(obj: object) -> None:
    """Reload ``obj`` from its row under a row lock, before a change decided on its state.

    On PostgreSQL ``SELECT ... FOR UPDATE OF`` its table: of two requests changing the same
    object (two supervisors deciding one objection, two publishes of one run), the second waits
    for the first to commit, then sees its result and is refused or does nothing, instead of
    both acting on the state they read before. SQLite renders no lock: every write transaction
    there is already serialised (BEGIN IMMEDIATE).
    """
    db.session.refresh(obj, with_for_update={"of": type(obj)})
