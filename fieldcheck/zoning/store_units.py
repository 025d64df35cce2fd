"""A zoning run's unit rows: computed in SQL from the work table, shared with an anchor or whole.

A run of the same methodology, catalogue and period as a *complete* run (its anchor) stores
only the unit rows that differ from the anchor, tombstones for the anchor's units it no longer
has, and (incremental) what its base run stored for units it did not recompute; readers
resolve the rest from the anchor (fieldcheck.zoning.results). A run whose differences would
exceed ``MAX_SHARED_FRACTION`` of the units (fieldcheck.zoning.plan) stores every unit row,
ranked, and becomes the next anchor.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Numeric,
    Text,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from fieldcheck.core.model import Methodology
from fieldcheck.zoning.models import ZoningResult
from fieldcheck.zoning.plan import _Plan, _shared_limit
from fieldcheck.zoning.results import COLUMNS as RESULT_ROW_COLUMNS
from fieldcheck.zoning.results import code_in
from fieldcheck.zoning.worktable import WORK

#: The stored columns of a result row, in table order (the id is generated).
RESULT_COLUMNS = RESULT_ROW_COLUMNS[1:]


class _UnitSQL:
    """A unit row's values as SQL over the work table, generated from the methodology.

    This SQL is the rule of record for unit rows (fieldcheck.core.rollup says where each rule
    lives): the mean of integer hundredths rounded half up is ``(2 * total + n) // (2 * n)``; a
    band covers ``min <= score <= max``; ranks are competition ranks by score. The same rules
    written plainly are the test oracle (``unit_rows`` in tests/core/oracle.py), and
    tests/zoning/test_oracle_property.py holds the stored rows equal to it.
    """

    def __init__(self, conn: Connection, methodology: Methodology) -> None:
        places = methodology.rounding_places
        scale = 10**places
        w = WORK.c
        self.rows = (
            select(
                w.code,
                w.name,
                w.region_code,
                w.agency_code,
                w.scored,
                w.ids,
                ((2 * w.total + w.scored) // (2 * w.scored)).label("scaled"),
            )
            .where(w.scored > 0)
            .subquery("computed")
        )
        c = self.rows.c
        self.postgresql = conn.dialect.name == "postgresql"
        if self.postgresql:
            self.score = cast(cast(c.scaled, Numeric) / scale, Numeric(5, places))
            self.ids = cast(literal("[").concat(c.ids).concat("]"), JSONB)
        else:
            # A REAL, as the NUMERIC column stores any score written as text.
            self.score = cast(c.scaled, Numeric).op("*")(literal_column("1.0")) / scale
            self.ids = literal("[").concat(c.ids).concat("]")
        # Scores are whole multiples of 10**-places: min rounds up, max down.
        bounds = [
            (math.ceil(band.min * scale), math.floor(band.max * scale), band)
            for band in methodology.bands
        ]
        self.zone, self.grade, self.label = (
            case(
                *[(and_(c.scaled >= lo, c.scaled <= hi), getattr(b, attr)) for lo, hi, b in bounds]
            )
            for attr in ("zone", "grade", "label")
        )

    def ids_differ(self, stored: Any) -> Any:
        """True when a stored row's inspection ids are not the computed ones (members equal).

        PostgreSQL aggregates ids in no particular order, so it compares sets: with as many
        distinct ids on both sides, containment is equality. Its text form is compared first:
        the same plan over the same rows gives the same order, and equal text settles it at a
        third of the cost of parsing the list (the set test decides only when the text
        differs). SQLite builds them ascending.
        """
        if self.postgresql:
            c = self.rows.c
            as_stored = literal("[").concat(func.replace(c.ids, ",", ", ")).concat("]")
            return and_(
                cast(stored, Text) != as_stored,
                ~stored.op("@>", return_type=Boolean)(self.ids),
            )
        return stored != self.ids

    def values(self, run_id: int, rank: Any) -> list[Any]:
        """The columns of RESULT_COLUMNS for a computed unit."""
        c = self.rows.c
        return [
            literal(run_id),
            literal("unit"),
            c.code,
            c.name,
            c.region_code,
            c.agency_code,
            self.score,
            self.zone,
            self.grade,
            self.label,
            rank,
            c.scored,
            self.ids,
        ]


def _insert_units(conn: Connection, run_id: int, plan: _Plan, sql: _UnitSQL) -> tuple[Any, int]:
    """Write the run's unit rows; returns (the anchor it shares rows with or None, rows written).

    Shares the anchor's rows when the run differs from it in few enough units; otherwise writes
    every unit row, ranked (a full run), or the run is a new anchor.
    """
    anchor = plan.anchor
    if anchor is not None and not _share_anchor_rows(conn, run_id, plan, sql):
        anchor = None
    if anchor is None:
        _insert_every_unit(conn, run_id, plan, sql)
    return anchor, _own_unit_rows(conn, run_id)


def _share_anchor_rows(conn: Connection, run_id: int, plan: _Plan, sql: _UnitSQL) -> bool:
    """Write only the unit rows in which the run differs from its anchor: its differing rows,
    tombstones, and (incremental) what its base kept. False, with none of them left, when a full
    run differs in too many units to share."""
    r = ZoningResult.__table__
    anchor = plan.anchor
    full = plan.mode == "full"
    conn.execute(
        insert(r).from_select(
            [*RESULT_COLUMNS, "is_removed"],
            _differing_units(run_id, anchor, sql).add_columns(literal(False)),
        )
    )
    tombstones = _tombstones(run_id, anchor, full)
    if full and not _anchor_units_missing(conn, run_id, anchor):
        tombstones = None  # the usual full run: no anchor unit dropped out
    kept = None if full else _kept_from_base(run_id, plan.base)
    for query in (tombstones, kept):
        if query is not None:
            conn.execute(insert(r).from_select([*RESULT_COLUMNS, "is_removed"], query))
    if full and _own_unit_rows(conn, run_id) > _shared_limit(anchor):
        # Too different to share (rare: a methodology change already has no anchor): the
        # run is stored whole instead, and becomes the next anchor.
        conn.execute(delete(r).where(r.c.run_id == run_id, r.c.level == "unit"))
        return False
    return True


def _differing_units(run_id: int, anchor: Any, sql: _UnitSQL) -> Any:
    """The run's computed unit rows that the anchor lacks or has with other values."""
    c = sql.rows.c
    a = ZoningResult.__table__.alias("anchor")
    on_anchor = and_(a.c.run_id == anchor.id, a.c.level == "unit", a.c.code == c.code)
    return (
        select(*sql.values(run_id, literal(0)))
        .select_from(sql.rows.outerjoin(a, on_anchor))
        .where(
            or_(
                a.c.id.is_(None),
                a.c.score != sql.score,
                a.c.name != c.name,
                a.c.region_code.is_distinct_from(c.region_code),
                a.c.agency_code.is_distinct_from(c.agency_code),
                a.c.members != c.scored,
                sql.ids_differ(a.c.inspection_ids),
            )
        )
    )


def _tombstones(run_id: int, anchor: Any, full: bool) -> Any:
    """Removed-unit rows for the anchor units the run no longer has: any of them in a full run,
    among its computed units in an incremental one (driven from the work table: 1% of the
    units)."""
    a = ZoningResult.__table__.alias("anchor")
    w = WORK.alias("w")
    tombstone = [
        literal(run_id),
        literal("unit"),
        a.c.code,
        a.c.name,
        a.c.region_code,
        a.c.agency_code,
        literal(0),
        literal(""),
        literal(""),
        literal(""),
        literal(0),
        literal(0),
        literal(None),
        literal(True),
    ]
    if full:
        return select(*tombstone).where(
            a.c.run_id == anchor.id,
            a.c.level == "unit",
            ~exists().where(w.c.code == a.c.code, w.c.scored > 0),
        )
    # Looked up by code (code_in), not joined: SQLite walked all the anchor's units to
    # probe the work table for each (docs/decisions.md, "Timings").
    return select(*tombstone).where(
        a.c.run_id == anchor.id,
        a.c.level == "unit",
        code_in(a.c.code, select(w.c.code).where(w.c.scored == 0)),
    )


def _kept_from_base(run_id: int, base: Any) -> Any:
    """An incremental run keeps what its base stored for the units it did not recompute (None
    when its base stored every row: the anchor is the base)."""
    if base.anchor_run_id is None:
        return None
    r = ZoningResult.__table__
    w = WORK.alias("w")
    return select(
        literal(run_id), *[r.c[name] for name in RESULT_COLUMNS[1:]], r.c.is_removed
    ).where(
        r.c.run_id == base.id,
        r.c.level == "unit",
        ~exists().where(w.c.code == r.c.code),
    )


def _insert_every_unit(conn: Connection, run_id: int, plan: _Plan, sql: _UnitSQL) -> None:
    """Every computed unit row, ranked: the run is complete (the next runs' anchor)."""
    if plan.mode != "full":
        raise RuntimeError("an incremental run needs an anchor")  # _plan guarantees one
    rank = func.rank().over(order_by=sql.rows.c.scaled.desc())
    conn.execute(
        insert(ZoningResult.__table__).from_select(
            list(RESULT_COLUMNS), select(*sql.values(run_id, rank))
        )
    )


def _anchor_units_missing(conn: Connection, run_id: int, anchor: Any) -> bool:
    """Whether a full run lacks some of its anchor's units, counted rather than searched.

    The anchor's units less those the run computed and the anchor also has (computed, less
    the run's own rows the anchor has no row for) is the number missing. Both counts are cheap
    where the search is an anti-join over every anchor unit (docs/decisions.md, "Timings").
    """
    units = (anchor.counts or {}).get("units")
    if units is None:
        return True
    computed = conn.execute(select(func.count()).where(WORK.c.scored > 0)).scalar_one()
    r = ZoningResult.__table__
    a = r.alias("a")
    new = conn.execute(
        select(func.count()).where(
            r.c.run_id == run_id,
            r.c.level == "unit",
            ~exists().where(a.c.run_id == anchor.id, a.c.level == "unit", a.c.code == r.c.code),
        )
    ).scalar_one()
    return units > computed - new


def _own_unit_rows(conn: Connection, run_id: int) -> int:
    # Counted, not summed from rowcounts: psycopg reports -1 for INSERT ... SELECT here.
    r = ZoningResult.__table__
    return conn.execute(
        select(func.count()).where(r.c.run_id == run_id, r.c.level == "unit")
    ).scalar_one()
