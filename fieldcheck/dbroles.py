"""PostgreSQL roles: the owner runs migrations, the app connects as a role that owns nothing.

An insider who gets the app's credentials (or code execution in a worker) should be able to do
what the app does and no more: no TRUNCATE, no DDL, no UPDATE or DELETE on the append-only audit
tables. Ownership would allow all of that (an owner may drop its own triggers), so the tables
belong to an owner role used only by ``flask db ...``, and after every upgrade the owner runs
``flask --app app db grant-app-role`` to give the app role exactly:

- ``SELECT, INSERT, UPDATE, DELETE`` on ordinary tables;
- ``SELECT, INSERT`` on append-only tables (every table named ``audit_*``);
- ``SELECT`` on ``alembic_version`` (which migration the schema is at) and on views;
- ``USAGE, SELECT`` on sequences (ids), ``USAGE`` on the schema, ``CONNECT`` and ``TEMPORARY``
  on the database (a zoning run builds its work table as a temporary table);
- for tables and sequences the owner creates later: ``SELECT, INSERT`` and ``USAGE, SELECT``
  only, so a new ``audit_*`` table is never writable beyond INSERT in the window between
  ``db upgrade`` and ``grant-app-role`` (new code that updates a new table runs only after it).

The command first revokes everything the role holds in the schema, so running it again puts
back exactly this set whatever was granted by hand before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

#: Tables whose names start with this are append-only: the app may read and add, never change.
APPEND_ONLY_PREFIX = "audit_"
#: Tables the app reads but never writes.
READ_ONLY_TABLES = frozenset({"alembic_version"})
READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
APPEND_ONLY = ("SELECT", "INSERT")
READ_ONLY = ("SELECT",)
#: A plain role name: the command quotes it anyway, but odd names are a typo more often than not.
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleProblem(Exception):
    """The app role cannot be granted safely (missing, superuser, an owner...)."""


def migration_url(app: Flask) -> str:
    """The URL ``flask db ...`` connects with: MIGRATION_DATABASE_URL, else DATABASE_URL."""
    return app.config["MIGRATION_DATABASE_URL"] or app.config["DATABASE_URL"]


def migration_engine(app: Flask) -> Engine:
    """An engine connected as the tables' owner (one per app; no pool: commands run once)."""
    from fieldcheck.extensions import db

    if not app.config["MIGRATION_DATABASE_URL"]:
        return db.engine
    engine = app.extensions.get("fieldcheck_migration_engine")
    if engine is None:
        engine = create_engine(app.config["MIGRATION_DATABASE_URL"], poolclass=NullPool)
        app.extensions["fieldcheck_migration_engine"] = engine
    return engine


def app_role_of(app: Flask) -> str | None:
    """The role DATABASE_URL logs in as, when migrations use another URL (else None)."""
    if not app.config["MIGRATION_DATABASE_URL"]:
        return None
    return make_url(app.config["DATABASE_URL"]).username


def privileges_for(table: str) -> tuple[str, ...]:
    """What the app role may do to ``table``."""
    if table in READ_ONLY_TABLES:
        return READ_ONLY
    if table.startswith(APPEND_ONLY_PREFIX):
        return APPEND_ONLY
    return READ_WRITE


@dataclass(frozen=True)
class Schema:
    """What the owner's schema holds right now."""

    database: str
    schema: str
    owner: str
    tables: tuple[str, ...]
    views: tuple[str, ...]


def grant_statements(role: str, schema: Schema, quote) -> list[str]:
    """The SQL that gives ``role`` exactly the app's privileges on ``schema`` (pure: no I/O).

    ``quote`` quotes an identifier (the dialect's ``identifier_preparer.quote``).
    """
    r, s, owner = quote(role), quote(schema.schema), quote(schema.owner)
    statements = [
        # Start from nothing, so a privilege granted by hand does not survive the next run.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {r}",
        f"REVOKE ALL ON SCHEMA {s} FROM {r}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {s} REVOKE ALL ON TABLES FROM {r}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {s} REVOKE ALL ON SEQUENCES FROM {r}",
        # PostgreSQL before 15 (and clusters upgraded from it) let every role create tables in
        # public: that would be DDL for the app role through PUBLIC.
        f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC",
        f"GRANT CONNECT, TEMPORARY ON DATABASE {quote(schema.database)} TO {r}",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
    ]
    by_privileges: dict[tuple[str, ...], list[str]] = {}
    for table in schema.tables:
        by_privileges.setdefault(privileges_for(table), []).append(table)
    if schema.views:
        by_privileges.setdefault(READ_ONLY, []).extend(schema.views)
    for privileges, names in by_privileges.items():
        listed = ", ".join(f"{s}.{quote(name)}" for name in sorted(names))
        statements.append(f"GRANT {', '.join(privileges)} ON TABLE {listed} TO {r}")
    statements += [
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {s} "
        f"GRANT {', '.join(APPEND_ONLY)} ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {s} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {r}",
    ]
    return statements


def read_schema(conn: Connection) -> Schema:
    """The current database, schema, connected user (the owner) and its tables and views."""
    database, schema, owner = conn.execute(
        text("SELECT current_database(), current_schema(), current_user")
    ).one()
    rows = conn.execute(
        text(
            "SELECT c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm') "
            "ORDER BY c.relname"
        )
    ).all()
    tables = tuple(name for name, kind in rows if kind in ("r", "p"))
    views = tuple(name for name, kind in rows if kind in ("v", "m"))
    return Schema(database, schema, owner, tables, views)


def role_problems(conn: Connection, role: str) -> list[str]:
    """Why ``role`` must not become the app role (empty when it may)."""
    if not ROLE_NAME.match(role):
        return [f"{role!r} is not a plain role name (lower-case letters, digits, _)"]
    row = conn.execute(
        text(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, "
            "pg_has_role(:role, current_user, 'MEMBER'), current_user "
            "FROM pg_roles WHERE rolname = :role"
        ),
        {"role": role},
    ).one_or_none()
    if row is None:
        return [
            f"role {role} does not exist: CREATE ROLE {role} LOGIN PASSWORD '...' (docs/deploy.md)"
        ]
    superuser, createrole, createdb, bypassrls, member_of_owner, owner = row
    problems = []
    if role == owner:
        problems.append(f"{role} is the owner running this command; the app needs its own role")
    elif member_of_owner:
        problems.append(f"{role} is a member of the owner {owner} and so holds its privileges")
    if superuser or createrole or createdb or bypassrls:
        problems.append(
            f"{role} has SUPERUSER, CREATEROLE, CREATEDB or BYPASSRLS: "
            f"ALTER ROLE {role} NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS"
        )
    owned = (
        conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND pg_get_userbyid(c.relowner) = :role "
                "ORDER BY c.relname LIMIT 5"
            ),
            {"role": role},
        )
        .scalars()
        .all()
    )
    if owned and role != owner:
        problems.append(
            f"{role} owns {', '.join(owned)}: run the migrations as the owner "
            "(REASSIGN OWNED BY the app role TO the owner)"
        )
    return problems


@dataclass(frozen=True)
class GrantReport:
    """What ``grant_app_role`` did, for the command's summary."""

    role: str
    owner: str
    statements: list[str]
    read_write: tuple[str, ...]
    append_only: tuple[str, ...]
    read_only: tuple[str, ...]


def grant_app_role(engine: Engine, role: str, *, execute: bool = True) -> GrantReport:
    """Give ``role`` exactly the app's privileges, in one transaction, as the connected owner.

    Raises RoleProblem when the role is missing or would hold more than the app needs.
    With ``execute=False`` nothing changes: the report carries the SQL to review.
    """
    if engine.dialect.name != "postgresql":
        raise RoleProblem("database roles are a PostgreSQL matter; SQLite has none")
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as conn:
        problems = role_problems(conn, role)
        if problems:
            raise RoleProblem("; ".join(problems))
        schema = read_schema(conn)
        statements = grant_statements(role, schema, quote)
        if execute:
            for statement in statements:
                conn.execute(text(statement))
            left = _excess(conn, role)
            if left:
                # Rolled back with the transaction: half-granted is not a state to leave.
                raise RoleProblem(f"{role} would still hold {left}")
    return GrantReport(
        role=role,
        owner=schema.owner,
        statements=statements,
        read_write=_with(schema.tables, READ_WRITE),
        append_only=_with(schema.tables, APPEND_ONLY),
        read_only=(*_with(schema.tables, READ_ONLY), *schema.views),
    )


def _with(tables: Iterable[str], privileges: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(t for t in tables if privileges_for(t) == privileges)


def _excess(conn: Connection, role: str) -> str | None:
    """A privilege ``role`` still holds that the app must not (through PUBLIC or a grant)."""
    if conn.execute(
        text("SELECT has_schema_privilege(:role, current_schema(), 'CREATE')"), {"role": role}
    ).scalar():
        return (
            "CREATE on the schema (through PUBLIC): as the schema's owner, "
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC"
        )
    truncatable = conn.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
            "AND (has_table_privilege(:role, c.oid, 'TRUNCATE') "
            "OR has_table_privilege(:role, c.oid, 'TRIGGER') "
            "OR has_table_privilege(:role, c.oid, 'REFERENCES')) LIMIT 1"
        ),
        {"role": role},
    ).scalar()
    if truncatable:
        return f"TRUNCATE, TRIGGER or REFERENCES on {truncatable} (granted to PUBLIC?)"
    return None
