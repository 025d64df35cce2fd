"""The one adapter between stored inspections and the pure core's ``evaluate``.

A stored inspection keeps its answers as text rows, its posted standards as rows and its findings
with a withdrawal mark (an upheld objection). This module turns those rows into the core's inputs
(the only place a ``PostedStandard`` is built from a stored row), calls
``fieldcheck.core.evaluate`` and turns a result back into the columns an inspection stores.

Callers: intake stores what ``evaluate`` gave (``stored_score``); re-scoring after an objection,
the zoning run's re-scoring and the unit-result endpoint call ``evaluate_stored``, on the request
session or on the zoning run's own snapshot connection.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from fieldcheck.core import Evaluation, FindingKey, evaluate
from fieldcheck.core.model import (
    AnswerValue,
    LegalCatalogue,
    Methodology,
    PostedStandard,
    ScoreResult,
)
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Answer, FindingRow, Inspection, PostedStandardRow

#: Ids per IN list: far below SQLite's bound-parameter limit, few round trips on PostgreSQL.
CHUNK = 1000


def parse_answer(methodology: Methodology, code: str, value: str) -> AnswerValue:
    """A stored answer (text) as the core expects it: an int on a scale indicator, else the word."""
    indicator = methodology.indicator(code)
    if indicator is not None and indicator.is_scale and value != "na":
        try:
            return int(value)
        except ValueError:
            return value
    return value


def posted_standard(row: Any) -> PostedStandard:
    """A stored posted-standard row (ORM object or a result row with the same column names) as
    the core's ``PostedStandard``."""
    return PostedStandard(
        service=row.service_code,
        components=frozenset(row.components or ()),
        fee_idr=row.fee_idr,
        max_days=row.max_days,
        requirements=tuple(row.requirements or ()),
    )


def withdrawn_findings(ids: Sequence[int], conn: Any = None) -> dict[int, set[FindingKey]]:
    """The ``finding_key`` of each inspection's findings withdrawn by an upheld objection (read
    on ``conn``, or on the session)."""
    executor = conn if conn is not None else db.session
    out: dict[int, set[FindingKey]] = defaultdict(set)
    for chunk in _chunks(ids):
        for inspection_id, rule, service, component in executor.execute(
            select(
                FindingRow.inspection_id,
                FindingRow.rule,
                FindingRow.service_code,
                FindingRow.component,
            ).where(FindingRow.inspection_id.in_(chunk), FindingRow.withdrawn_at.is_not(None))
        ):
            out[inspection_id].add((rule, service, component))
    return out


def evaluate_stored(
    ids: Sequence[int],
    methodology: Methodology,
    catalogue: LegalCatalogue,
    conn: Any = None,
) -> dict[int, Evaluation]:
    """Each stored inspection re-evaluated from its answers and posted standards, its withdrawn
    findings left out; read on ``conn`` (the zoning run's snapshot) or on the session.

    Inspections that do not exist are absent from the result.
    """
    executor = conn if conn is not None else db.session
    visit_dates: dict[int, Any] = {}
    answers: dict[int, dict[str, AnswerValue]] = defaultdict(dict)
    posted: dict[int, list[PostedStandard]] = defaultdict(list)
    for chunk in _chunks(ids):
        visit_dates.update(
            executor.execute(
                select(Inspection.id, Inspection.visit_date).where(Inspection.id.in_(chunk))
            ).all()
        )
        for inspection_id, code, value in executor.execute(
            select(Answer.inspection_id, Answer.indicator_code, Answer.value).where(
                Answer.inspection_id.in_(chunk)
            )
        ):
            answers[inspection_id][code] = parse_answer(methodology, code, value)
        for row in executor.execute(
            select(
                PostedStandardRow.inspection_id,
                PostedStandardRow.service_code,
                PostedStandardRow.components,
                PostedStandardRow.fee_idr,
                PostedStandardRow.max_days,
                PostedStandardRow.requirements,
            )
            .where(PostedStandardRow.inspection_id.in_(chunk))
            .order_by(PostedStandardRow.inspection_id, PostedStandardRow.position)
        ):
            posted[row.inspection_id].append(posted_standard(row))
    withdrawn = withdrawn_findings(ids, conn)
    return {
        i: evaluate(
            answers[i],
            posted[i],
            methodology,
            catalogue,
            visit_dates[i],
            withdrawn.get(i, frozenset()),
        )
        for i in ids
        if i in visit_dates
    }


def breakdown_json(result: ScoreResult) -> dict[str, Any]:
    """The score breakdown as JSON-ready data (numbers as numbers, rounded for people)."""

    def num(value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    return {
        "indicators": [
            {
                "code": i.code,
                "dimension": i.dimension,
                "weight": num(i.weight),
                "answer": i.answer,
                "value": num(i.value),
                "per_service": {k: num(v) for k, v in i.per_service.items()},
                # A msgid and its parameters, rendered in the reader's language when read.
                "note": i.note,
                "note_params": dict(i.note_params),
            }
            for i in result.indicators
        ],
        "dimensions": [
            {"code": d.code, "weight": num(d.weight), "score": num(d.score)}
            for d in result.dimensions
        ],
    }


def stored_score(
    result: ScoreResult, methodology: Methodology, catalogue: LegalCatalogue
) -> dict[str, Any]:
    """The ``Inspection`` columns that hold a score, and the hashes naming what produced it
    (zoning keeps a score whose hashes match its run's and re-scores any other)."""
    return {
        "score": result.score,
        "zone": result.zone,
        "grade": result.grade,
        "label": result.label,
        "breakdown": breakdown_json(result),
        "methodology_hash": methodology.content_hash,
        "catalogue_hash": catalogue.content_hash,
    }


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]
