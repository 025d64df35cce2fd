"""Configuration: defaults < TOML file (``FIELDCHECK_CONFIG``) < ``FIELDCHECK_*`` env < override.

Every key is declared once in ``SETTINGS`` with its type and a check, so a typo or a bad value fails
at start with a message that names the key and where it came from, instead of surfacing later.
TOML keys are lower-case; a table groups keys (``[scheduler] cron`` is ``SCHEDULER_CRON``); the
environment uses the upper-case name with the ``FIELDCHECK_`` prefix.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(Exception):
    """A configuration value is missing, unknown or invalid."""


@dataclass(frozen=True)
class Setting:
    """One configuration key: its type, default, a check, and what it is for."""

    type: type
    default: Any
    help: str
    check: Callable[[Any], str | None] | None = None


def _positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _non_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _timezone(value: Any) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r}"
    return None


def _cron(value: Any) -> str | None:
    # Loaded when the setting is checked, not by every ``import fieldcheck`` (core users too).
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value)
    except ValueError as exc:
        return f"not a crontab expression ({exc})"
    return None


def _db_url(value: Any) -> str | None:
    if value and not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
        return "must start with sqlite: or postgresql+psycopg:"
    return None


def _base_url(value: Any) -> str | None:
    if value and not str(value).startswith(("https://", "http://")):
        return "must start with https:// (or http://), or be empty"
    return None


def _limit(value: Any) -> str | None:
    # Loaded when checked: the limits package parses Flask-Limiter's "N per unit; ..." syntax.
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as exc:
        return f"not a rate limit like '600 per minute' ({exc})"
    return None


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


SETTINGS: dict[str, Setting] = {
    "DATABASE_URL": Setting(
        str, "", "SQLAlchemy URL; empty = SQLite file under instance/", _db_url
    ),
    # docs/deploy.md: the app connects as a role that owns nothing; `flask db ...` (migrations,
    # grant-app-role) connects as the tables' owner. Give it in the owner's environment only.
    "MIGRATION_DATABASE_URL": Setting(
        str, "", "the tables' owner, for flask db ...; empty = DATABASE_URL", _db_url
    ),
    "MAX_CONTENT_LENGTH": Setting(int, 1_048_576, "largest JSON request body, bytes", _positive),
    "PER_PAGE_DEFAULT": Setting(int, 50, "list page size when none is asked", _positive),
    "PER_PAGE_MAX": Setting(int, 500, "largest page size a client may ask", _positive),
    "DISPLAY_TIMEZONE": Setting(str, "Asia/Jakarta", "zone for times people read", _timezone),
    "LOG_LEVEL": Setting(
        str, "INFO", "root log level", _one_of("DEBUG", "INFO", "WARNING", "ERROR")
    ),
    "TOKEN_TOUCH_SECONDS": Setting(
        int, 300, "record a token's last use at most this often", _non_negative
    ),
    "SQLITE_BUSY_TIMEOUT_MS": Setting(int, 15_000, "SQLite wait for a write lock", _positive),
    # A busy or stalled database: how long a request waits before it gets 503 (PostgreSQL).
    "DATABASE_LOCK_TIMEOUT_MS": Setting(
        int, 3_000, "a request waits this long for a lock before 503; 0 = no limit", _non_negative
    ),
    "DATABASE_STATEMENT_TIMEOUT_MS": Setting(
        int,
        30_000,
        "a request's SQL statement runs at most this long; 0 = no limit",
        _non_negative,
    ),
    "DATABASE_JOB_STATEMENT_TIMEOUT_MS": Setting(
        int,
        3_600_000,
        "statement (and lock wait) limit outside requests (CLI, scheduler, migrations) and for "
        "exports; 0 = no limit",
        _non_negative,
    ),
    "DATABASE_POOL_TIMEOUT_SECONDS": Setting(
        float, 5.0, "wait for a free pooled connection before 503", _positive
    ),
    "DATABASE_CONNECT_TIMEOUT_SECONDS": Setting(
        int, 3, "wait for a new PostgreSQL connection before 503 (libpq: at least 2)", _positive
    ),
    "BULK_REVIEW_MAX": Setting(
        int, 10_000, "most inspections one bulk review may decide on", _positive
    ),
    "METHODOLOGY_DIR": Setting(str, "", "folder of methodology TOML files; empty = shipped ones"),
    "EXTRA_METHODOLOGY_DIRS": Setting(
        str,
        "",
        "further folders of methodology TOML files, separated by ':', loaded after "
        "METHODOLOGY_DIR (ids must not repeat); empty = none",
    ),
    "METHODOLOGY_CACHE_SECONDS": Setting(
        float,
        5.0,
        "how long a process trusts its methodology versions before checking the database for "
        "versions other processes uploaded or published (0 = check at every use)",
        _non_negative,
    ),
    "LEGAL_CATALOGUE_FILE": Setting(str, "", "legal catalogue TOML; empty = the shipped one"),
    "DEFAULT_METHODOLOGY": Setting(
        str,
        "ombudsman-2019",
        "published methodology a run, report or page uses when none is named; empty = the "
        "newest published one (checked at start: it must be loaded and published)",
    ),
    # Evidence: photos and their storage.
    "PHOTO_MAX_BYTES": Setting(int, 15 * 1_048_576, "largest photo upload, bytes", _positive),
    "PHOTO_MAX_PIXELS": Setting(
        int, 50_000_000, "largest photo in pixels (decompression bombs)", _positive
    ),
    "PHOTO_PREVIEW_PX": Setting(int, 640, "longest side of a dashboard preview", _positive),
    "PHOTO_STORAGE": Setting(str, "local", "where photos live", _one_of("local", "s3")),
    "PHOTO_DIR": Setting(str, "", "local photo folder; empty = instance/photos"),
    "PHOTO_RETENTION_DAYS_REJECTED": Setting(
        int, 365, "keep photos of rejected inspections this long", _non_negative
    ),
    "S3_ENDPOINT_URL": Setting(str, "", "S3-compatible endpoint; empty = AWS"),
    "S3_BUCKET": Setting(str, "", "bucket for photos when PHOTO_STORAGE = s3"),
    "S3_REGION": Setting(str, "us-east-1", "S3 region"),
    "S3_PREFIX": Setting(str, "photos/", "key prefix inside the bucket"),
    # Integrity flags (thresholds; flags inform reviewers and never drop data).
    "INTEGRITY_MAX_DISTANCE_M": Setting(
        float, 300.0, "farthest a visit's GPS may be from the unit", _positive
    ),
    "INTEGRITY_MIN_MINUTES_ON_SITE": Setting(
        float, 10.0, "shortest plausible visit, minutes", _non_negative
    ),
    "INTEGRITY_MAX_CLOCK_SKEW_MINUTES": Setting(
        float, 10.0, "how far finished_at may be ahead of receipt", _non_negative
    ),
    "INTEGRITY_MAX_RECEIPT_DELAY_DAYS": Setting(
        float, 7.0, "longest plausible delay between a visit and its receipt", _positive
    ),
    "INTEGRITY_MAX_SPEED_KMH": Setting(
        float, 120.0, "fastest plausible travel between two visits", _positive
    ),
    "INTEGRITY_EXIF_MARGIN_MINUTES": Setting(
        float, 30.0, "EXIF capture time allowed outside the visit window", _non_negative
    ),
    "SCHEDULER_CRON": Setting(
        str, "0 2 * * *", "nightly zoning run (crontab: m h dom mon dow)", _cron
    ),
    "SCHEDULER_TIMEZONE": Setting(str, "Asia/Jakarta", "zone of SCHEDULER_CRON", _timezone),
    "SCHEDULER_MISFIRE_GRACE_SECONDS": Setting(
        int, 3600, "a nightly run late by up to this much still runs", _positive
    ),
    "SCHEDULER_QUEUE_POLL_SECONDS": Setting(
        int, 10, "how often the scheduler starts runs queued via the API or a page", _positive
    ),
    "ZONING_LEASE_SECONDS": Setting(
        int, 300, "a run's lease lasts this long without a heartbeat", _positive
    ),
    "ZONING_HEARTBEAT_SECONDS": Setting(
        int, 15, "a running run renews its lease at most this often", _non_negative
    ),
    # The web app (fieldcheck/web): sessions, logins, lockout.
    "SECRET_KEY": Setting(
        str, "", "signs CSRF tokens; empty = a key kept in instance/secret_key (one machine)"
    ),
    "SESSION_COOKIE_SECURE": Setting(
        bool, True, "send the login cookie over HTTPS only (browsers allow localhost)"
    ),
    "WEB_SESSION_HOURS": Setting(int, 12, "a login lasts this long without use", _positive),
    "LOGIN_MAX_FAILURES": Setting(
        int, 5, "wrong passwords in a row before an account is locked", _positive
    ),
    "LOGIN_LOCKOUT_MINUTES": Setting(int, 15, "how long a locked account stays locked", _positive),
    "LOGIN_RATE_LIMIT": Setting(str, "20 per minute", "login attempts per client address"),
    "PUBLIC_BASE_URL": Setting(
        str,
        "",
        "address phones reach this server at (token QR codes); empty = the admin's browser's",
        _base_url,
    ),
    "RATELIMIT_STORAGE_URI": Setting(
        str, "memory://", "Flask-Limiter storage (memory:// per process; redis://... shared)"
    ),
    "RATELIMIT_ENABLED": Setting(
        bool, True, "apply the rate limits below (a benchmark may turn them off)"
    ),
    "RATELIMIT_PER_TOKEN": Setting(
        str, "1200 per minute", "requests per API token, all endpoints together", _limit
    ),
    "RATELIMIT_PER_ADDRESS": Setting(
        str, "600 per minute", "requests per client address without a bearer token", _limit
    ),
    "RATELIMIT_FAILED_AUTH": Setting(
        str,
        "30 per minute; 300 per hour",
        "refused bearer tokens per client address; past it the address waits",
        _limit,
    ),
    "TRUSTED_PROXIES": Setting(
        int, 0, "reverse proxies in front (X-Forwarded-For hops trusted); 0 = none", _non_negative
    ),
    "LOG_FORMAT": Setting(str, "json", "log lines as json or text", _one_of("json", "text")),
    "METRICS_TOKEN": Setting(
        str, "", "bearer token for GET /metrics; empty = only from this machine (loopback)"
    ),
    "EXPORT_MAX_ROWS": Setting(int, 1_000_000, "most rows one CSV/XLSX export writes", _positive),
    # The audit chain (fieldcheck/audit; decisions.md, "Issue 14: the audit chain").
    "AUDIT_KEY": Setting(
        str, "", "the audit chain's HMAC key (env FIELDCHECK_AUDIT_KEY); empty = audit.key_file"
    ),
    "AUDIT_KEY_FILE": Setting(
        str, "", "file of audit keys, one a line, first seals; empty = instance/audit_key"
    ),
    "AUDIT_SEAL_SECONDS": Setting(
        int, 5, "the scheduler seals new audit entries this often", _positive
    ),
    "AUDIT_SEAL_BATCH": Setting(int, 1000, "audit entries sealed per transaction", _positive),
    "AUDIT_SEAL_GRACE_SECONDS": Setting(
        int, 900, "audit verify reports entries left unsealed longer than this", _positive
    ),
    "AUDIT_CHECKPOINT_SECONDS": Setting(
        int, 60, "write the chain's head to the checkpoint file at most this often", _non_negative
    ),
    "AUDIT_CHECKPOINT_FILE": Setting(
        str, "", "append-only file of signed chain heads; empty = instance/audit-checkpoints.jsonl"
    ),
    # Webhooks (fieldcheck/webhooks; decisions.md, "Issue 15: webhooks").
    "WEBHOOKS_MAX_ATTEMPTS": Setting(
        int, 8, "attempts of a delivery before it is dead-lettered", _positive
    ),
    "WEBHOOKS_BACKOFF_SECONDS": Setting(
        float, 30.0, "wait before the 2nd attempt; doubles each time (with jitter)", _positive
    ),
    "WEBHOOKS_BACKOFF_MAX_SECONDS": Setting(
        float, 3600.0, "longest wait between two attempts", _positive
    ),
    "WEBHOOKS_CONNECT_TIMEOUT_SECONDS": Setting(
        float, 5.0, "wait this long for a receiver's TCP/TLS connection", _positive
    ),
    "WEBHOOKS_READ_TIMEOUT_SECONDS": Setting(
        float, 10.0, "wait this long for a receiver's answer", _positive
    ),
    "WEBHOOKS_ALLOW_PRIVATE_TARGETS": Setting(
        bool, False, "deliver to loopback, private, link-local and reserved addresses too"
    ),
    "WEBHOOKS_POLL_SECONDS": Setting(
        float, 5.0, "the worker looks for new events and due deliveries this often", _positive
    ),
    "WEBHOOKS_BATCH": Setting(
        int, 20, "deliveries a worker claims at once (and outbox events fanned out)", _positive
    ),
    "WEBHOOKS_KEEP_DELIVERED_DAYS": Setting(
        int,
        90,
        "delete delivered deliveries (with their attempt log) and fanned-out outbox events "
        "older than this many days; 0 keeps them",
        _non_negative,
    ),
    "WEBHOOKS_KEEP_DEAD_DAYS": Setting(
        int,
        180,
        "delete dead deliveries not redelivered for this many days; 0 keeps them",
        _non_negative,
    ),
}


#: FIELDCHECK_* variables that belong to tooling (FIELDCHECK_TEST_DATABASE_URL, ...).
TOOLING_PREFIXES = ("TEST_", "BENCH_", "REQUIRE_")
#: FIELDCHECK_* variables read by deploy/gunicorn.conf.py (the server's shape), not by the app;
#: systemd hands the service one environment file for both.
SERVER_KEYS = frozenset({"BIND", "WORKERS", "THREADS"})


def _coerce(key: str, raw: Any, source: str) -> Any:
    setting = SETTINGS[key]
    if setting.type is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in {
            "1",
            "true",
            "yes",
            "on",
            "0",
            "false",
            "no",
            "off",
        }:
            return raw.lower() in {"1", "true", "yes", "on"}
        raise ConfigError(f"{key} (from {source}): expected true/false, got {raw!r}")
    if setting.type is int:
        if isinstance(raw, bool):
            raise ConfigError(f"{key} (from {source}): expected a whole number, got {raw!r}")
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{key} (from {source}): expected a whole number, got {raw!r}"
            ) from None
    if setting.type is float:
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} (from {source}): expected a number, got {raw!r}") from None
    if not isinstance(raw, str):
        raise ConfigError(f"{key} (from {source}): expected text, got {raw!r}")
    return raw


def _flatten_toml(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in data.items():
        key = f"{prefix}{name}".upper()
        if isinstance(value, dict):
            flat.update(_flatten_toml(value, f"{prefix}{name}_"))
        else:
            flat[key] = value
    return flat


def load_config(
    override: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    instance_path: str | None = None,
) -> dict[str, Any]:
    """The validated configuration from all layers; ConfigError names any bad key."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {key: s.default for key, s in SETTINGS.items()}
    sources: dict[str, str] = dict.fromkeys(SETTINGS, "defaults")

    path = environ.get("FIELDCHECK_CONFIG")
    if path:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"FIELDCHECK_CONFIG points to {path}, which does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        for key, raw in _flatten_toml(data).items():
            if key not in SETTINGS:
                raise ConfigError(f"{path}: unknown setting {key.lower()!r}")
            values[key] = _coerce(key, raw, path)
            sources[key] = path

    for env_key, raw in environ.items():
        if not env_key.startswith("FIELDCHECK_") or env_key in {"FIELDCHECK_CONFIG"}:
            continue
        key = env_key.removeprefix("FIELDCHECK_")
        if key.startswith(TOOLING_PREFIXES) or key in SERVER_KEYS:
            continue  # read by the test suite, CI, benchmarks or gunicorn, not by the app
        if key not in SETTINGS:
            raise ConfigError(f"environment variable {env_key}: unknown setting")
        values[key] = _coerce(key, raw, env_key)
        sources[key] = env_key

    extra: dict[str, Any] = {}
    for key, raw in (override or {}).items():
        if key in SETTINGS:
            values[key] = _coerce(key, raw, "override")
            sources[key] = "override"
        else:
            extra[key] = raw  # Flask's own keys (TESTING...) pass through untouched

    for key, setting in SETTINGS.items():
        if setting.check is not None:
            problem = setting.check(values[key])
            if problem:
                raise ConfigError(f"{key} (from {sources[key]}): {problem}")

    if not values["DATABASE_URL"]:
        base = Path(instance_path or "instance")
        base.mkdir(parents=True, exist_ok=True)
        values["DATABASE_URL"] = f"sqlite:///{(base / 'fieldcheck.db').resolve()}"
    if not values["SECRET_KEY"]:
        values["SECRET_KEY"] = _instance_secret(Path(instance_path or "instance"))
    if values["DATABASE_URL"].startswith("postgresql:"):
        # Use the psycopg 3 driver we ship rather than SQLAlchemy's psycopg2 default.
        values["DATABASE_URL"] = values["DATABASE_URL"].replace(
            "postgresql:", "postgresql+psycopg:", 1
        )
    if values["MIGRATION_DATABASE_URL"].startswith("postgresql:"):
        values["MIGRATION_DATABASE_URL"] = values["MIGRATION_DATABASE_URL"].replace(
            "postgresql:", "postgresql+psycopg:", 1
        )
    values.update(extra)
    return values


def _instance_secret(base: Path) -> str:
    """The key in ``instance/secret_key``, made on first use: ``make run`` needs no setup, and
    every process of one machine signs alike. Several machines must share ``secret_key`` in the
    configuration instead (docs/deploy.md)."""
    path = base / "secret_key"
    if not path.exists():
        write_secret_file(path)
    return path.read_text().strip()


def write_secret_file(path: Path) -> None:
    """Create ``path`` (mode 0600) holding a new random key, unless another process made it first.

    Written whole under another name, synced, then linked: of two processes starting at once, one
    link wins and both read the same key (never a half-written file).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_hex(32) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
