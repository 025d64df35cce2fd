"""Runs that share unit rows with an anchor run read exactly like runs that store everything."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from sqlalchemy import cast, func, literal, select, text
from sqlalchemy.dialects.postgresql import JSONB

from fieldcheck.extensions import db
from tests.helpers import auth


def _complete_run(zoning, monkeypatch) -> int:
    """A full run made to store every row itself (the reference a shared run must read as)."""
    from fieldcheck.zoning import plan

    monkeypatch.setattr(plan, "MIN_SHARED_ROWS", 0)
    monkeypatch.setattr(plan, "MAX_SHARED_FRACTION", 0)
    assert zoning.rescore("--full").exit_code == 0
    complete = zoning.last_run_id()
    assert zoning.run(complete).anchor_run_id is None
    return complete


def _api_units(zoning, run_id: int) -> list[dict]:
    body = zoning.client.get(
        f"/api/v1/results?run={run_id}&level=unit&per_page=100", headers=auth(zoning.admin)
    ).get_json()
    return [{k: v for k, v in item.items() if k != "run_id"} for item in body["items"]]


def test_shared_runs_resolve_to_what_a_complete_run_stores(zoning, client, monkeypatch) -> None:
    first_ids = {}
    for code, noes in [
        ("35.15-DUKCAPIL", 2),
        ("35.15-RSUD", 5),
        ("13.71-SATPAS", 7),
        ("32.73-DUKCAPIL", 0),
        ("21.71-KANIM", 10),
    ]:
        first_ids[code] = zoning.inspect(code, noes)
    assert zoning.rescore("--publish").exit_code == 0
    anchor = zoning.last_run_id()
    assert zoning.run(anchor).anchor_run_id is None

    # Night 1: a unit changes score, one appears, one loses its only inspection (a tombstone).
    zoning.inspect("35.15-RSUD", 0)
    zoning.inspect("73.71-DUKCAPIL", 4)
    zoning.approve(first_ids["21.71-KANIM"], status="rejected")
    assert zoning.rescore().exit_code == 0
    night1 = zoning.last_run_id()
    run = zoning.run(night1)
    assert (run.mode, run.anchor_run_id) == ("incremental", anchor)
    assert run.counts["unit_rows_stored"] == 3  # RSUD, 73.71 and KANIM's tombstone
    assert run.counts["units"] == 5

    # Night 2 builds on night 1: it keeps night 1's own rows for units it does not recompute.
    zoning.inspect("32.73-DUKCAPIL", 9)
    assert zoning.rescore().exit_code == 0
    night2 = zoning.last_run_id()
    run = zoning.run(night2)
    assert (run.mode, run.base_run_id, run.anchor_run_id) == ("incremental", night1, anchor)
    assert run.counts["unit_rows_stored"] == 4

    # The same data stored whole: every level, rank and inspection list agrees.
    complete = _complete_run(zoning, monkeypatch)
    assert zoning.rows(night2) == zoning.rows(complete)
    assert _api_units(zoning, night2) == _api_units(zoning, complete)
    codes = [item["code"] for item in _api_units(zoning, night2)]
    assert "21.71-KANIM" not in codes and "73.71-DUKCAPIL" in codes
    assert zoning.run(night2).counts["zones"] == zoning.run(complete).counts["zones"]

    # A unit's own result resolves through the anchor too, with its national rank.
    for code in ("35.15-DUKCAPIL", "73.71-DUKCAPIL"):
        shared = client.get(
            f"/api/v1/units/{code}/result?run={night2}", headers=auth(zoning.admin)
        ).get_json()
        whole = client.get(
            f"/api/v1/units/{code}/result?run={complete}", headers=auth(zoning.admin)
        ).get_json()
        for key in ("score", "zone", "rank", "inspections"):
            assert shared[key] == whole[key], key
    gone = client.get(f"/api/v1/units/21.71-KANIM/result?run={night2}", headers=auth(zoning.admin))
    assert gone.status_code == 404

    # Changes against the published anchor are the same either way.
    def changes(run_id):
        body = client.get(
            f"/api/v1/zoning-runs/{run_id}/changes?per_page=100", headers=auth(zoning.admin)
        ).get_json()
        return [{k: v for k, v in c.items() if k != "run_id"} for c in body["items"]]

    assert changes(night2) == changes(complete) != []

    # Changes are worked out in SQL: they are what the pure core's diff gives on the rows.
    from tests.core.oracle import diff

    def as_rows(run_id):
        keys = ("level", "code", "name", "region_code", "agency_code", "score", "zone")
        return [dict(zip(keys, row[:7], strict=True)) for row in zoning.rows(run_id)]

    for run_id in (night1, night2, complete):
        expected = [
            {
                "level": c.level,
                "code": c.code,
                "name": c.name,
                "region_code": c.region_code,
                "old_score": None if c.old_score is None else float(c.old_score),
                "new_score": None if c.new_score is None else float(c.new_score),
                "old_zone": c.old_zone,
                "new_zone": c.new_zone,
                "zone_moved": c.zone_changed,
            }
            for c in diff(as_rows(anchor), as_rows(run_id), ["unit", "agency"])
        ]
        got = [{k: v for k, v in c.items() if k != "delta"} for c in changes(run_id)]
        assert got == expected
        outbox = _zone_change_event(zoning.app, run_id)
        assert outbox == [
            {
                "level": c["level"],
                "code": c["code"],
                "old_zone": c["old_zone"],
                "new_zone": c["new_zone"],
            }
            for c in expected
            if c["zone_moved"]
        ]


def _zone_change_event(app, run_id: int) -> list[dict]:
    from fieldcheck.zoning.models import OutboxEvent

    with app.app_context():
        events = (
            db.session.execute(
                select(OutboxEvent.payload).where(OutboxEvent.topic == "zoning_run.zone_changes")
            )
            .scalars()
            .all()
        )
    for payload in events:
        if payload["run_id"] == run_id:
            return [
                {k: c[k] for k in ("level", "code", "old_zone", "new_zone")}
                for c in payload["changes"]
            ]
    return []


def test_sql_bands_and_means_match_the_core(app) -> None:
    """Unit rows are computed in SQL from the methodology: same numbers as the pure core."""
    from fieldcheck.catalogue.registry import get_registry
    from fieldcheck.core.rollup import mean_scaled_total
    from fieldcheck.zoning.store_units import _UnitSQL
    from fieldcheck.zoning.worktable import _create_work_table
    from tests.core.oracle import UnitInput, unit_rows

    rng = random.Random(7)
    with app.app_context(), db.engine.connect() as conn, conn.begin():
        methodology = get_registry().methodology("ombudsman-2019")
        _create_work_table(conn)
        # Every score 0.00..100.00 once (one inspection each), and random multi-inspection means.
        rows = [(i, 1, i) for i in range(10001)]
        for i in range(10001, 12001):
            n = rng.randint(2, 7)
            rows.append((i, n, sum(rng.randint(0, 10000) for _ in range(n))))
        conn.execute(
            text(
                "INSERT INTO zoning_work (unit_id, code, name, region_code, agency_code, total, "
                "scored, counted, stale, ids) VALUES (:u, :c, 'x', NULL, 'A', :t, :n, :n, 0, '1')"
            ),
            [{"u": u, "c": f"U{u}", "t": t, "n": n} for u, n, t in rows],
        )
        sql = _UnitSQL(conn, methodology)
        rank = func.rank().over(order_by=sql.rows.c.scaled.desc())
        got = {
            code: (Decimal(str(score_)), zone, grade, label, position)
            for code, score_, zone, grade, label, position in conn.execute(
                select(sql.rows.c.code, sql.score, sql.zone, sql.grade, sql.label, rank)
            )
        }
        # The pure core's unit rows from the same sums: the reference the SQL must equal.
        core = unit_rows(
            [
                UnitInput(f"U{u}", "x", "A", Decimal(mean_scaled_total(t, n)).scaleb(-2), None)
                for u, n, t in rows
            ],
            methodology.bands,
            ranked=True,
        )
        assert len(got) == len(core) == len(rows)
        assert got == {r.code: (r.score, r.zone, r.grade, r.label, r.rank) for r in core}


def test_inspection_lists_compare_as_sets_where_they_are_unordered(app) -> None:
    """A unit's computed inspection ids against a stored list of as many ids (the member counts
    are compared on their own): the same list never differs, a different set always does, and
    on PostgreSQL (ids aggregated in no order) a reordering of the same ids does not."""
    from fieldcheck.catalogue.registry import get_registry
    from fieldcheck.zoning.store_units import _UnitSQL
    from fieldcheck.zoning.worktable import _create_work_table

    cases = [  # (computed ids, stored JSON list, differ on PostgreSQL, differ on SQLite)
        ("1,2,3", "[1, 2, 3]", False, False),
        ("3,1,2", "[1, 2, 3]", False, None),
        ("1,2,4", "[1, 2, 3]", True, True),
        ("3,2,1", "[1, 2, 3]", False, None),
        ("12,3", "[1, 23]", True, True),
    ]
    with app.app_context(), db.engine.connect() as conn, conn.begin():
        postgresql = conn.dialect.name == "postgresql"
        _create_work_table(conn)
        conn.execute(
            text(
                "INSERT INTO zoning_work (unit_id, code, name, region_code, agency_code, total, "
                "scored, counted, stale, ids) VALUES (:u, :c, 'x', NULL, 'A', 100, 1, 1, 0, :ids)"
            ),
            [{"u": n, "c": f"U{n}", "ids": ids} for n, (ids, *_) in enumerate(cases)],
        )
        sql = _UnitSQL(conn, get_registry().methodology("ombudsman-2019"))
        for n, (_ids, as_stored, on_pg, on_sqlite) in enumerate(cases):
            if postgresql:
                stored = cast(literal(as_stored), JSONB)
            else:
                stored = literal(as_stored.replace(" ", ""))  # SQLite stores compact JSON text
            differs = conn.execute(
                select(sql.ids_differ(stored)).where(sql.rows.c.code == f"U{n}")
            ).scalar_one()
            expected = on_pg if postgresql else on_sqlite
            if expected is not None:
                assert bool(differs) is expected, (n, postgresql)


def test_an_anchor_without_agency_sums_still_rolls_up_right(zoning, monkeypatch) -> None:
    """Anchors written before migration 0006 have no agency sums: the run sums every unit."""
    from fieldcheck.zoning import plan

    for code, noes in [("35.15-DUKCAPIL", 2), ("35.15-RSUD", 5), ("13.71-SATPAS", 7)]:
        zoning.inspect(code, noes)
    assert zoning.rescore().exit_code == 0
    anchor = zoning.last_run_id()
    with zoning.app.app_context():
        db.session.execute(text("UPDATE zoning_results SET score_total = NULL"))
        db.session.commit()
    zoning.inspect("35.15-RSUD", 0)
    assert zoning.rescore().exit_code == 0
    shared = zoning.last_run_id()
    assert zoning.run(shared).anchor_run_id == anchor
    monkeypatch.setattr(plan, "MIN_SHARED_ROWS", 0)
    monkeypatch.setattr(plan, "MAX_SHARED_FRACTION", 0)
    assert zoning.rescore("--full").exit_code == 0
    assert zoning.rows(shared) == zoning.rows(zoning.last_run_id())


def test_a_runs_rows_are_known_to_the_planner_once_written(zoning, monkeypatch) -> None:
    """PostgreSQL: a run with many rows leaves its id in the planner's statistics, so the runs
    that compare with it or share its rows are not planned for a run of one row (the first run
    sharing a fresh national anchor once took 16 s so, docs/decisions.md item 64)."""
    from fieldcheck.zoning import store

    with zoning.app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite keeps no planner statistics here")
    # Only the rule under test: the whole-table ANALYZE of a mostly new table stays out.
    monkeypatch.setattr(store, "_refresh_statistics", lambda conn, name: False)
    monkeypatch.setattr(store, "ANALYZE_OWN_ROWS", 2)
    for code in ("35.15-DUKCAPIL", "35.15-RSUD", "13.71-SATPAS"):
        zoning.inspect(code, 3)
    with zoning.app.app_context():
        # An id no earlier test's statistics can hold (tables are emptied, not re-analyzed).
        db.session.execute(
            text("SELECT setval(pg_get_serial_sequence('zoning_runs', 'id'), :start)"),
            {"start": random.randrange(10**6, 10**9)},
        )
        db.session.commit()
    assert zoning.rescore("--full").exit_code == 0
    complete = zoning.last_run_id()
    assert zoning.run(complete).anchor_run_id is None
    with zoning.app.app_context():
        known = db.session.execute(
            text(
                "SELECT most_common_vals::text FROM pg_stats "
                "WHERE tablename = 'zoning_results' AND attname = 'run_id'"
            )
        ).scalar()
    assert known is not None and str(complete) in known.strip("{}").split(",")


def test_a_full_run_sharing_its_anchor_drops_the_units_that_left(zoning, monkeypatch) -> None:
    """A full run sharing its anchor's rows finds the units that left by counting: one leaves
    and one arrives (as many units as the anchor has), and the one that left is gone."""

    ids = {}
    for code, noes in [("35.15-DUKCAPIL", 2), ("35.15-RSUD", 5), ("13.71-SATPAS", 7)]:
        ids[code] = zoning.inspect(code, noes)
    assert zoning.rescore("--publish").exit_code == 0
    anchor = zoning.last_run_id()
    zoning.approve(ids["13.71-SATPAS"], status="rejected")  # its only inspection
    zoning.inspect("73.71-DUKCAPIL", 4)
    assert zoning.rescore("--full").exit_code == 0
    shared = zoning.last_run_id()
    run = zoning.run(shared)
    assert (run.mode, run.anchor_run_id) == ("full", anchor)
    assert run.counts["unit_rows_stored"] == 2  # the arrival and the departure's tombstone
    units = [row[1] for row in zoning.rows(shared) if row[0] == "unit"]
    assert sorted(units) == ["35.15-DUKCAPIL", "35.15-RSUD", "73.71-DUKCAPIL"]

    complete = _complete_run(zoning, monkeypatch)
    assert zoning.rows(shared) == zoning.rows(complete)
    assert zoning.run(shared).counts["zones"] == zoning.run(complete).counts["zones"]
