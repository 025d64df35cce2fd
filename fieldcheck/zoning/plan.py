"""A zoning run's plan: full or incremental, and which complete run's unit rows it may share.

Decided at the start of the read phase (fieldcheck.zoning.worktable), inside its snapshot, from
the dirty markers and the latest national run. Incremental runs compute only units with dirty
markers; a run of the same methodology, catalogue and period as a *complete* run (its anchor)
stores only the unit rows that differ from it, until they would exceed ``MAX_SHARED_FRACTION``
of the units (fieldcheck.zoning.store_units).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from fieldcheck.core.rollup import AgencyInput
from fieldcheck.units.dirty import DirtyUnit
from fieldcheck.zoning.models import ZoningRun

#: Above this many dirty units an incremental run is not worth it: it runs full.
MAX_DIRTY_FOR_INCREMENTAL = 5000
#: A run shares its anchor's unit rows while it differs in at most this fraction of them (or
#: this many rows, whichever is more); beyond it stores every row and becomes the next anchor.
#: Bounds what a reader resolves and what each nightly run copies from the one before.
MAX_SHARED_FRACTION = 0.2
MIN_SHARED_ROWS = 1000


@dataclass
class _Plan:
    """What the read phase decided and found."""

    mode: str = "full"
    #: The run an incremental run builds on (the latest national run), or None.
    base: Any = None
    #: The complete run whose unit rows this run may share, or None.
    anchor: Any = None
    inspections: int = 0
    rescored: int = 0
    units_recomputed: int = 0
    dirty_ids: list[int] = field(default_factory=list)
    agencies: dict[str, AgencyInput] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)


def _previous_run(conn: Connection, run: ZoningRun) -> Any:
    """The latest national run, when this run may build on it (incremental) or share its anchor.

    Dirty markers are consumed only by national, non-dry runs, so the markers present now are
    exactly the changes since the latest such run. It is usable only when it used the same
    methodology file, legal catalogue and period; what-if and regional runs store everything.
    """
    if run.is_dry_run or run.scope or run.weights:
        return None
    runs = ZoningRun.__table__
    previous = conn.execute(
        select(runs)
        .where(runs.c.state == "succeeded", runs.c.is_dry_run.is_(False), runs.c.scope == "")
        .order_by(runs.c.id.desc())
        .limit(1)
    ).first()
    if previous is None or (
        previous.methodology_hash,
        previous.catalogue_hash,
        previous.period,
    ) != (run.methodology_hash, run.catalogue_hash, run.period):
        return None
    return previous


def _plan(conn: Connection, run: ZoningRun) -> tuple[_Plan, list[int]]:
    """Full or incremental, which anchor; returns the plan and the dirty unit ids."""
    plan = _Plan()
    dirty_units: set[int] = set()
    if not run.is_dry_run and not run.scope:
        for marker_id, unit_id in conn.execute(select(DirtyUnit.id, DirtyUnit.unit_id)):
            plan.dirty_ids.append(marker_id)
            dirty_units.add(unit_id)
    previous = _previous_run(conn, run)
    if previous is None:
        return plan, []
    runs = ZoningRun.__table__
    anchor_id = previous.anchor_run_id or previous.id
    plan.anchor = (
        previous
        if anchor_id == previous.id
        else conn.execute(select(runs).where(runs.c.id == anchor_id)).first()
    )
    shared_by_previous = (previous.counts or {}).get("unit_rows_stored", 0)
    if previous.anchor_run_id is None:
        shared_by_previous = 0
    if (
        run.requested_mode != "full"
        and len(dirty_units) <= MAX_DIRTY_FOR_INCREMENTAL
        and shared_by_previous + len(dirty_units) <= _shared_limit(plan.anchor)
    ):
        plan.mode, plan.base = "incremental", previous
        return plan, sorted(dirty_units)
    return plan, []


def _shared_limit(anchor: Any) -> int:
    """How many own unit rows a run sharing ``anchor``'s rows may store."""
    units = (anchor.counts or {}).get("units", 0)
    return max(MIN_SHARED_ROWS, int(MAX_SHARED_FRACTION * units))
