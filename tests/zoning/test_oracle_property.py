"""A zoning run's stored rows equal the test oracle's, row for row, ranks included.

The zoning run computes unit rows and the changes between runs in SQL and the upper levels from
SQL sums (docs/decisions.md "Issue 12: core"); ``tests/core/oracle.py`` states the same rules
plainly. Hypothesis builds random units (several agencies, regencies and provinces), random
checklists sent through the real intake, random review outcomes, random objections upheld
(findings withdrawn, the inspection re-scored), random overrides; then real zoning runs on the
test database (SQLite, or PostgreSQL with FIELDCHECK_TEST_DATABASE_URL): a national or regional
run, then, after more withdrawals and approvals, a second run that builds on the first (shared
rows, incremental) and is compared with the published first run. Every stored row, and every
stored change, must be the oracle's.

Inspection scores for the oracle come from ``fieldcheck.core.evaluate`` on the generated
checklists, not from the database: the stored scores are what is under test.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from fieldcheck.auth.models import User
from fieldcheck.auth.services import create_user
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core import FindingKey, evaluate
from fieldcheck.core.rollup import AgencyInput, ResultRow
from fieldcheck.extensions import db
from fieldcheck.inspections.models import FindingRow, Inspection
from fieldcheck.publication.services import publish, set_override
from fieldcheck.regions.models import Region
from fieldcheck.review.objections import decide_objection, record_objection
from fieldcheck.units.dirty import mark_unit_dirty
from fieldcheck.units.models import Agency, Unit
from fieldcheck.units.services import import_units
from fieldcheck.zoning.lifecycle import execute
from fieldcheck.zoning.models import ZoningChange, ZoningRun
from fieldcheck.zoning.overrides import active_overrides_by_code
from fieldcheck.zoning.results import level_rows
from fieldcheck.zoning.services import create_run
from tests.conftest import _empty_tables
from tests.core.oracle import UnitInput, diff, roll_up, unit_mean
from tests.helpers import post_json

PERIOD = 2026
METHODOLOGY = "ombudsman-2019"
SERVICE = "adminduk.ktp-el"
COMPONENTS = ("persyaratan", "prosedur", "waktu", "biaya", "produk", "pengaduan")
#: Regencies units are placed in: two in Jawa Timur, two in Jakarta, one in Bali.
REGENCIES = ("35.15", "35.25", "35.78", "31.71", "51.71")
#: Where an agency may sit: a regency (all its units there), a province, or nowhere (national).
HOMES = (*REGENCIES, "35", "31", None)
HEADER = "code,name,agency_code,agency_name,agency_kind,region_code,unit_type,lat,lon,services"
UNIT_ANSWERS = ("yes", "yes", "partial", "no", "na")


@dataclass
class Checklist:
    """One generated checklist and what became of it."""

    unit: str
    day: int
    answers: dict[str, str]
    posted: list[dict[str, Any]]
    approve: bool
    id: int = 0
    withdrawn: set[FindingKey] = field(default_factory=set)


def _regencies_of(home: str | None) -> list[str]:
    return [r for r in REGENCIES if home is None or r == home or r.startswith(home + ".")]


@st.composite
def worlds(draw) -> tuple[dict[str, str | None], dict[str, tuple[str, str]]]:
    """Agencies (code -> home) and units (code -> (agency, regency))."""
    homes = draw(st.lists(st.sampled_from(HOMES), min_size=1, max_size=4))
    agencies = {f"AG{i}": home for i, home in enumerate(homes)}
    units: dict[str, tuple[str, str]] = {}
    for i in range(draw(st.integers(min_value=1, max_value=8))):
        agency = draw(st.sampled_from(sorted(agencies)))
        units[f"U{i}"] = (agency, draw(st.sampled_from(_regencies_of(agencies[agency]))))
    return agencies, units


@st.composite
def checklists(draw, unit_codes: list[str], indicator_codes: list[str]) -> list[Checklist]:
    out = []
    for unit in unit_codes:
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            answers = {c: draw(st.sampled_from(UNIT_ANSWERS)) for c in indicator_codes}
            posted = []
            if draw(st.booleans()) or answers["SP-01"] in ("yes", "partial"):
                shown = draw(st.lists(st.sampled_from(COMPONENTS), unique=True))
                # A value read off the board comes with its component (intake's rule).
                requirements = ["kk", "usia-17-atau-kawin", "Fotokopi KTP"]
                posted.append(
                    {
                        "service": SERVICE,
                        "components": shown,
                        "fee_idr": draw(st.sampled_from([0, 10000, None]))
                        if "biaya" in shown
                        else None,
                        "max_days": draw(st.sampled_from([1, 14, None]))
                        if "waktu" in shown
                        else None,
                        "requirements": draw(st.lists(st.sampled_from(requirements), unique=True))
                        if "persyaratan" in shown
                        else [],
                    }
                )
            out.append(
                Checklist(
                    unit=unit,
                    day=draw(st.integers(min_value=1, max_value=28)),
                    answers=answers,
                    posted=posted,
                    approve=draw(st.integers(min_value=0, max_value=4)) > 0,
                )
            )
    return out


class World:
    """One example's database: units, checklists, objections, overrides and runs."""

    def __init__(self, app, client) -> None:
        self.app = app
        self.client = client
        _empty_tables(app)
        with app.app_context():
            user, self.token = create_user("admin national", "admin", None)
            db.session.commit()
            self.admin_id = user.id
            registry = get_registry()
            self.methodology = registry.methodology(METHODOLOGY)
            self.catalogue = registry.catalogue
        self.checklists: list[Checklist] = []

    def import_units(self, agencies: dict[str, str | None], units: dict[str, tuple[str, str]]):
        lines = [HEADER]
        for code, (agency, regency) in units.items():
            lines.append(
                f"{code},Unit {code},{agency},Instansi {agency},kementerian,{regency},"
                f"disdukcapil,,,{SERVICE}"
            )
        with self.app.app_context():
            import_units(io.StringIO("\n".join(lines) + "\n"), set(self.catalogue.services))
            db.session.commit()

    def submit(self, checklist: Checklist) -> None:
        day = f"{PERIOD}-03-{checklist.day:02d}"
        body = {
            "submission_id": _uuid(len(self.checklists)),
            "unit_code": checklist.unit,
            "methodology": METHODOLOGY,
            "started_at": f"{day}T09:00:00+07:00",
            "finished_at": f"{day}T09:30:00+07:00",
            "location": None,
            "answers": {c: {"value": v} for c, v in checklist.answers.items()},
            "posted_standards": checklist.posted,
            "notes": None,
        }
        response = post_json(self.client, "/api/v1/inspections", body, self.token)
        assert response.status_code == 201, response.get_json()
        checklist.id = response.get_json()["id"]
        self.checklists.append(checklist)

    def approve(self, ids: list[int]) -> None:
        """Approve directly (review's evidence rules are not under test) and mark units dirty."""
        with self.app.app_context():
            db.session.execute(
                update(Inspection).where(Inspection.id.in_(ids)).values(status="approved")
            )
            for unit_id in db.session.execute(
                select(Inspection.unit_id).where(Inspection.id.in_(ids))
            ).scalars():
                mark_unit_dirty(unit_id, "review")
            db.session.commit()
        for c in self.checklists:
            if c.id in ids:
                c.approve = True

    def findings(self) -> list[tuple[int, int, FindingKey]]:
        """(finding id, inspection id, key) of every finding still standing."""
        with self.app.app_context():
            rows = db.session.execute(
                select(
                    FindingRow.id,
                    FindingRow.inspection_id,
                    FindingRow.rule,
                    FindingRow.service_code,
                    FindingRow.component,
                )
                .where(FindingRow.withdrawn_at.is_(None))
                .order_by(FindingRow.id)
            ).all()
        return [(r[0], r[1], (r[2], r[3], r[4])) for r in rows]

    def uphold_objection(self, finding_id: int) -> None:
        """Object to a finding and uphold it: the finding is withdrawn, the inspection
        re-scored and its unit marked dirty, all by review's own services."""
        with self.app.app_context():
            user = db.session.get(User, self.admin_id)
            finding = db.session.get(FindingRow, finding_id)
            inspection = db.session.get(Inspection, finding.inspection_id)
            objection = record_objection(finding, inspection, "Sanggahan instansi.", [], user)
            decide_objection(objection, inspection, "upheld", "Bukti diterima.", user)
            db.session.commit()
            key = (finding.rule, finding.service_code, finding.component)
        for c in self.checklists:
            if c.id == finding.inspection_id:
                c.withdrawn.add(key)

    def override(self, unit_code: str, zone: str) -> None:
        with self.app.app_context():
            unit = db.session.execute(select(Unit).where(Unit.code == unit_code)).unique()
            user = db.session.get(User, self.admin_id)
            set_override(unit.scalar_one(), PERIOD, zone, "Keputusan pimpinan.", user)
            db.session.commit()

    def run(self, scope: str, from_answers: bool = False) -> int:
        with self.app.app_context():
            run = create_run(region=scope or None, period=PERIOD)
            db.session.commit()
            run_id = run.id
        with self.app.app_context():
            outcome = execute(run_id, from_answers=from_answers)
            assert outcome.state == "succeeded", outcome.message
        return run_id

    def publish(self, run_id: int) -> None:
        with self.app.app_context():
            assert publish(db.session.get(ZoningRun, run_id), None)
            db.session.commit()

    def stored(self, run_id: int) -> tuple[list[tuple], dict[str, list[int]]]:
        """The run's rows as readers resolve them, and each unit's inspection ids."""
        with self.app.app_context():
            run = db.session.get(ZoningRun, run_id)
            rows, ids = [], {}
            for level in ("unit", "agency", "regency", "province"):
                for r in db.session.execute(level_rows(run, level)):
                    rows.append(_row_key(r))
                    if level == "unit":
                        ids[r.code] = sorted(r.inspection_ids or [])
            return sorted(rows), ids

    def stored_changes(self, run_id: int) -> list[tuple]:
        with self.app.app_context():
            c = ZoningChange
            return sorted(
                (
                    r.level,
                    r.code,
                    r.name,
                    r.region_code,
                    _dec(r.old_score),
                    _dec(r.new_score),
                    r.old_zone,
                    r.new_zone,
                )
                for r in db.session.execute(
                    select(
                        c.level,
                        c.code,
                        c.name,
                        c.region_code,
                        c.old_score,
                        c.new_score,
                        c.old_zone,
                        c.new_zone,
                    ).where(c.run_id == run_id)
                )
            )

    def oracle(self, scope: str) -> tuple[dict[str, list[ResultRow]], dict[str, list[int]]]:
        """The oracle's rows from the generated checklists, and each unit's inspection ids."""
        scores: dict[str, list[tuple[int, Decimal]]] = {}
        for c in self.checklists:
            if not c.approve:
                continue
            result = evaluate(
                c.answers,
                c.posted,
                self.methodology,
                self.catalogue,
                date(PERIOD, 3, c.day),
                frozenset(c.withdrawn),
            ).result
            if result.score is not None:
                scores.setdefault(c.unit, []).append((c.id, result.score))
        with self.app.app_context():
            agencies = {
                a.code: AgencyInput(a.code, a.name, a.region_code)
                for a in db.session.execute(select(Agency)).unique().scalars()
            }
            regions = dict(db.session.execute(select(Region.code, Region.name)).all())
            units = {
                u.code: UnitInput(u.code, u.name, u.agency.code, Decimal(0), u.region_code)
                for u in db.session.execute(select(Unit)).unique().scalars()
            }
        inputs = []
        for code, scored in scores.items():
            u = units[code]
            mean = unit_mean([s for _, s in scored])
            inputs.append(UnitInput(u.code, u.name, u.agency_code, mean, u.region_code))
        members = {code: len(scored) for code, scored in scores.items()}
        rows = roll_up(inputs, agencies, regions, self.methodology.bands, members, scope=scope)
        inside = {r.code for r in rows["unit"]}
        ids = {code: sorted(i for i, _ in s) for code, s in scores.items() if code in inside}
        return rows, ids


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _row_key(r: Any) -> tuple:
    """A stored row or an oracle ``ResultRow`` (same attribute names) as one comparable tuple."""
    return (
        r.level,
        r.code,
        r.name,
        r.region_code,
        r.agency_code,
        _dec(r.score),
        r.zone,
        r.grade,
        r.label,
        r.rank,
        r.members,
    )


def _oracle_rows(rows: dict[str, list[ResultRow]]) -> list[tuple]:
    return sorted(_row_key(r) for level_rows_ in rows.values() for r in level_rows_)


def _uuid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _check_run(world: World, run_id: int, scope: str) -> dict[str, list[ResultRow]]:
    expected, expected_ids = world.oracle(scope)
    stored, stored_ids = world.stored(run_id)
    assert stored == _oracle_rows(expected)
    assert stored_ids == expected_ids
    return expected


@settings(
    max_examples=int(os.environ.get("ORACLE_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
    # No shrinking: each step of it re-runs intake and zoning (minutes); a failure is reported
    # as generated, with every draw labelled.
    phases=[Phase.explicit, Phase.generate],
)
@given(world_shape=worlds(), data=st.data())
def test_stored_rows_equal_the_oracle(app, client, world_shape, data) -> None:
    agencies, units = world_shape
    world = World(app, client)
    world.import_units(agencies, units)
    indicator_codes = [i.code for i in world.methodology.indicators if i.scope == "unit"]
    for checklist in data.draw(checklists(sorted(units), indicator_codes), label="checklists"):
        world.submit(checklist)
    world.approve([c.id for c in world.checklists if c.approve])

    # Some objections upheld before the first run (the stored score is already re-scored).
    standing = world.findings()
    for finding_id, _, _ in data.draw(
        st.lists(st.sampled_from(standing), unique=True, max_size=3) if standing else st.just([]),
        label="withdrawn before the first run",
    ):
        world.uphold_objection(finding_id)
    overridden = data.draw(
        st.dictionaries(st.sampled_from(sorted(units)), st.sampled_from(["merah", "hijau"])),
        label="overrides",
    )
    for unit_code, zone in overridden.items():
        world.override(unit_code, zone)

    scope = data.draw(st.sampled_from(["", "", "35", "35.15", "31"]), label="scope")
    from_answers = data.draw(st.booleans(), label="from answers")
    first = world.run(scope, from_answers)
    expected = _check_run(world, first, scope)

    # Overrides sit beside the computed zone; they never change a stored row.
    shown = with_overrides_of(world, expected["unit"])
    for unit_code, zone in shown.items():
        assert zone == overridden.get(
            unit_code, next(r.zone for r in expected["unit"] if r.code == unit_code)
        )

    if scope:
        return
    # A second national run after more objections and approvals builds on the first (shared
    # rows, incremental when few units changed) and is compared with it once published.
    world.publish(first)
    standing = world.findings()
    for finding_id, _, _ in data.draw(
        st.lists(st.sampled_from(standing), unique=True, max_size=3) if standing else st.just([]),
        label="withdrawn before the second run",
    ):
        world.uphold_objection(finding_id)
    waiting = [c.id for c in world.checklists if not c.approve]
    world.approve(
        data.draw(
            st.lists(st.sampled_from(waiting), unique=True) if waiting else st.just([]),
            label="approved later",
        )
    )
    second = world.run("")
    after = _check_run(world, second, "")
    levels = ["unit", "agency"]
    assert world.stored_changes(second) == sorted(
        (c.level, c.code, c.name, c.region_code, c.old_score, c.new_score, c.old_zone, c.new_zone)
        for c in diff(
            [r for rows in expected.values() for r in rows],
            [r for rows in after.values() for r in rows],
            levels,
        )
    )


def with_overrides_of(world: World, unit_rows: list[ResultRow]) -> dict[str, str]:
    """Unit code -> the final zone readers are shown, for the oracle's unit rows."""
    with world.app.app_context():
        # The oracle's rule: the override in force for the period wins over the computed zone.
        overrides = active_overrides_by_code((r.code for r in unit_rows), PERIOD)
        return {
            r.code: overrides[r.code].zone if r.code in overrides else r.zone for r in unit_rows
        }
