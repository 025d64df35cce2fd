"""A zoning run's read phase: one snapshot of the database into the run's work table.

The whole run (lease, read, write, one commit) is told in fieldcheck.zoning.lifecycle; this is
its read phase (``_read_phase`` tells it in order). On the run's one connection, inside one
snapshot (REPEATABLE READ on PostgreSQL, a deferred read transaction on SQLite), it decides full
or incremental and which anchor (fieldcheck.zoning.plan), and fills a temporary *work table*:
one row per unit to compute, with the sum and count of its inspection scores in integer
hundredths and its inspection ids, by one SQL aggregate, so memory does not grow with the
number of inspections (``_fill_work``).

An inspection scored at intake by the same methodology file and legal catalogue keeps its
stored score (the pure core is deterministic, so re-deriving it gives the same number); a unit
with any other inspection is re-scored from stored answers and posted standards with the same
core call as intake (``fieldcheck.core.evaluate``, through ``inspections.scoring.evaluate_stored``),
and its work row updated (``_rescore_units``). The write phase
(fieldcheck.zoning.store) turns the work table and the plan into the run's rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    Integer,
    String,
    Text,
    bindparam,
    case,
    cast,
    column,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    table,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal

from fieldcheck.core.model import LegalCatalogue, Methodology
from fieldcheck.core.rollup import AgencyInput
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.scoring import evaluate_stored
from fieldcheck.regions.models import Region
from fieldcheck.regions.services import in_region
from fieldcheck.units.models import Agency, Unit
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.plan import _Plan, _plan
from fieldcheck.zoning.services import COUNTED_STATUSES
from fieldcheck.zoning.sql import _among, _refresh_statistics

#: Units per read on the per-inspection path: bounds memory (answers of ~5 inspections x 60
#: answers per unit) and IN lists.
UNIT_CHUNK = 500

#: The work table: one row per unit the run computes, on the run's own connection.
WORK = table(
    "zoning_work",
    column("unit_id", Integer),
    column("code", String),
    column("name", String),
    column("region_code", String),
    column("agency_code", String),
    column("total", BigInteger),
    column("scored", Integer),
    column("counted", Integer),
    column("stale", Integer),
    column("ids", Text),
)


#: The work table's columns, in the order the statements that fill it select them.
_WORK_COLUMNS = [c.name for c in WORK.columns]


class _Beats(Protocol):
    """What the read phase needs of the run's heartbeat (fieldcheck.zoning.lifecycle)."""

    def beat(self, done: int, total: int, inspections: int, force: bool = False) -> None: ...


def _counted(run: ZoningRun, dialect: str) -> list[Any]:
    period_from, period_to = date(run.period, 1, 1), date(run.period, 12, 31)
    if dialect == "postgresql":
        # Plain conditions: the run ANALYZEs inspections first when it has no statistics
        # (_refresh_statistics), and with them the planner picks the unit_id index for a list
        # of units and a hash aggregate for all of them. (Index-proof forms, date + 0, made
        # every estimate 1 row: a sort-based aggregate spilling to disk, twice as slow.)
        return [
            Inspection.status.in_(COUNTED_STATUSES),
            Inspection.visit_date >= period_from,
            Inspection.visit_date <= period_to,
        ]
    # SQLite: the same values through expressions no index covers, so the planner walks the
    # unit_id index (ids come out ascending, see _fill_work) instead of range-scanning the date
    # or status index (every row of the period, in random order).
    visit_date = Inspection.visit_date.op("||", return_type=Date)("")
    return [
        Inspection.status.concat("").in_(COUNTED_STATUSES),
        visit_date >= period_from,
        visit_date <= period_to,
    ]


def _work_name(conn: Connection) -> str:
    # Qualified, so neither statement can touch a permanent table of the same name.
    return ("temp." if conn.dialect.name == "sqlite" else "pg_temp.") + WORK.name


def _create_work_table(conn: Connection) -> None:
    # A run that died on this pooled connection may have left its work table behind.
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_work_name(conn)}")
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {WORK.name} (unit_id INTEGER NOT NULL, "
        "code VARCHAR(64) NOT NULL, name VARCHAR(200) NOT NULL, region_code VARCHAR(13), "
        "agency_code VARCHAR(64) NOT NULL, total BIGINT NOT NULL, scored INTEGER NOT NULL, "
        "counted INTEGER NOT NULL, stale INTEGER NOT NULL, ids TEXT)"
    )


def _create_work_table_as(conn: Connection, query: Any) -> None:
    """PostgreSQL: the work table created and filled by ``CREATE TEMPORARY TABLE ... AS``.

    PostgreSQL 15 never runs the SELECT of an ``INSERT ... SELECT`` in parallel; the SELECT of
    a ``CREATE TABLE ... AS`` it does. The aggregate then scans and sorts the inspections in
    parallel workers, as the one SQL aggregate of the baseline does. The columns are cast to
    the types ``_create_work_table`` declares.
    """
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_work_name(conn)}")
    conn.execute(_CreateTempTableAs(WORK.name, query))


class _CreateTempTableAs(Executable, ClauseElement):
    """``CREATE TEMPORARY TABLE <name> AS <select>`` (SQLAlchemy has no construct for it)."""

    # Part of the cache key, so the statement is compiled once per process, as the others are.
    _traverse_internals = [
        ("name", InternalTraversal.dp_string),
        ("query", InternalTraversal.dp_clauseelement),
    ]
    inherit_cache = True

    def __init__(self, name: str, query: Any) -> None:
        self.name = name
        self.query = query


@compiles(_CreateTempTableAs)
def _create_temp_table_as(element: _CreateTempTableAs, compiler: Any, **kw: Any) -> str:
    return f"CREATE TEMPORARY TABLE {element.name} AS {compiler.process(element.query, **kw)}"


def _read_phase(
    conn: Connection,
    run: ZoningRun,
    methodology: Methodology,
    catalogue: LegalCatalogue,
    heartbeat: _Beats,
    from_answers: bool,
) -> _Plan:
    """Read the snapshot into the work table (one row per unit to compute); returns the plan."""
    _refresh_statistics(conn, Inspection.__tablename__)
    plan, dirty_units = _plan(conn, run)
    _load_agencies_and_regions(conn, plan)
    unit_filter, inspection_filter = _reach(conn, run, plan, dirty_units)
    total = _count_units(conn, unit_filter)
    heartbeat.beat(0, total, 0, force=True)

    if conn.dialect.name != "postgresql":
        _create_work_table(conn)  # PostgreSQL creates it as it fills it (_create_work_table_as)
    _fill_work(conn, run, methodology.rounding_places, unit_filter, inspection_filter)
    to_rescore = _units_to_rescore(conn, from_answers)
    if to_rescore:
        _index_work(conn, "unit_id")  # each of their rows is updated by unit id
        _rescore_units(
            conn, run, methodology, catalogue, to_rescore, from_answers, plan, heartbeat, total
        )
    plan.inspections = int(
        conn.execute(select(func.coalesce(func.sum(WORK.c.counted), 0))).scalar_one()
    )
    plan.units_recomputed = total
    # No forced write: the store writes the final progress in its own commit.
    heartbeat.beat(total, total, plan.inspections)
    return plan


def _load_agencies_and_regions(conn: Connection, plan: _Plan) -> None:
    """Every agency and region, for the roll-up of the write phase."""
    plan.agencies = {
        code: AgencyInput(code, name, region)
        for code, name, region in conn.execute(select(Agency.code, Agency.name, Agency.region_code))
    }
    plan.regions = {code: name for code, name in conn.execute(select(Region.code, Region.name))}


def _reach(
    conn: Connection, run: ZoningRun, plan: _Plan, dirty_units: list[int]
) -> tuple[Any, Any]:
    """The units the run computes and their inspections, as two filters (None: all of them)."""
    if plan.mode == "incremental":
        # The ids themselves, not a subquery: PostgreSQL without statistics on inspections
        # planned the subquery form as a probe of the id list per inspection row.
        return (
            _among(Unit.id, dirty_units, conn.dialect.name),
            _among(Inspection.unit_id, dirty_units, conn.dialect.name),
        )
    if run.scope:
        unit_filter = in_region(Unit.region_code, run.scope)
        return unit_filter, Inspection.unit_id.in_(select(Unit.id).where(unit_filter))
    return None, None


def _count_units(conn: Connection, unit_filter: Any) -> int:
    """How many units the run computes (the total its progress counts to)."""
    counting = select(func.count()).select_from(Unit)
    if unit_filter is not None:
        counting = counting.where(unit_filter)
    return conn.execute(counting).scalar_one()


def _units_to_rescore(conn: Connection, from_answers: bool) -> list[int]:
    """Units with a counted inspection scored by another methodology file or catalogue (every
    unit with a counted inspection when the run re-scores from answers), ascending."""
    query = select(WORK.c.unit_id).where(WORK.c.counted > 0).order_by(WORK.c.unit_id)
    if not from_answers:
        query = query.where(WORK.c.stale > 0)
    return list(conn.execute(query).scalars())


def _fill_work(
    conn: Connection, run: ZoningRun, places: int, unit_filter: Any, inspection_filter: Any
) -> None:
    """One row per unit in the run's reach: sum and count of its scores in units of
    10**-places, its counted inspections, how many were scored by another methodology file or
    catalogue (``stale``), and the ids of the scored ones (comma-separated, ascending)."""
    per_unit = _scores_per_unit(conn, run, places, inspection_filter).subquery()
    # Driven by the aggregate (units with inspections), as the one SQL aggregate of the design.
    columns = [
        Unit.id,
        Unit.code,
        Unit.name,
        Unit.region_code,
        Agency.code,
        cast(per_unit.c.total, BigInteger),
        cast(per_unit.c.scored, Integer),
        cast(per_unit.c.counted, Integer),
        cast(per_unit.c.stale, Integer),
        per_unit.c.ids,
    ]
    # Named as the work table's columns: CREATE TABLE ... AS takes its names from them.
    query = select(
        *[column.label(name) for column, name in zip(columns, _WORK_COLUMNS, strict=True)]
    ).select_from(
        per_unit.join(Unit, Unit.id == per_unit.c.unit_id).join(Agency, Agency.id == Unit.agency_id)
    )
    if unit_filter is not None:
        query = query.where(unit_filter)
    if conn.dialect.name == "postgresql":
        _create_work_table_as(conn, query)
    else:
        conn.execute(insert(WORK).from_select(_WORK_COLUMNS, query))
    # Units are looked up by code when compared with the anchor's or the base run's rows. A
    # planner that does not know how many rows those runs have (PostgreSQL before statistics
    # catch up) picks a nested loop: without this index, one scan of the work table per row.
    _index_work(conn, "code")
    if unit_filter is not None:
        _add_units_without_inspections(conn, unit_filter)


def _scores_per_unit(conn: Connection, run: ZoningRun, places: int, inspection_filter: Any) -> Any:
    """The one SQL aggregate: per unit with counted inspections, the sum of their scores in
    units of 10**-places, how many are scored, counted and stale, and the scored ids."""
    scale = 10**places
    postgresql = conn.dialect.name == "postgresql"
    # Both databases aggregate from a subquery ordered by unit and id: group_concat/string_agg
    # concatenate in the order rows arrive, so each unit's ids come out ascending and its row
    # is identical across runs, which is what lets a run share it with its anchor (and settles
    # the comparison with the anchor's ids as text, _UnitSQL.ids_differ).
    # - SQLite 3.40 (no ORDER BY inside group_concat): the order is a walk of the unit_id
    #   index, no sort (see _counted).
    # - PostgreSQL: the unit is ``unit_id + 0``, an expression no index provides in order.
    #   Grouping by the column itself was planned as a walk of the unit_id index feeding a group
    #   aggregate: a random heap read per inspection once a unit's visits are scattered through
    #   the table, as a year of intake leaves them (11 s for 1M inspections). Ordered by the
    #   expression it is a parallel scan and sort of narrow rows (the hashes are compared in the
    #   scan, not carried into the sort), as cheap as the one SQL aggregate of the baseline
    #   (docs/decisions.md, "Issue 14: zoning at national scale"). The unit_id index still
    #   serves an incremental run's id list (the WHERE clause).
    unit_id: Any = Inspection.unit_id + 0 if postgresql else Inspection.unit_id
    fresh = (Inspection.methodology_hash == run.methodology_hash) & (
        Inspection.catalogue_hash == run.catalogue_hash
    )
    inner = select(
        Inspection.id,
        unit_id.label("unit_id"),
        Inspection.score,
        case((fresh, 0), else_=1).label("stale"),
    ).where(*_counted(run, conn.dialect.name))
    if inspection_filter is not None:
        inner = inner.where(inspection_filter)
    i = inner.order_by(unit_id, Inspection.id).subquery("ordered").c
    scored = i.score.isnot(None)
    if postgresql:
        ids = func.string_agg(cast(case((scored, i.id)), Text), literal_column("','"))
    else:
        ids = func.group_concat(case((scored, i.id)), ",")
    return select(
        i.unit_id.label("unit_id"),
        func.sum(cast(func.round(i.score * scale), Integer)).label("total"),
        func.count(i.score).label("scored"),
        func.count().label("counted"),
        func.sum(i.stale).label("stale"),
        ids.label("ids"),
    ).group_by(i.unit_id)


def _add_units_without_inspections(conn: Connection, unit_filter: Any) -> None:
    """Units in reach without a counted inspection: a row each, so a shared run knows to hide
    the anchor's row for them (they are few: an incremental run's dirty units)."""
    zero = literal(0)
    conn.execute(
        insert(WORK).from_select(
            _WORK_COLUMNS,
            select(
                Unit.id,
                Unit.code,
                Unit.name,
                Unit.region_code,
                Agency.code,
                zero,
                zero,
                zero,
                zero,
                literal(None),
            )
            .join(Agency, Agency.id == Unit.agency_id)
            .where(unit_filter, ~exists().where(WORK.c.unit_id == Unit.id)),
        )
    )


def _index_work(conn: Connection, key: str) -> None:
    # Indexed once filled, and only where a lookup needs it: building an index at the end costs
    # a fraction of maintaining it row by row (measured: docs/decisions.md, "Timings").
    conn.exec_driver_sql(f"CREATE UNIQUE INDEX ix_{WORK.name}_{key} ON {WORK.name} ({key})")


def _rescore_units(
    conn: Connection,
    run: ZoningRun,
    methodology: Methodology,
    catalogue: LegalCatalogue,
    todo: list[int],
    from_answers: bool,
    plan: _Plan,
    heartbeat: _Beats,
    total: int,
) -> None:
    """Units scored inspection by inspection, re-scoring stale ones from their answers; their
    work rows get the new sums, counts and ids.

    The slow part of a run (a methodology change re-scores every inspection from its answers):
    it beats after every chunk, so the lease is renewed and progress shown while it works. A
    run that only beat at its ends lost its lease to the next run after ZONING_LEASE_SECONDS.
    """
    places = methodology.rounding_places
    for start in range(0, len(todo), UNIT_CHUNK):
        chunk = todo[start : start + UNIT_CHUNK]
        rows = _read_chunk(conn, run, places, chunk)
        stale = [r[0] for r in rows if from_answers or not r[3]]
        # Stale scores are re-derived from stored answers by the same core call as intake.
        rescored = {
            i: evaluation.result.score
            for i, evaluation in evaluate_stored(stale, methodology, catalogue, conn).items()
        }
        per_unit = _scores_by_unit(chunk, rows, rescored, places)
        plan.rescored += len(rescored)
        heartbeat.beat(total - len(todo) + start + len(chunk), total, plan.rescored)
        _update_work_rows(conn, per_unit)


def _read_chunk(conn: Connection, run: ZoningRun, places: int, chunk: list[int]) -> list[Any]:
    """The counted inspections of some units: (id, unit id, stored score in units of
    10**-places, whether it was scored by the run's methodology file and catalogue)."""
    scale = 10**places
    return conn.execute(
        select(
            Inspection.id,
            Inspection.unit_id,
            # Integer units of 10**-places: exact, and far cheaper to fetch than Decimals.
            cast(func.round(Inspection.score * scale), Integer).label("scaled"),
            # Computed in SQL so 64-character hashes are not shipped and compared per row.
            (
                (Inspection.methodology_hash == run.methodology_hash)
                & (Inspection.catalogue_hash == run.catalogue_hash)
            ).label("is_fresh"),
        )
        .where(Inspection.unit_id.in_(chunk), *_counted(run, conn.dialect.name))
        .order_by(Inspection.unit_id, Inspection.id)
    ).all()


def _scores_by_unit(
    chunk: list[int], rows: list[Any], rescored: dict[int, Any], places: int
) -> dict[int, tuple[list[int], list[int]]]:
    """Per unit of the chunk, the ids and scores (units of 10**-places) of its scored
    inspections, a re-scored inspection counting with its new score (or not, if it has none)."""
    per_unit: dict[int, tuple[list[int], list[int]]] = {u: ([], []) for u in chunk}
    for inspection_id, unit_id, stored, _fresh in rows:
        if rescored and inspection_id in rescored:
            exact = rescored[inspection_id]
            stored = None if exact is None else int(exact.scaleb(places))
        if stored is not None:
            ids, values = per_unit[unit_id]
            ids.append(inspection_id)
            values.append(stored)
    return per_unit


def _update_work_rows(conn: Connection, per_unit: dict[int, tuple[list[int], list[int]]]) -> None:
    """Replace the sums, counts and ids of these units' work rows; none is stale any more."""
    conn.execute(
        update(WORK)
        .where(WORK.c.unit_id == bindparam("w_unit"))
        .values(
            total=bindparam("w_total"),
            scored=bindparam("w_scored"),
            stale=0,
            ids=bindparam("w_ids"),
        ),
        [
            {
                "w_unit": unit_id,
                "w_total": sum(values),
                "w_scored": len(values),
                "w_ids": ",".join(map(str, ids)) or None,
            }
            for unit_id, (ids, values) in per_unit.items()
        ],
    )
