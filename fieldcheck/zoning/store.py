"""A zoning run's write phase: its rows, changes, counts and events in one commit.

In one write transaction on the run's connection (which still holds the work table), after
re-checking the lease: unit rows go from the work table to the results in SQL
(fieldcheck.zoning.store_units); agencies, regencies and provinces are rolled up by the pure
core from per-agency sums; changes against the official run, outbox events
(fieldcheck.zoning.changes), consumed dirty markers, counts and ``state = succeeded`` are
written in the same commit, which also frees the lease. Nothing of a run that fails or dies is
ever visible as a result.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Connection, Integer, cast, delete, func, select, update

from fieldcheck.clock import utcnow
from fieldcheck.core.model import Methodology
from fieldcheck.core.rollup import LEVELS, complete_within, roll_up_agencies
from fieldcheck.i18n import N_
from fieldcheck.units.dirty import DirtyUnit
from fieldcheck.zoning import lease
from fieldcheck.zoning.changes import _compare_with_official, _queue_events
from fieldcheck.zoning.lease import LEASE_NAME
from fieldcheck.zoning.models import ZoningResult, ZoningRun
from fieldcheck.zoning.plan import _Plan
from fieldcheck.zoning.results import code_in, unit_rows
from fieldcheck.zoning.sql import (
    _among,
    _analyze_run_ids,
    _bulk_insert,
    _chunks,
    _refresh_statistics,
    _sql_value,
)
from fieldcheck.zoning.store_units import RESULT_COLUMNS, _insert_units, _UnitSQL
from fieldcheck.zoning.worktable import _work_name

#: From this many own unit rows a run refreshes the planner's statistics on run ids before
#: reading them back (_analyze_run_ids); below it a bad plan costs less than the ANALYZE.
ANALYZE_OWN_ROWS = 100
#: Count keys of a run: {"units", "agencies", "regencies", "provinces"}.
PLURALS = {"unit": "units", "agency": "agencies", "regency": "regencies", "province": "provinces"}


def _store(
    conn: Connection, run: ZoningRun, holder: str, plan: _Plan, methodology: Methodology
) -> None:
    """Write the run's rows and flip it to succeeded in one transaction (re-checking the lease)."""
    _renew_or_lose_lease(conn, holder)
    places = methodology.rounding_places
    sql = _UnitSQL(conn, methodology)
    anchor, stored = _insert_units(conn, run.id, plan, sql)
    if not _refresh_statistics(conn, ZoningResult.__tablename__) and stored >= ANALYZE_OWN_ROWS:
        # Its rows are read back below, and by every run that shares them or builds on them.
        _analyze_run_ids(conn)
    anchor_id = None if anchor is None else anchor.id
    totals, unit_zones = _unit_aggregates(
        conn, run.id, anchor, plan, sql, places, methodology.zones
    )
    upper = _roll_up(run, plan, totals, methodology)
    _insert_upper_rows(conn, run.id, upper, totals)
    compared, changed, moves = _compare_with_official(conn, run, anchor_id)
    _consume_dirty_markers(conn, plan.dirty_ids)
    counts = _counts(plan, stored, changed, len(moves), unit_zones, upper, methodology.zones)
    finished = _mark_succeeded(conn, run, plan, anchor_id, compared, counts)
    if not run.is_dry_run:
        _queue_events(conn, run, plan.mode, counts, compared, moves, finished)
    conn.exec_driver_sql(f"DROP TABLE {_work_name(conn)}")
    # Free for the next run in the same commit that publishes this one's results.
    lease.release(LEASE_NAME, holder, conn)


#: Why a run that lost its lease failed, as a reader is told (fieldcheck.zoning.lifecycle).
LEASE_LOST = N_(
    "The lease expired and was taken over by another process before the results were saved; "
    "nothing was published."
)


def _renew_or_lose_lease(conn: Connection, holder: str) -> None:
    """Extend the lease in the write transaction; LeaseLost when another run took it over."""
    now = utcnow()
    leases = lease.LEASES
    still_ours = conn.execute(
        update(leases)
        .where(leases.c.name == LEASE_NAME, leases.c.holder == holder)
        .values(
            heartbeat_at=now,
            expires_at=now + timedelta(seconds=current_app.config["ZONING_LEASE_SECONDS"]),
        )
    )
    if still_ours.rowcount != 1:
        raise lease.LeaseLost(LEASE_LOST)


def _roll_up(
    run: ZoningRun, plan: _Plan, totals: dict[str, tuple[int, int]], methodology: Methodology
) -> dict[str, list[Any]]:
    """Agency, regency and province rows by the pure core from the per-agency sums."""
    places = methodology.rounding_places
    upper = roll_up_agencies(totals, plan.agencies, plan.regions, methodology.bands, places)
    if run.scope:
        upper = complete_within(upper, run.scope)  # no partial agency or province scores
    return upper


def _insert_upper_rows(
    conn: Connection, run_id: int, upper: dict[str, list[Any]], totals: dict[str, tuple[int, int]]
) -> None:
    """Store the agency, regency and province rows."""
    # Agency rows keep their exact unit-score sum: what a run sharing this one's rows adjusts.
    insert_result_rows(conn, run_id, [r for rows in upper.values() for r in rows], totals)


def insert_result_rows(
    conn: Connection,
    run_id: int,
    rows: list[Any],
    totals: dict[str, tuple[int, int]],
    inspection_ids: dict[str, list[int]] | None = None,
) -> None:
    """Store computed result rows (``core.rollup.ResultRow``) of any level: a unit row with its
    inspection ids (when given), an agency row with its exact unit-score sum from ``totals``."""
    _bulk_insert(
        conn,
        ZoningResult.__table__,
        (*RESULT_COLUMNS, "score_total"),
        [
            (
                run_id,
                r.level,
                r.code,
                r.name,
                r.region_code,
                r.agency_code,
                _sql_value(r.score),
                r.zone,
                r.grade,
                r.label,
                r.rank,
                r.members,
                json.dumps(inspection_ids[r.code])
                if inspection_ids is not None and r.level == "unit"
                else None,
                totals[r.code][0] if r.level == "agency" else None,
            )
            for r in rows
        ],
    )


def _consume_dirty_markers(conn: Connection, marker_ids: list[int]) -> None:
    """Delete the dirty markers the run read: their units are computed now."""
    for ids in _chunks(marker_ids, 1000):
        conn.execute(delete(DirtyUnit).where(_among(DirtyUnit.id, ids, conn.dialect.name)))


def _counts(
    plan: _Plan,
    stored: int,
    changed: int,
    zone_moves: int,
    unit_zones: dict[str, int],
    upper: dict[str, list[Any]],
    zone_codes: tuple[str, ...],
) -> dict[str, Any]:
    """The run's counts as stored on it and sent in its event: per level, a key for every zone
    of the methodology, worst first."""
    zones = {"unit": unit_zones}
    for level in LEVELS[1:]:
        zones[level] = dict.fromkeys(zone_codes, 0)
        for row in upper.get(level, ()):
            zones[level][row.zone] = zones[level].get(row.zone, 0) + 1
    return {
        "inspections": plan.inspections,
        "inspections_rescored": plan.rescored,
        "units_recomputed": plan.units_recomputed,
        "unit_rows_stored": stored,
        "dirty_markers_consumed": len(plan.dirty_ids),
        "changes": changed,
        "zone_moves": zone_moves,
        **{PLURALS[level]: sum(zones[level].values()) for level in LEVELS},
        "zones": zones,
    }


def _mark_succeeded(
    conn: Connection,
    run: ZoningRun,
    plan: _Plan,
    anchor_id: int | None,
    compared: Any,
    counts: dict[str, Any],
) -> datetime:
    """Flip the run to succeeded with what it did; returns when it finished."""
    finished = utcnow()
    runs = ZoningRun.__table__
    conn.execute(
        update(runs)
        .where(runs.c.id == run.id)
        .values(
            state="succeeded",
            mode=plan.mode,
            base_run_id=None if plan.base is None else plan.base.id,
            anchor_run_id=anchor_id,
            compared_run_id=None if compared is None else compared.id,
            counts=counts,
            finished_at=finished,
            heartbeat_at=finished,
            progress_done=plan.units_recomputed,
            progress_total=plan.units_recomputed,
        )
    )
    return finished


def _unit_aggregates(
    conn: Connection,
    run_id: int,
    anchor: Any,
    plan: _Plan,
    sql: _UnitSQL,
    places: int,
    zone_codes: tuple[str, ...],
) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """Per agency, the sum of its unit scores in units of 10**-places and their number; and the
    run's units per zone.

    A full run groups its work table. A run sharing an anchor's rows starts from what the anchor
    stored (agency rows' ``score_total``, unit zone counts), takes out the anchor units it
    replaces and adds its own: work in the number of its own rows, not the country's units.
    """
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    zones: dict[str, int] = dict.fromkeys(zone_codes, 0)

    def fold(rows: Any, sign: int) -> None:
        for agency_code, zone, total, count in rows:
            sums = totals[agency_code]
            sums[0] += sign * int(total)
            sums[1] += sign * count
            zones[zone] = zones.get(zone, 0) + sign * count

    if plan.mode == "full":
        c = sql.rows.c
        zone = sql.zone.label("zone")
        fold(
            conn.execute(
                select(c.agency_code, zone, func.sum(c.scaled), func.count()).group_by(
                    c.agency_code, zone
                )
            ),
            1,
        )
    else:
        r = ZoningResult.__table__
        stored = conn.execute(
            select(r.c.code, r.c.score_total, r.c.members).where(
                r.c.run_id == anchor.id, r.c.level == "agency"
            )
        ).all()
        if any(total is None for _, total, _ in stored):
            # An anchor written before agency sums were stored (migration 0006): every unit.
            units = unit_rows(run_id, anchor.id, ranked=False).subquery()
            fold(conn.execute(_grouped(units, places)), 1)
        else:
            for code, total, members in stored:
                totals[code] = [int(total), members]
            for zone_name, count in anchor.counts["zones"]["unit"].items():
                zones[zone_name] = zones.get(zone_name, 0) + count
            own_codes = select(r.c.code).where(r.c.run_id == run_id, r.c.level == "unit")
            # IN, not a join: both databases then probe the anchor by code for each own row
            # instead of walking all the anchor's units.
            fold(
                conn.execute(
                    _grouped(r, places).where(
                        r.c.run_id == anchor.id, r.c.level == "unit", code_in(r.c.code, own_codes)
                    )
                ),
                -1,
            )
            fold(
                conn.execute(
                    _grouped(r, places).where(
                        r.c.run_id == run_id, r.c.level == "unit", r.c.is_removed.is_(False)
                    )
                ),
                1,
            )
    return {code: (total, count) for code, (total, count) in totals.items() if count}, zones


def _grouped(rows: Any, places: int) -> Any:
    """Unit rows (a table or subquery) grouped by agency and zone: score sum and count."""
    c = rows.c
    return select(c.agency_code, c.zone, _scaled_sum(rows, places), func.count()).group_by(
        c.agency_code, c.zone
    )


def _scaled_sum(results: Any, places: int) -> Any:
    # Stored scores carry ``places`` decimals: round() only undoes float noise on SQLite.
    return func.sum(cast(func.round(results.c.score * 10**places), Integer))
