"""Shared builders for the core tests: the shipped data files and small fact/standard factories."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fieldcheck.catalogue import default_paths, load_legal_catalogue, load_methodologies
from fieldcheck.core.model import (
    DELIVERY_COMPONENTS,
    Band,
    Dimension,
    Indicator,
    InspectionFacts,
    Methodology,
    PostedStandard,
)

CATALOGUE = load_legal_catalogue(default_paths().legal_catalogue)
METHODOLOGY = load_methodologies(default_paths().methodologies, CATALOGUE)["ombudsman-2019"]
ALL = frozenset(DELIVERY_COMPONENTS)
VISIT_2026 = date(2026, 11, 20)
UNIT_INDICATORS = tuple(i.code for i in METHODOLOGY.indicators if i.scope == "unit")


def posted(
    service: str,
    components: frozenset[str] | set[str] = ALL,
    fee: int | None = 0,
    days: int | None = 1,
    reqs: tuple[str, ...] = (),
) -> PostedStandard:
    """A posted standard; by default everything posted, free, one day, no requirements."""
    return PostedStandard(
        service=service,
        components=frozenset(components),
        fee_idr=fee,
        max_days=days,
        requirements=reqs,
    )


def facts(
    *standards: PostedStandard,
    on: date = VISIT_2026,
    answers: dict | None = None,
    obligations: dict | None = None,
) -> InspectionFacts:
    """Facts for one visit from posted standards and optional answers/obligations."""
    return InspectionFacts(
        visit_date=on,
        answers=answers or {},
        posted_standards=standards,
        obligations=obligations or {},
    )


def all_yes() -> dict[str, str]:
    """Every unit-scope indicator of ombudsman-2019 answered "yes"."""
    return dict.fromkeys(UNIT_INDICATORS, "yes")


def synthetic_methodology(
    indicators: tuple[Indicator, ...],
    dimensions: tuple[Dimension, ...] = (Dimension("d", "D"),),
    aggregation: str = "flat",
) -> Methodology:
    """A methodology built in the test, with the 2019 bands and answer values."""
    return Methodology(
        id="test",
        version=1,
        title="test",
        status="draft",
        effective_from=date(2020, 1, 1),
        effective_to=None,
        aggregation=aggregation,
        dimensions=dimensions,
        indicators=indicators,
        bands=METHODOLOGY.bands,
        answer_values={"yes": Decimal(1), "partial": Decimal("0.5"), "no": Decimal(0)},
    )


def band(lo: str, hi: str, zone: str) -> Band:
    """A band with the zone word as grade and label."""
    return Band(Decimal(lo), Decimal(hi), zone, zone, zone)
