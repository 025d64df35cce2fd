"""Dialect helpers of a zoning run: transactions, id lists, bulk inserts, the planner's statistics.

What differs between SQLite and PostgreSQL in how a run writes and reads lives here, so the
run's phases read as one algorithm: how the read snapshot and the write transaction begin, an
id list as one array parameter or an IN list, COPY or executemany, values sqlite3 cannot bind,
and when PostgreSQL must ANALYZE before it can plan the run's statements well.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Integer, any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

from fieldcheck.zoning.models import ZoningResult


@contextmanager
def _read_snapshot(conn: Connection) -> Iterator[Connection]:
    """A transaction on one consistent snapshot of the database (for the read phase)."""
    if conn.dialect.name == "sqlite":
        # A deferred BEGIN: WAL gives a stable snapshot without taking the write lock (writes to
        # the temporary work table do not take it either).
        conn.execution_options(fieldcheck_read_snapshot=True)
    else:
        conn.execution_options(isolation_level="REPEATABLE READ")
    with conn.begin():
        yield conn


@contextmanager
def _write_transaction(conn: Connection) -> Iterator[Connection]:
    """A write transaction on the same connection (it still sees the work table)."""
    if conn.dialect.name == "sqlite":
        conn.execution_options(fieldcheck_read_snapshot=False)
    else:
        conn.execution_options(isolation_level="READ COMMITTED")
    with conn.begin():
        yield conn


def _among(column: Any, ids: list[int], dialect: str) -> Any:
    """``column IN ids``. On PostgreSQL ``column = ANY(:ids)`` with one array parameter: an IN
    list is one parameter per id, rendered by SQLAlchemy and parsed by psycopg at every run."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Integer)))
    return column.in_(ids)


def _bulk_insert(
    conn: Connection, table_: Any, columns: tuple[str, ...], rows: list[tuple]
) -> None:
    """Insert many rows (tuples in ``columns`` order; JSON columns as JSON text) in ``conn``'s
    transaction: COPY on PostgreSQL, the driver's executemany on SQLite.

    psycopg's executemany sends one INSERT per row; COPY streams them in one command. On SQLite,
    SQLAlchemy's per-row parameter processing cost more than the insert itself.
    """
    if not rows:
        return
    cursor = conn.connection.driver_connection.cursor()
    names = ", ".join(columns)  # our own identifiers
    if conn.dialect.name == "postgresql":
        with cursor.copy(f"COPY {table_.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cursor.executemany(f"INSERT INTO {table_.name} ({names}) VALUES ({marks})", rows)  # noqa: S608


def _sql_value(value: Any) -> Any:
    # sqlite3 cannot bind Decimal; the NUMERIC column stores the text as a number.
    return str(value) if isinstance(value, Decimal) else value


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _refresh_statistics(conn: Connection, table_name: str) -> bool:
    """ANALYZE a table on PostgreSQL when it has no statistics or most of its rows are new.

    Without them (a fresh or bulk-loaded database, before autovacuum gets there) PostgreSQL
    guessed badly: an incremental run's 200-unit id list was planned as a sequential scan of
    every inspection, and the self-joins on unit code of shared runs as nested loops over whole
    runs (seconds instead of milliseconds). Once analyzed, autovacuum keeps them current.
    Returns whether it analyzed.
    """
    if conn.dialect.name != "postgresql":
        return False
    stale = conn.execute(
        text(
            "SELECT c.reltuples < 0 OR s.n_mod_since_analyze > c.reltuples "
            "FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.oid = CAST(:name AS regclass)"
        ),
        {"name": table_name},
    ).scalar()
    if stale:
        conn.exec_driver_sql(f"ANALYZE {table_name}")  # one of our own table names
    return bool(stale)


def _analyze_run_ids(conn: Connection) -> None:
    """PostgreSQL: refresh the planner's statistics on ``zoning_results.run_id``.

    Autovacuum re-analyzes a big results table only every ~10% of growth, so the newest runs'
    ids are unknown to the planner, which then expects one row for them. The queries that
    resolve a shared run's rows (semi- and anti-joins on unit code between its own rows and its
    anchor's) were then planned as nested loops re-scanning one side per row of the other:
    quadratic in the run's own rows. A complete run's rows are what later runs compare with:
    with them unknown, and no index on the work table's codes, the first run sharing a fresh
    national anchor took seconds; one column's statistics cost a few milliseconds
    (docs/decisions.md, "Timings").
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {ZoningResult.__tablename__} (run_id)")
