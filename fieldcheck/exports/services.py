"""What an export holds: its columns and one SELECT, scoped and filtered as the list it mirrors.

An ``Export`` is built inside the request (filters checked, the run resolved, the rows counted
against ``EXPORT_MAX_ROWS``, so a bad request is a 422 before any byte is sent) and read later,
while the response streams: ``Export.rows()`` runs the SELECT through a server-side cursor
(``yield_per``) and converts one batch at a time, so memory stays flat in the row count.

Who sees what is not decided here: results come from ``zoning.reading.results_query`` (as
``GET /results``), inspections and findings from ``inspections.visibility.listed_inspections``
(as ``GET /inspections``), both limited to the caller's region.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, false, func, null, select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import scope_filter
from fieldcheck.clock import utcnow
from fieldcheck.errors import ApiError, field_errors
from fieldcheck.evidence.models import InspectionFlag
from fieldcheck.extensions import LONG_JOB, db
from fieldcheck.i18n import N_, _, content_language, render, state, zone_name
from fieldcheck.inspections.models import FindingRow, Inspection
from fieldcheck.inspections.visibility import listed_inspections
from fieldcheck.regions.models import Region
from fieldcheck.regions.services import in_region
from fieldcheck.units.models import Unit
from fieldcheck.zoning.models import ZoningRun, ZoningSubject
from fieldcheck.zoning.overrides import active_overrides_by_code, final_zone
from fieldcheck.zoning.reading import resolve_run, results_query
from fieldcheck.zoning.subjects import run_methodology, scored_by_dimensions, subject_level

KINDS = ("results", "findings", "inspections")
FORMATS = ("csv", "xlsx")
#: Rows fetched per round trip of the server-side cursor.
BATCH = 1000


@dataclass(frozen=True)
class Column:
    """One column: its key, its header (an English msgid) and the kind of value it holds:
    ``text``, ``integer``, ``number``, ``date`` or ``datetime`` (aware; shown in its own zone)."""

    key: str
    title: str
    type: str = "text"


@dataclass
class Export:
    """An export ready to stream: its columns, headers (in the request's language), the query
    and how one database row becomes the values of ``columns``."""

    kind: str
    columns: tuple[Column, ...]
    titles: list[str]
    query: Select
    #: A batch of database rows (``BATCH`` at most) -> their values, in order.
    convert: Callable[[list[Any]], Iterable[tuple]]
    total: int
    filename: str
    sheet: str

    def rows(self) -> Iterator[tuple]:
        """The rows, read through a server-side cursor ``BATCH`` rows at a time.

        Called while the response streams, after the request's transaction has committed: the
        read opens its own. On SQLite it asks for a deferred BEGIN (``fieldcheck_read_snapshot``)
        so a long export never holds the write lock phones need; WAL keeps its snapshot stable.
        """
        session = db.session()  # the request's Session itself (scoped_session proxies it)
        own = not session.in_transaction()
        if own:
            # A million rows take longer than a request's statement timeout: the job's limit.
            session.connection(execution_options={"fieldcheck_read_snapshot": True, LONG_JOB: True})
        result = session.execute(self.query.execution_options(yield_per=BATCH))
        try:
            for batch in result.partitions():
                yield from self.convert(batch)
        finally:
            result.close()
            if own:
                session.rollback()  # read only: end the snapshot we opened


def _count(query: Select) -> int:
    return db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()


def _checked_total(query: Select) -> int:
    """The number of rows ``query`` returns; 422 when it is over ``EXPORT_MAX_ROWS``."""
    total = _count(query)
    most = current_app.config["EXPORT_MAX_ROWS"]
    if total > most:
        raise ApiError(
            "validation_failed",
            _(
                "This export would have %(rows)s rows, more than the %(most)s allowed: narrow "
                "the filters.",
                rows=total,
                most=most,
            ),
            {"rows": total, "max_rows": most},
        )
    return total


def _stamp() -> str:
    return utcnow().strftime("%Y%m%d-%H%M")


# --- results ---------------------------------------------------------------------------------

RESULT_COLUMNS = (
    Column("rank", N_("Rank"), "integer"),
    Column("level", N_("Level")),
    Column("code", N_("Code")),
    Column("name", N_("Name")),
    Column("region_code", N_("Region code")),
    Column("agency_code", N_("Agency code")),
    Column("score", N_("Score"), "number"),
    Column("zone", N_("Zone")),
    Column("grade", N_("Grade")),
    Column("label", N_("Label")),
    Column("members", N_("Units or members counted"), "integer"),
    Column("override_zone", N_("Zone set by a supervisor")),
    Column("final_zone", N_("Final zone")),
    Column("run_id", N_("Zoning run"), "integer"),
    Column("period", N_("Period"), "integer"),
    Column("methodology", N_("Methodology")),
)


def results_export(
    user: User,
    *,
    run: int | str | None = None,
    methodology: str | None = None,
    period: int | None = None,
    level: str = "unit",
    region: str | None = None,
    zone: str | None = None,
) -> Export:
    """A run's result rows at one level, as ``GET /results`` lists them (same run choice, same
    region scope, same order), without pages. 404/409 as the list for a run one may not read or
    that has no results; no run at all is an empty export."""
    chosen = resolve_run(user, run=run, methodology=methodology, period=period, region=region)
    if chosen is None:
        # The SQL literal NULL (sqlalchemy.null), not func.null(): there is no null() function
        # in SQLite or PostgreSQL.
        query = select(*(null().label(c.key) for c in RESULT_COLUMNS)).where(false())
        header: tuple = (None, None, None)
    else:
        full = results_query(user, chosen, level, region=region, zone=zone)
        picked = [full.selected_columns[c.key] for c in RESULT_COLUMNS[:11]]
        query = full.with_only_columns(*picked)
        header = (chosen.id, chosen.period, chosen.methodology_id)
    # Plain values: the run object is expired by the commit before the rows stream.
    period = header[1]

    def convert(batch: list[Any]) -> Iterator[tuple]:
        # Units: the override in force for the run's period beside the computed zone, as
        # GET /results shows it (one query per batch); roll-ups keep their computed zone.
        overrides = (
            active_overrides_by_code((row.code for row in batch), period)
            if period is not None and level == "unit"
            else {}
        )
        for row in batch:
            override = overrides.get(row.code)
            shown = None if override is None else override.zone
            yield (*row, shown, final_zone(row.zone, override), *header)

    columns, titles = RESULT_COLUMNS, [_(c.title) for c in RESULT_COLUMNS]
    dims = _dimension_columns(chosen) if chosen is not None else ()
    if dims and level == subject_level(chosen):
        # A run scored by dimensions (issue 16): one column per dimension score, its weight in
        # the header, read from the run's stored subjects (one query per batch).
        columns = columns + tuple(c for c, _title in dims)
        titles = titles + [title for _c, title in dims]
        codes = [c.key.removeprefix(DIMENSION_KEY) for c, _title in dims]
        plain = convert
        run_id, subjects_level = chosen.id, subject_level(chosen)

        def convert(batch: list[Any]) -> Iterator[tuple]:
            scores = _dimension_scores(run_id, subjects_level, [row.code for row in batch])
            for row, values in zip(batch, plain(batch), strict=True):
                found = scores.get(row.code, {})
                yield (*values, *(found.get(code) for code in codes))

    suffix = f"run{chosen.id}-{level}" if chosen is not None else level
    return Export(
        kind="results",
        columns=columns,
        titles=titles,
        query=query,
        convert=convert,
        total=_checked_total(query),
        filename=f"fieldcheck-results-{suffix}-{_stamp()}",
        sheet=_("Results"),
    )


#: Key prefix of a dimension's score column (the dimension code follows).
DIMENSION_KEY = "dimension:"


def _dimension_columns(run: ZoningRun) -> tuple[tuple[Column, str], ...]:
    """For a run scored by dimensions: a score column per dimension of its methodology, with
    its header in the request's language naming the dimension and its weight; () otherwise."""
    methodology = run_methodology(run)
    if not scored_by_dimensions(run) or methodology is None:
        return ()
    # The weights the run scored with, as stored with its subjects (a what-if may change
    # them); the methodology's when the run stored none.
    stored = db.session.execute(
        select(ZoningSubject.dimensions).where(ZoningSubject.run_id == run.id).limit(1)
    ).scalar_one_or_none()
    weights = {d["code"]: d["weight"] for d in stored or ()}
    return tuple(
        (
            Column(f"{DIMENSION_KEY}{d.code}", d.name, "number"),
            _(
                "%(dimension)s (weight %(weight)s)",
                dimension=d.name,
                weight=_weight(weights.get(d.code, d.weight)),
            ),
        )
        for d in methodology.dimensions
    )


def _weight(value: Any) -> str:
    """A weight as written in a header: 21.85, 30 (no trailing zeros), – when none."""
    return "–" if value is None else f"{Decimal(str(value)).normalize():f}"


def _dimension_scores(run_id: int, level: str | None, codes: list[str]) -> dict[str, dict]:
    """Subject code -> {dimension code: score (Decimal) or None} of a run's stored subjects."""
    if not codes:
        return {}
    rows = db.session.execute(
        select(ZoningSubject.code, ZoningSubject.dimensions).where(
            ZoningSubject.run_id == run_id,
            ZoningSubject.level == level,
            ZoningSubject.code.in_(codes),
        )
    )
    return {
        code: {
            d["code"]: None if d["score"] is None else Decimal(str(d["score"])) for d in dims or ()
        }
        for code, dims in rows
    }


INCOMPLETE_COLUMNS = (
    Column("level", N_("Level")),
    Column("code", N_("Code")),
    Column("name", N_("Name")),
    Column("region_code", N_("Region code")),
    Column("agency_code", N_("Agency code")),
    Column("reasons", N_("What is missing")),
    Column("run_id", N_("Zoning run"), "integer"),
    Column("period", N_("Period"), "integer"),
    Column("methodology", N_("Methodology")),
)


def incomplete_export(
    user: User,
    *,
    run: int | str | None = None,
    methodology: str | None = None,
    period: int | None = None,
    region: str | None = None,
) -> Export:
    """The incomplete subjects (never zoned) of a run scored by dimensions, chosen as
    ``GET /results`` chooses a run, within the caller's region: code, name, each dimension's
    score and what is missing, rendered in the request's language. Only what the subject row
    holds: no interview record, respondent or answer is read. Any other run (or none) is an
    empty export."""
    chosen = resolve_run(user, run=run, methodology=methodology, period=period, region=region)
    dims = () if chosen is None else _dimension_columns(chosen)
    query = select(
        ZoningSubject.level,
        ZoningSubject.code,
        ZoningSubject.name,
        ZoningSubject.region_code,
        ZoningSubject.agency_code,
        ZoningSubject.dimensions,
        ZoningSubject.gaps,
    ).where(ZoningSubject.is_complete.is_(False))
    if chosen is None or not dims:
        query = query.where(false())
        header: tuple = (None, None, None)
    else:
        query = query.where(ZoningSubject.run_id == chosen.id)
        header = (chosen.id, chosen.period, chosen.methodology_id)
    condition = scope_filter(user, ZoningSubject.region_code)
    if condition is not None:
        query = query.where(condition)
    if region is not None:
        query = query.where(in_region(ZoningSubject.region_code, region))
    query = query.order_by(ZoningSubject.level, ZoningSubject.code)
    codes = [c.key.removeprefix(DIMENSION_KEY) for c, _title in dims]
    locale = content_language()

    def one(row: Any) -> tuple:
        level, code, name, region_code, agency_code, dimensions, gaps = row
        scores = {
            d["code"]: None if d["score"] is None else Decimal(str(d["score"]))
            for d in dimensions or ()
        }
        reasons = "; ".join(render(g["message"], g["params"], locale) for g in gaps or ())
        return (
            _(level),
            code,
            name,
            region_code,
            agency_code,
            reasons,
            *header,
            *(scores.get(c) for c in codes),
        )

    columns = INCOMPLETE_COLUMNS + tuple(c for c, _title in dims)
    return Export(
        kind="incomplete",
        columns=columns,
        titles=[_(c.title) for c in INCOMPLETE_COLUMNS] + [title for _c, title in dims],
        query=query,
        convert=lambda batch: map(one, batch),
        total=_checked_total(query),
        filename=f"fieldcheck-incomplete-{f'run{chosen.id}' if chosen else 'none'}-{_stamp()}",
        sheet=_("Incomplete"),
    )


# --- inspections and findings ------------------------------------------------------------------


@dataclass(frozen=True)
class InspectionFilters:
    """The filters of the inspection and finding exports: those of ``GET /inspections``
    (unit, status, received since, surveyor, integrity flag) plus a region inside the caller's
    and a range of visit dates (the unit's local calendar)."""

    unit: str | None = None
    status: str | None = None
    since: datetime | None = None
    surveyor: int | None = None
    flag: str | None = None
    region: str | None = None
    visited_from: date | None = None
    visited_to: date | None = None


def _inspections(user: User, filters: InspectionFilters) -> Select:
    """The inspections ``user`` may see that match ``filters`` (no columns chosen yet)."""
    if filters.visited_from and filters.visited_to and filters.visited_from > filters.visited_to:
        raise field_errors({"visited_to": [N_("The end date is before the start date.")]})
    query = listed_inspections(
        user,
        unit=filters.unit,
        status=filters.status,
        since=filters.since,
        surveyor=filters.surveyor,
    )
    if filters.flag is not None:
        # The indexed (inspection, code) table, as GET /inspections filters by flag.
        flagged = select(InspectionFlag.inspection_id).where(InspectionFlag.code == filters.flag)
        query = query.where(Inspection.id.in_(flagged))
    if filters.region is not None:
        query = query.where(in_region(Unit.region_code, filters.region))
    if filters.visited_from is not None:
        query = query.where(Inspection.visit_date >= filters.visited_from)
    if filters.visited_to is not None:
        query = query.where(Inspection.visit_date <= filters.visited_to)
    return query.join(Region, Region.code == Unit.region_code)


def _local(moment: datetime | None, timezone: str) -> datetime | None:
    return None if moment is None else moment.astimezone(ZoneInfo(timezone))


INSPECTION_COLUMNS = (
    Column("id", N_("Inspection"), "integer"),
    Column("unit", N_("Unit code")),
    Column("unit_name", N_("Unit")),
    Column("region", N_("Region code")),
    Column("surveyor", N_("Surveyor")),
    Column("started_local", N_("Visit started (unit's local time)"), "datetime"),
    Column("time_zone", N_("Time zone")),
    Column("started_utc", N_("Visit started (UTC)"), "datetime"),
    Column("visit_date", N_("Visit date"), "date"),
    Column("received_utc", N_("Received (UTC)"), "datetime"),
    Column("status", N_("Status")),
    Column("score", N_("Score"), "number"),
    Column("zone", N_("Zone")),
    Column("flags", N_("Integrity flags"), "integer"),
)


def inspections_export(user: User, filters: InspectionFilters) -> Export:
    """One row per inspection ``user`` may see, oldest first: unit, surveyor, visit time in the
    unit's zone and in UTC, status, score, zone and how many integrity flags it carries."""
    flags = (
        select(func.count())
        .where(InspectionFlag.inspection_id == Inspection.id)
        .correlate(Inspection)
        .scalar_subquery()
    )
    query = (
        _inspections(user, filters)
        .join(User, User.id == Inspection.surveyor_id)
        .with_only_columns(
            Inspection.id,
            Unit.code,
            Unit.name,
            Unit.region_code,
            User.name,
            Inspection.started_at,
            Region.timezone,
            Inspection.visit_date,
            Inspection.received_at,
            Inspection.status,
            Inspection.score,
            Inspection.zone,
            flags,
        )
        .order_by(Inspection.id)
    )

    def one(row: Any) -> tuple:
        (ident, code, name, region, surveyor, started, tz, visited, received, *rest) = row
        local = _local(started, tz)
        return (
            ident,
            code,
            name,
            region,
            surveyor,
            local,
            zone_name(local) if local else None,
            _local(started, "UTC"),
            visited,
            _local(received, "UTC"),
            state(rest[0]),
            *rest[1:],
        )

    return Export(
        kind="inspections",
        columns=INSPECTION_COLUMNS,
        titles=[_(c.title) for c in INSPECTION_COLUMNS],
        query=query,
        convert=lambda batch: map(one, batch),
        total=_checked_total(query),
        filename=f"fieldcheck-inspections-{_stamp()}",
        sheet=_("Inspections"),
    )


#: A finding's severity as a reader says it (the code itself is a value of the finding code).
SEVERITY = {"violation": N_("violation"), "warning": N_("warning")}

FINDING_COLUMNS = (
    Column("inspection", N_("Inspection"), "integer"),
    Column("unit", N_("Unit code")),
    Column("unit_name", N_("Unit")),
    Column("region", N_("Region code")),
    Column("visit_date", N_("Visit date"), "date"),
    Column("inspection_status", N_("Inspection status")),
    Column("rule", N_("Finding code")),
    Column("severity", N_("Severity")),
    Column("category", N_("Category")),
    Column("service", N_("Service")),
    Column("component", N_("Component")),
    Column("message", N_("Finding")),
    Column("citation", N_("Citation")),
    Column("sanction", N_("Sanction")),
    Column("withdrawn_utc", N_("Withdrawn after an objection (UTC)"), "datetime"),
)


def findings_export(
    user: User, filters: InspectionFilters, *, withdrawn: bool | None = None
) -> Export:
    """One row per finding of the inspections ``user`` may see (the inspection filters apply),
    its message rendered in the reader's language; ``withdrawn`` True/False keeps only findings
    withdrawn after an upheld objection / only those in force (None: both)."""
    query = _inspections(user, filters).join(FindingRow, FindingRow.inspection_id == Inspection.id)
    if withdrawn is not None:
        column = FindingRow.withdrawn_at
        query = query.where(column.is_not(None) if withdrawn else column.is_(None))
    query = query.with_only_columns(
        Inspection.id,
        Unit.code,
        Unit.name,
        Unit.region_code,
        Inspection.visit_date,
        Inspection.status,
        FindingRow.rule,
        FindingRow.severity,
        FindingRow.category,
        FindingRow.service_code,
        FindingRow.component,
        FindingRow.message,
        FindingRow.params,
        FindingRow.citation,
        FindingRow.sanction,
        FindingRow.withdrawn_at,
    ).order_by(Inspection.id, FindingRow.position)
    # Fixed now: the rows are rendered while streaming, in the language of this request.
    locale = content_language()

    def one(row: Any) -> tuple:
        (*head, status, rule, severity, category, service, component, message, params) = row[:13]
        citation, sanction, withdrawn_at = row[13:]
        return (
            *head,
            state(status),
            rule,
            _(SEVERITY[severity]) if severity in SEVERITY else severity,
            category,
            service,
            component,
            render(message, params, locale),
            citation,
            sanction,
            _local(withdrawn_at, "UTC"),
        )

    return Export(
        kind="findings",
        columns=FINDING_COLUMNS,
        titles=[_(c.title) for c in FINDING_COLUMNS],
        query=query,
        convert=lambda batch: map(one, batch),
        total=_checked_total(query),
        filename=f"fieldcheck-findings-{_stamp()}",
        sheet=_("Findings"),
    )
