"""A zoning run's changes against the official run, and the outbox events announcing it.

Written in the run's publishing commit: the unit and agency rows whose score or zone differ
from the official run of the same methodology, period and scope (this SQL is the rule of record;
``diff`` in tests/core/oracle.py is its test oracle, and tests/zoning check both give the same
changes), and the events sent after commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, literal, or_, select, union_all

from fieldcheck.outbox.events import queue
from fieldcheck.zoning.models import ZoningChange, ZoningResult, ZoningRun
from fieldcheck.zoning.results import unit_rows
from fieldcheck.zoning.services import official_run_query

CHANGE_COLUMNS = (
    "run_id",
    "level",
    "code",
    "name",
    "region_code",
    "old_score",
    "new_score",
    "old_zone",
    "new_zone",
    "is_zone_move",
)


def _compare_with_official(
    conn: Connection, run: ZoningRun, anchor_id: int | None
) -> tuple[Any, int, list[Any]]:
    """The official run this one is compared with (or None), how many rows changed, and the zone
    moves; the changes are written."""
    # On the run's connection: it holds the write lock a session query would wait for.
    compared = conn.execute(official_run_query(run.methodology_id, run.period, run.scope)).first()
    if compared is None:
        return None, 0, []
    changed, moves = _store_changes(conn, run.id, anchor_id, compared)
    return compared, changed, moves


def _store_changes(
    conn: Connection, run_id: int, anchor_id: int | None, compared: Any
) -> tuple[int, list[Any]]:
    """Write the unit and agency changes against the compared run; returns (how many, the zone
    moves in the core's order). One INSERT ... SELECT: both runs' rows grouped by key, a key
    kept when it is on one side only or its two rows differ in score or zone (the rule of record;
    tests/zoning check it against the oracle's ``diff``, tests/core/oracle.py).
    """
    c = ZoningChange.__table__
    if anchor_id is not None and compared.id == anchor_id:
        # The usual nightly case: compared with the complete run this one shares rows with.
        # Only its own rows can differ, and each is looked up in the anchor by code.
        conn.execute(
            insert(c).from_select(list(CHANGE_COLUMNS), _own_unit_changes(run_id, anchor_id))
        )
        parts = []
    else:
        parts = _unit_sides(run_id, anchor_id, compared)
    parts.append(_agency_sides(run_id, compared))
    conn.execute(insert(c).from_select(list(CHANGE_COLUMNS), _changed_keys(run_id, parts)))
    count = conn.execute(select(func.count()).where(c.c.run_id == run_id)).scalar_one()
    return count, _zone_moves(conn, run_id)


def _unit_sides(run_id: int, anchor_id: int | None, compared: Any) -> list[Any]:
    """Both runs' unit rows, resolved through their anchors, tagged ``is_new``."""
    r = ZoningResult.__table__
    sides = ((1, run_id, anchor_id), (0, compared.id, compared.anchor_run_id))
    codes = None
    if (anchor_id or run_id) == (compared.anchor_run_id or compared.id):
        # Both runs read the same complete run for every unit neither stores itself: only
        # the units one of them stores can differ.
        overlays = [rid for _, rid, aid in sides if aid is not None]
        codes = select(r.c.code).where(r.c.run_id.in_(overlays), r.c.level == "unit")
    parts = []
    for is_new, rid, aid in sides:
        u = unit_rows(rid, aid, ranked=False, codes=codes).subquery()
        parts.append(
            select(
                literal(is_new).label("is_new"),
                literal("unit").label("level"),
                u.c.code,
                u.c.name,
                u.c.region_code,
                u.c.score,
                u.c.zone,
            )
        )
    return parts


def _agency_sides(run_id: int, compared: Any) -> Any:
    """Both runs' agency rows (every run stores its own), tagged ``is_new``."""
    r = ZoningResult.__table__
    return select(
        case((r.c.run_id == run_id, 1), else_=0).label("is_new"),
        r.c.level,
        r.c.code,
        r.c.name,
        r.c.region_code,
        r.c.score,
        r.c.zone,
    ).where(r.c.run_id.in_((run_id, compared.id)), r.c.level == "agency")


def _changed_keys(run_id: int, parts: list[Any]) -> Any:
    """The keys (level, code) on one side only or whose two rows differ, as CHANGE_COLUMNS."""
    b = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("both_runs").c

    def side(value: Any, is_new: int) -> Any:
        return func.max(case((b.is_new == is_new, value)))

    # The row shown is the new one when the key is in the new run (a NULL region included).
    has_new = func.max(b.is_new) == 1
    old_zone, new_zone = side(b.zone, 0), side(b.zone, 1)
    return (
        select(
            literal(run_id),
            b.level,
            b.code,
            case((has_new, side(b.name, 1)), else_=side(b.name, 0)),
            case((has_new, side(b.region_code, 1)), else_=side(b.region_code, 0)),
            side(b.score, 0),
            side(b.score, 1),
            old_zone,
            new_zone,
            case((old_zone.is_distinct_from(new_zone), True), else_=False),
        )
        .group_by(b.level, b.code)
        .having(
            (func.count() == 1)
            | (func.min(b.score) != func.max(b.score))
            | (func.min(b.zone) != func.max(b.zone))
        )
    )


def _zone_moves(conn: Connection, run_id: int) -> list[Any]:
    """The run's stored changes that move a zone, in the core's order."""
    c = ZoningChange.__table__
    # "unit" < "agency" is the core's level order; codes ascending within a level.
    return conn.execute(
        select(
            c.c.level,
            c.c.code,
            c.c.old_zone,
            c.c.new_zone,
            c.c.old_score,
            c.c.new_score,
            c.c.region_code,
        )
        .where(c.c.run_id == run_id, c.c.is_zone_move.is_(True))
        .order_by(c.c.level.desc(), c.c.code)
    ).all()


def _own_unit_changes(run_id: int, anchor_id: int) -> Any:
    """The unit changes of a run against its own anchor, as CHANGE_COLUMNS.

    A run sharing its anchor's rows stores a row for every unit that differs from it: its own
    row (or tombstone, which carries the anchor's name and region) against the anchor's.
    """
    r = ZoningResult.__table__
    own, a = r.alias("own"), r.alias("a")
    removed = own.c.is_removed
    new_score = case((removed, None), else_=own.c.score)
    new_zone = case((removed, None), else_=own.c.zone)
    return (
        select(
            literal(run_id),
            literal("unit"),
            own.c.code,
            own.c.name,
            own.c.region_code,
            a.c.score,
            new_score,
            a.c.zone,
            new_zone,
            case((a.c.zone.is_distinct_from(new_zone), True), else_=False),
        )
        .select_from(
            own.outerjoin(
                a, and_(a.c.run_id == anchor_id, a.c.level == "unit", a.c.code == own.c.code)
            )
        )
        .where(
            own.c.run_id == run_id,
            own.c.level == "unit",
            or_(removed, a.c.id.is_(None), a.c.score != own.c.score, a.c.zone != own.c.zone),
        )
    )


def _queue_events(
    conn: Connection,
    run: ZoningRun,
    mode: str,
    counts: dict[str, Any],
    compared: Any,
    moves: list[Any],
    finished: datetime,
) -> None:
    """Queue the run's outbox events in its commit: it succeeded, and its zone moves if any."""
    events = [_succeeded_event(run, mode, counts, finished)]
    if moves:
        events.append(_zone_changes_event(run, compared, moves, finished))
    for event in events:
        queue(conn=conn, region=run.scope or None, **event)


def _succeeded_event(
    run: ZoningRun, mode: str, counts: dict[str, Any], finished: datetime
) -> dict[str, Any]:
    return {
        "topic": "zoning_run.succeeded",
        "payload": {
            "run_id": run.id,
            "methodology": run.methodology_id,
            "methodology_version": run.methodology_version,
            "period": run.period,
            "scope": run.scope,
            "mode": mode,
            "counts": counts,
        },
        "created_at": finished,
    }


def _zone_changes_event(
    run: ZoningRun, compared: Any, moves: list[Any], finished: datetime
) -> dict[str, Any]:
    return {
        "topic": "zoning_run.zone_changes",
        "payload": {
            "run_id": run.id,
            "compared_run_id": None if compared is None else compared.id,
            "changes": [
                {
                    "level": c.level,
                    "code": c.code,
                    "old_zone": c.old_zone,
                    "new_zone": c.new_zone,
                    "old_score": None if c.old_score is None else str(c.old_score),
                    "new_score": None if c.new_score is None else str(c.new_score),
                    # Lets a regional endpoint receive only its own region's moves.
                    "region_code": c.region_code,
                }
                for c in moves
            ],
        },
        "created_at": finished,
    }
