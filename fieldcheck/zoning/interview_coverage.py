"""Coverage of interviews per agency for a methodology and period (supervisors; API and web).

Counted as the agency result counts them, through the same rule: records are turned into
``core.dimensions.Record`` (received interviews of the methodology in the period, approved
inspections of the agency's units in the period) and the quota gaps of
``core.dimensions.score_subject`` say what is missing. So coverage and an incomplete result never
disagree: same quotas, same sampled units (the units some record is about), rejected interviews
and unapproved inspections do not count, period = the calendar year of the interview or visit
date (zoning's period).

Lives in zoning (above inspections and interviews) because it reads both.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import in_scope, scope_filter
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core.dimensions import OBSERVATION, Gap, Record, score_subject
from fieldcheck.core.model import Instrument, Methodology
from fieldcheck.errors import ApiError, field_errors
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, render
from fieldcheck.inspections.models import Inspection
from fieldcheck.interviews.models import Interview
from fieldcheck.regions.services import in_region
from fieldcheck.units.models import Agency, Unit
from fieldcheck.zoning.services import COUNTED_STATUSES, current_period

#: What the shortfall of one instrument reads like: "29 dari 30 wawancara pengguna layanan" (the
#: instrument's name, "Wawancara pengguna layanan", is a noun phrase that says what is counted).
SHORTFALL = N_("%(have)s of %(need)s %(instrument)s")


@dataclass(frozen=True)
class InstrumentCoverage:
    """One instrument at one agency: records counted against what a complete result needs."""

    code: str
    name: str
    level: str
    #: Per record: per agency for agency-level instruments, per sampled unit for unit-level.
    quota: int
    have: int
    need: int
    #: Units (of the sampled ones) short of the quota; 0 for an agency-level instrument.
    units_short: int = 0

    @property
    def complete(self) -> bool:
        """True when nothing of this instrument is missing."""
        return self.have >= self.need and not self.units_short

    @property
    def summary(self) -> str:
        """``29 dari 30 wawancara pengguna layanan`` in the reader's language."""
        # Mid-sentence: the name's capital goes (names are Indonesian noun phrases).
        name = self.name[:1].lower() + self.name[1:]
        return render(SHORTFALL, {"have": self.have, "need": self.need, "instrument": name})


@dataclass(frozen=True)
class UnitCoverage:
    """A sampled unit: inspections counted and each unit-level instrument's have/need."""

    code: str
    name: str
    inspections: int
    #: Instrument code -> (have, need).
    instruments: dict[str, tuple[int, int]]

    @property
    def complete(self) -> bool:
        """True when the unit has what its quotas need (and a visit when observations count)."""
        return all(have >= need for have, need in self.instruments.values())


@dataclass(frozen=True)
class AgencyCoverage:
    """An agency's coverage: per instrument, per sampled unit, and the core's quota gaps."""

    code: str
    name: str
    region_code: str | None
    instruments: tuple[InstrumentCoverage, ...]
    units: tuple[UnitCoverage, ...]
    units_total: int
    units_visited: int
    gaps: tuple[Gap, ...]

    @property
    def complete(self) -> bool:
        """True when the core finds no quota missing."""
        return not self.gaps


@dataclass(frozen=True)
class Coverage:
    """Coverage of a methodology's interviews in a period, per agency in the reader's scope."""

    methodology: Methodology
    period: int
    region: str | None
    agencies: tuple[AgencyCoverage, ...] = field(default=())


def interview_methodologies(period: int | None = None) -> list[Methodology]:
    """Published methodologies that have interview instruments (in force in ``period`` when
    given), newest first: what coverage can be asked for."""
    out = []
    for m in get_registry().methodologies.values():
        if m.status != "published" or not m.instruments:
            continue
        if period is not None and not (
            m.effective_from <= date(period, 12, 31)
            and (m.effective_to is None or m.effective_to >= date(period, 1, 1))
        ):
            continue
        out.append(m)
    return sorted(out, key=lambda m: (m.effective_from, m.id), reverse=True)


def coverage(
    user: User,
    *,
    methodology_id: str | None = None,
    period: int | None = None,
    region: str | None = None,
) -> Coverage:
    """Coverage per agency located in ``region`` (default: the user's region, all for a
    national user) for a methodology (default: the newest one with interviews in force)."""
    period = period or current_period()
    methodology = _methodology(methodology_id, period)
    if region is not None and not in_scope(user, region):
        raise ApiError("out_of_scope", N_("This region is outside your region."))
    agencies = _agencies(user, region)
    ids = [a.id for a in agencies]
    interviews = _interviews(methodology, period, ids)
    inspections = _inspections(methodology, period, ids)
    totals = _unit_totals(ids)
    out = [
        _agency(
            methodology,
            agency,
            interviews.get(agency.id, []),
            inspections.get(agency.id, {}),
            totals.get(agency.id, 0),
        )
        for agency in agencies
    ]
    return Coverage(methodology, period, region, tuple(out))


def _methodology(methodology_id: str | None, period: int) -> Methodology:
    if methodology_id is None:
        candidates = interview_methodologies(period)
        if not candidates:
            raise field_errors(
                {"methodology": [N_("No published methodology with interviews is in force.")]}
            )
        return candidates[0]
    methodology = get_registry().methodology(methodology_id)
    if methodology is None:
        raise field_errors({"methodology": [N_("Unknown methodology.")]})
    if not methodology.instruments:
        raise field_errors({"methodology": [N_("This methodology has no interviews.")]})
    return methodology


def _agencies(user: User, region: str | None) -> list[Agency]:
    """Agencies located in the region (and the user's scope), by code. An agency whose units
    span provinces (no region) is listed for national users only."""
    query = select(Agency).order_by(Agency.code)
    condition = scope_filter(user, Agency.region_code)
    if condition is not None:
        query = query.where(condition)
    if region is not None:
        query = query.where(in_region(Agency.region_code, region))
    return list(db.session.execute(query).scalars())


def _in_period(column: Any, period: int) -> list[Any]:
    return [column >= date(period, 1, 1), column <= date(period, 12, 31)]


def _interviews(
    methodology: Methodology, period: int, agency_ids: list[int]
) -> dict[int, list[tuple[str, str | None, str | None]]]:
    """Agency id -> [(instrument, unit code, unit name)] of the counted (received) records."""
    if not agency_ids:
        return {}
    rows = db.session.execute(
        select(Interview.agency_id, Interview.instrument, Unit.code, Unit.name)
        .outerjoin(Unit, Unit.id == Interview.unit_id)
        .where(
            Interview.agency_id.in_(agency_ids),
            # Counted as a run of this methodology counts them (zoning.dimensional): the
            # interviews its instruments ask, and every approved visit of the period.
            Interview.instrument.in_([i.code for i in methodology.instruments]),
            Interview.status == "received",
            *_in_period(Interview.interview_date, period),
        )
    ).all()
    out: dict[int, list[tuple[str, str | None, str | None]]] = defaultdict(list)
    for agency_id, instrument, unit_code, unit_name in rows:
        out[agency_id].append((instrument, unit_code, unit_name))
    return out


def _inspections(
    methodology: Methodology, period: int, agency_ids: list[int]
) -> dict[int, dict[tuple[str, str], int]]:
    """Agency id -> {(unit code, unit name): approved inspections in the period}."""
    if not agency_ids or not methodology.observed_indicators:
        return {}
    rows = db.session.execute(
        select(Unit.agency_id, Unit.code, Unit.name, func.count(Inspection.id))
        .join(Unit, Unit.id == Inspection.unit_id)
        .where(
            Unit.agency_id.in_(agency_ids),
            Inspection.status.in_(COUNTED_STATUSES),
            *_in_period(Inspection.visit_date, period),
        )
        .group_by(Unit.agency_id, Unit.code, Unit.name)
    ).all()
    out: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    for agency_id, code, name, n in rows:
        out[agency_id][(code, name)] = n
    return out


def _unit_totals(agency_ids: list[int]) -> dict[int, int]:
    if not agency_ids:
        return {}
    rows = db.session.execute(
        select(Unit.agency_id, func.count(Unit.id))
        .where(Unit.agency_id.in_(agency_ids))
        .group_by(Unit.agency_id)
    ).all()
    return {agency_id: n for agency_id, n in rows}


def _agency(
    methodology: Methodology,
    agency: Agency,
    interviews: list[tuple[str, str | None, str | None]],
    inspections: dict[tuple[str, str], int],
    units_total: int,
) -> AgencyCoverage:
    records = [Record(instrument, unit, {}) for instrument, unit, _name in interviews]
    for (code, _name), n in inspections.items():
        records += [Record(OBSERVATION, code, {})] * n
    result = score_subject(methodology, records)
    # Only what is missing in numbers: without dimension scores every dimension has "no data".
    gaps = tuple(g for g in result.gaps if g.kind == "quota")
    names = {code: name for (code, name) in inspections}
    names.update({unit: name for _i, unit, name in interviews if unit is not None})
    per_unit: dict[tuple[str, str | None], int] = defaultdict(int)
    for r in records:
        per_unit[(r.source, r.unit)] += 1
    unit_instruments = [i for i in methodology.instruments if i.level == "unit"]
    units = tuple(
        UnitCoverage(
            code=code,
            name=names.get(code, code),
            inspections=per_unit.get((OBSERVATION, code), 0),
            instruments={
                i.code: (per_unit.get((i.code, code), 0), i.quota) for i in unit_instruments
            },
        )
        for code in result.units
    )
    return AgencyCoverage(
        code=agency.code,
        name=agency.name,
        region_code=agency.region_code,
        instruments=tuple(_instrument(i, result.counts, units) for i in methodology.instruments),
        units=units,
        units_total=units_total,
        units_visited=sum(1 for u in units if u.inspections),
        gaps=gaps,
    )


def _instrument(
    instrument: Instrument, counts: dict[str, int], units: tuple[UnitCoverage, ...]
) -> InstrumentCoverage:
    have = counts.get(instrument.code, 0)
    if instrument.level == "agency":
        return InstrumentCoverage(
            instrument.code,
            instrument.name,
            instrument.level,
            instrument.quota,
            have,
            instrument.quota,
        )
    # Per unit: a unit's surplus does not make up for another's shortfall.
    counted = sum(min(u.instruments[instrument.code][0], instrument.quota) for u in units)
    short = sum(1 for u in units if u.instruments[instrument.code][0] < instrument.quota)
    return InstrumentCoverage(
        instrument.code,
        instrument.name,
        instrument.level,
        instrument.quota,
        counted,
        instrument.quota * max(len(units), 1),
        short,
    )


def gap_text(gap: Gap) -> str:
    """A core gap in the reader's language."""
    return render(gap.message, dict(gap.params))


def coverage_body(result: Coverage) -> dict[str, Any]:
    """Coverage as plain data for the wire schema and the page (texts rendered)."""
    return {
        "methodology": result.methodology.id,
        "methodology_version": result.methodology.version,
        "period": result.period,
        "region": result.region,
        "agencies": [
            {
                "agency_code": a.code,
                "agency_name": a.name,
                "region_code": a.region_code,
                "complete": a.complete,
                "units_total": a.units_total,
                "units_sampled": len(a.units),
                "units_visited": a.units_visited,
                "instruments": [
                    {
                        "code": i.code,
                        "name": i.name,
                        "level": i.level,
                        "quota": i.quota,
                        "have": i.have,
                        "need": i.need,
                        "units_short": i.units_short,
                        "complete": i.complete,
                        "summary": i.summary,
                    }
                    for i in a.instruments
                ],
                "units": [
                    {
                        "unit_code": u.code,
                        "unit_name": u.name,
                        "inspections": u.inspections,
                        "complete": u.complete,
                        "instruments": {
                            code: {"have": have, "need": need}
                            for code, (have, need) in u.instruments.items()
                        },
                    }
                    for u in a.units
                ],
                "gaps": [
                    {
                        "kind": g.kind,
                        "source": g.source,
                        "unit": g.unit,
                        "have": g.have,
                        "need": g.need,
                        "message": gap_text(g),
                    }
                    for g in a.gaps
                ],
            }
            for a in result.agencies
        ],
    }
