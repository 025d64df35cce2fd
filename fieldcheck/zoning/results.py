"""Reading a run's result rows: the one place that knows how runs share unit rows.

A *complete* run (``anchor_run_id`` NULL) stores every result row itself, ranks included. A run
with an anchor stores its agency, regency and province rows, but at unit level only the rows that
differ from its anchor (a complete run of the same methodology, catalogue, period and scope),
plus a tombstone (``is_removed``) for an anchor unit it no longer has. Its unit set is "own rows,
else the anchor's", and unit ranks are computed when read (the stored ones would be stale).

Why: a nightly run that recomputes 1% of the units would otherwise copy 99% of a national result
set (20,000 rows) every night just to keep runs immutable (docs/decisions.md).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import Boolean, Select, exists, func, literal, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from fieldcheck.zoning.models import ZoningResult

#: Columns of a resolved row, in table order (``is_removed`` is never true in a resolved row).
COLUMNS = (
    "id",
    "run_id",
    "level",
    "code",
    "name",
    "region_code",
    "agency_code",
    "score",
    "zone",
    "grade",
    "label",
    "rank",
    "members",
    "inspection_ids",
)


class _InSelect(FunctionElement):
    """``column IN (SELECT ...)``, written ``column = ANY(ARRAY(SELECT ...))`` on PostgreSQL.

    PostgreSQL plans the IN form as a join, and a join with the newest runs' rows (which its
    statistics do not know yet) could scan a whole anchor run or re-scan one side per row of the
    other. The ANY form computes the codes once and looks them up in the (run, level, code)
    index whatever the estimates. SQLite already plans IN that way.
    """

    type = Boolean()
    name = "in_select"
    inherit_cache = True
    #: A condition in itself: SQLite must not get it compared with 1 (no index would be used).
    _is_implicitly_boolean = True


@compiles(_InSelect)
def _in_select(element: Any, compiler: Any, **kw: Any) -> str:
    column, rows = element.clauses
    return f"{compiler.process(column, **kw)} IN {compiler.process(rows, **kw)}"


@compiles(_InSelect, "postgresql")
def _in_select_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    column, rows = element.clauses
    return f"{compiler.process(column, **kw)} = ANY(ARRAY{compiler.process(rows, **kw)})"


def code_in(column: Any, codes: Any) -> Any:
    """``column`` is one of ``codes`` (a list, or a SELECT of one column)."""
    if isinstance(codes, Select):
        return _InSelect(column, codes.scalar_subquery())
    return column.in_(codes)


def _columns(table: Any, run_id: int) -> list[Any]:
    return [
        literal(run_id).label("run_id") if name == "run_id" else table.c[name] for name in COLUMNS
    ]


def shared_unit_rows(run_id: int, anchor_id: int, codes: Any = None) -> Select:
    """The anchor's unit rows a run shares: those it has no own row (or tombstone) for."""
    r = ZoningResult.__table__
    own = r.alias("own")
    query = select(*_columns(r, run_id)).where(
        r.c.run_id == anchor_id,
        r.c.level == "unit",
        ~exists().where(own.c.run_id == run_id, own.c.level == "unit", own.c.code == r.c.code),
    )
    return query if codes is None else query.where(code_in(r.c.code, codes))


def unit_rows(run_id: int, anchor_id: int | None, ranked: bool = True, codes: Any = None) -> Select:
    """Every unit row of a run, resolved: a SELECT with the table's columns (``COLUMNS``).

    ``ranked``: compute the ranks of a run with an anchor (a window over the whole resolved set,
    so it is the national rank whatever the caller filters afterwards); without it the ``rank``
    column of such a run is meaningless (0 or the anchor's), and the query is cheaper.
    ``codes``: only these units (a list or a SELECT of codes), filtered inside each branch.
    """
    r = ZoningResult.__table__
    own = select(*_columns(r, run_id)).where(
        r.c.run_id == run_id, r.c.level == "unit", r.c.is_removed.is_(False)
    )
    if codes is not None:
        own = own.where(code_in(r.c.code, codes))
    if anchor_id is None:
        return own
    shared = shared_unit_rows(run_id, anchor_id, codes)
    both = union_all(own, shared).subquery("resolved")
    if not ranked:
        return select(*[both.c[name] for name in COLUMNS])
    position = func.rank().over(order_by=both.c.score.desc()).label("rank")
    return select(*[position if name == "rank" else both.c[name] for name in COLUMNS])


def level_rows(run: Any, level: str) -> Select:
    """A run's rows at one level (resolved, ranked): a SELECT with the columns of ``COLUMNS``.

    Wrap it as a subquery to filter and order by its columns.
    """
    if level == "unit":
        return unit_rows(run.id, run.anchor_run_id)
    r = ZoningResult.__table__
    return select(*_columns(r, run.id)).where(r.c.run_id == run.id, r.c.level == level)


def unit_row(session: Any, run: Any, code: str) -> Any | None:
    """One unit's resolved row in ``run`` (rank included); None when the run has none for it."""
    r = ZoningResult.__table__
    row = session.execute(
        select(r.c.is_removed, *_columns(r, run.id)).where(
            r.c.run_id == run.id, r.c.level == "unit", r.c.code == code
        )
    ).first()
    if row is not None and row.is_removed:
        return None
    if row is None and run.anchor_run_id is not None:
        row = session.execute(
            select(*_columns(r, run.id)).where(
                r.c.run_id == run.anchor_run_id, r.c.level == "unit", r.c.code == code
            )
        ).first()
    if row is None or run.anchor_run_id is None:
        return row
    # Competition rank over the resolved set: 1 + the units scoring strictly higher.
    resolved = unit_rows(run.id, run.anchor_run_id, ranked=False).subquery()
    higher = session.execute(
        select(func.count()).select_from(resolved).where(resolved.c.score > row.score)
    ).scalar_one()
    values = {name: getattr(row, name) for name in COLUMNS}
    values["rank"] = higher + 1
    return SimpleNamespace(**values)
