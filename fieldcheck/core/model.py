"""Plain data the pure core works on: methodologies, the legal catalogue, facts, findings, scores.

Nothing here imports Flask, SQLAlchemy or the clock. Everything is a frozen dataclass so that the
same objects can be shared between requests and the nightly job without copying.
Numbers that end up in a score are ``Decimal`` (weights, values, scores) so that rounding half-up to
two decimals is exact; see ``fieldcheck.core.scoring``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal

#: Answer words a ``yes_no`` indicator accepts, in the order phones show them.
YES_NO_VALUES = ("yes", "partial", "no", "na")
#: The obligation to set and publish a service standard (UU 25/2009 Pasal 15a, 20(1)): answered
#: "no", the unit shows no standard at all, so every service-delivery component is missing.
STANDARD_OBLIGATION = "standar_pelayanan"
#: The six service-delivery components of UU 25/2009 Pasal 21 that must be published to the
#: public (PermenPANRB 15/2014); a mystery shopper checks these per service.
DELIVERY_COMPONENTS = ("persyaratan", "prosedur", "waktu", "biaya", "produk", "pengaduan")
#: All fourteen Pasal 21 components, huruf a..n, with the codes fieldcheck uses.
ALL_COMPONENTS = (
    "dasar_hukum",
    "persyaratan",
    "prosedur",
    "waktu",
    "biaya",
    "produk",
    "sarana",
    "kompetensi",
    "pengawasan",
    "pengaduan",
    "jumlah_pelaksana",
    "jaminan_pelayanan",
    "jaminan_keamanan",
    "evaluasi",
)

#: Kinds of maladministration a finding is classified under (domain.md §4); ``Finding.category`` and
#: ``Obligation.category`` take one of these words.
MALADMINISTRATION_KINDS = (
    "penundaan berlarut",
    "penyimpangan prosedur",
    "permintaan imbalan",
    "tidak memberikan pelayanan",
    "tidak kompeten",
    "tidak patut",
    "diskriminasi",
    "penyalahgunaan wewenang",
    "konflik kepentingan",
)

#: How sure fieldcheck is of a value in a data file (domain.md marks every fact so):
#: ``verified`` (the regulation's text), ``secondary`` (an official deck, a press release),
#: ``unverified`` (consistent with published numbers, not confirmed), ``fieldcheck_default``
#: (fieldcheck's own documented choice where the Ombudsman published none).
CONFIDENCES = ("verified", "secondary", "unverified", "fieldcheck_default")
#: Levels an interview instrument's records are about.
INSTRUMENT_LEVELS = ("unit", "agency")
#: Where a methodology's result is zoned: per unit (then rolled up as means: 2015-2021) or per
#: agency from its dimensions (2022 onwards: Output and Pengaduan only exist per agency).
ZONING_LEVELS = ("unit", "agency")

Scope = Literal["unit", "service"]
Severity = Literal["violation", "warning"]
AnswerValue = str | int  # "yes" | "partial" | "no" | "na", or an int on an ordinal scale


@dataclass(frozen=True)
class Zone:
    """One zone of the zone catalogue (``catalogue/data/zones.toml``): the code stored in the
    database, the English msgid of its name (Indonesian in the .po), its colour on pages and maps,
    and where the Ombudsman's reports name it. The catalogue lists zones worst first."""

    code: str
    name: str
    colour: str
    #: Text colour readable on ``colour`` (badges).
    text_colour: str
    confidence: Literal["verified", "secondary", "unverified"]
    source: str = ""


@dataclass(frozen=True)
class Band:
    """One score band: ``min <= score <= max`` (both inclusive, two decimals) -> grade, zone."""

    min: Decimal
    max: Decimal
    grade: str
    label: str
    zone: str
    #: One of CONFIDENCES, or None where the file does not say (files before issue 16).
    confidence: str | None = None


@dataclass(frozen=True)
class Dimension:
    """A group of indicators; ``weight`` is used when the methodology aggregates by dimension."""

    code: str
    name: str
    weight: Decimal | None = None
    #: How sure the weight is (one of CONFIDENCES) and where it comes from.
    confidence: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Instrument:
    """An interview kind of the 2022 method (staff, service users, complaint officers) or a
    survey (SKM respondents): who is asked, whether a record is about a unit or an agency, and
    how many records a complete result needs."""

    code: str
    name: str
    #: "unit": each record is about one unit and ``quota`` is per unit; "agency": per agency.
    level: Literal["unit", "agency"]
    #: The fewest records a complete result needs (per unit or per agency); fewer -> incomplete.
    quota: int
    confidence: str = "fieldcheck_default"
    source: str = ""
    description: str = ""


@dataclass(frozen=True)
class Indicator:
    """One checklist item as a phone renders it and the scorer reads it."""

    code: str
    dimension: str
    question: str
    #: ``"yes_no"`` or ``("scale", low, high)`` for an ordinal answer (e.g. 0..3).
    answer: str | tuple[str, int, int]
    weight: Decimal
    scope: Scope = "unit"
    #: For ``scope == "service"``: the Pasal 21 component (one of DELIVERY_COMPONENTS) it reads.
    component: str | None = None
    legal_basis: tuple[str, ...] = ()
    photo_required: bool = False
    #: For unit-scope indicators that observe a legal obligation: the obligation id in the legal
    #: catalogue (e.g. ``"maklumat"``); a "no"/"partial" answer then yields a finding.
    obligation: str | None = None
    help: str | None = None
    #: The interview instrument that asks it, or None for what a surveyor observes at a visit.
    instrument: str | None = None
    #: One of CONFIDENCES, or None where the file does not say (files before issue 16).
    confidence: str | None = None

    @property
    def is_scale(self) -> bool:
        """True when the indicator takes an integer on an ordinal scale."""
        return isinstance(self.answer, tuple)


@dataclass(frozen=True)
class Methodology:
    """A versioned scoring method loaded from a data file; a published one never changes."""

    id: str  # "ombudsman-2019"
    version: int
    title: str
    status: Literal["draft", "published", "retired"]
    effective_from: date
    effective_to: date | None
    #: "flat": score = 100 * sum(w*v) / sum(w) over indicators (domain.md §5, 2019);
    #: "dimensions": each dimension scored that way, then weighted by dimension weight (2022).
    aggregation: Literal["flat", "dimensions"]
    dimensions: tuple[Dimension, ...]
    indicators: tuple[Indicator, ...]
    bands: tuple[Band, ...]
    #: Value of each yes_no answer word; "na" is absent (left out of numerator and denominator).
    answer_values: Mapping[str, Decimal]
    rounding_places: int = 2
    #: Roll-up rules, documented in the file: {"unit": ..., "agency": ..., "region": ...}.
    roll_up: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    #: sha256 of the source file, so a stored score names exactly what produced it.
    content_hash: str = ""
    #: The score's range: an indicator value in 0..1 becomes ``scale_min + (scale_max -
    #: scale_min) * value`` (0..100 for the Ombudsman; 25..100 for SKM; 1..5 for PermenPANRB
    #: 17/2017). Bands cover exactly this range.
    scale_min: Decimal = Decimal(0)
    scale_max: Decimal = Decimal(100)
    #: "unit" or "agency": see ZONING_LEVELS.
    zoning_level: Literal["unit", "agency"] = "unit"
    #: Interview instruments whose records feed some dimensions (empty: observations only).
    instruments: tuple[Instrument, ...] = ()

    @cached_property
    def observed_indicators(self) -> tuple[Indicator, ...]:
        """The indicators a surveyor answers at a visit (not asked in an interview)."""
        return tuple(i for i in self.indicators if i.instrument is None)

    def questions(self, instrument: str) -> tuple[Indicator, ...]:
        """The indicators an interview instrument asks, in file order."""
        return tuple(i for i in self.indicators if i.instrument == instrument)

    def instrument(self, code: str) -> Instrument | None:
        """The instrument with this code, or None."""
        return next((i for i in self.instruments if i.code == code), None)

    @cached_property
    def zones(self) -> tuple[str, ...]:
        """The zone codes its bands name, worst first (lowest band first): the zones its results,
        dashboard counts and legends have, whatever their number."""
        codes: list[str] = []
        for band in sorted(self.bands, key=lambda b: b.min):
            if band.zone not in codes:
                codes.append(band.zone)
        return tuple(codes)

    def in_effect(self, on: date) -> bool:
        """Whether ``on`` falls within effective_from..effective_to (either status)."""
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    def indicator(self, code: str) -> Indicator | None:
        """The indicator with this code, or None."""
        for ind in self.indicators:
            if ind.code == code:
                return ind
        return None


@dataclass(frozen=True)
class LegalValue:
    """A value the law fixes for a service, in force ``valid_from``..``valid_to`` (inclusive)."""

    #: "fee_max" (ceiling in rupiah; 0 means must be free), "requirements_only" (closed list of
    #: requirement codes), "max_days" (completion within N days).
    kind: Literal["fee_max", "requirements_only", "max_days"]
    value: int | tuple[str, ...]
    citation: str
    valid_from: date
    valid_to: date | None
    confidence: Literal["verified", "secondary", "unverified"]
    note: str = ""
    #: The penalty the law sets for breaking this value, shown with the finding (or None).
    sanction: str | None = None

    def in_force(self, on: date) -> bool:
        """True when this value applies on the given visit date."""
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True)
class Requirement:
    """A requirement a service may ask for, with the spellings surveyors type for it."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Service:
    """A product of public service (KTP-el, SIM C...) with the legal values that bind it."""

    code: str
    name: str
    sector: str
    legal_values: tuple[LegalValue, ...] = ()


@dataclass(frozen=True)
class Obligation:
    """A unit-level duty of UU 25/2009 (maklumat, complaint channel...) with its sanction."""

    id: str
    name: str
    citation: str
    category: str
    #: The Pasal 54 sanction on the head of the provider, where domain.md names one.
    sanction: str | None = None


@dataclass(frozen=True)
class Component:
    """A Pasal 21 component with its huruf and citation."""

    code: str
    letter: str
    name: str
    citation: str


def normalise(text: str) -> str:
    """Case-folded text with runs of whitespace collapsed, for matching typed requirements."""
    return re.sub(r"\s+", " ", text).strip().casefold()


@dataclass(frozen=True)
class LegalCatalogue:
    """The legal service catalogue: services, requirement codes, unit obligations, components."""

    version: str
    services: Mapping[str, Service]
    requirements: Mapping[str, Requirement]
    obligations: Mapping[str, Obligation]
    components: Mapping[str, Component]
    content_hash: str = ""

    @cached_property
    def requirement_index(self) -> Mapping[str, str]:
        """Normalised code, name or alias -> requirement code; built once per catalogue (it was
        rebuilt at every evaluation, a fifth of its time: docs/decisions.md)."""
        index: dict[str, str] = {}
        for req in self.requirements.values():
            for spelling in (req.code, req.name, *req.aliases):
                index.setdefault(normalise(spelling), req.code)
        return index


@dataclass(frozen=True)
class PostedStandard:
    """What a unit displayed for one service, as the surveyor recorded it."""

    service: str
    components: frozenset[str]
    fee_idr: int | None = None
    max_days: int | None = None
    requirements: tuple[str, ...] = ()


@dataclass(frozen=True)
class InspectionFacts:
    """Everything the legal check and the scorer need from one visit, already validated."""

    visit_date: date  # local date of the visit at the unit
    answers: Mapping[str, AnswerValue]
    posted_standards: tuple[PostedStandard, ...] = ()
    #: Obligation id -> answer word, derived from answers via Indicator.obligation.
    obligations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """A legal finding with the article it rests on; serialised as the api.md finding object.

    Its text is a code plus parameters (``message`` msgid, ``params``), so each reader gets it
    in their own language."""

    rule: str
    severity: Severity
    category: str
    citation: str
    #: A gettext msgid with named placeholders (English); rendered with ``params`` in the
    #: reader's language when read (fieldcheck.i18n.render), never here.
    message: str
    expected: object
    observed: object
    service: str | None = None
    component: str | None = None
    sanction: str | None = None
    #: The values of ``message``'s placeholders (JSON-able; keys name their kind, e.g. ``*_idr``).
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class IndicatorScore:
    """How one indicator contributed: value in 0..1 (None when not applicable) and why."""

    code: str
    dimension: str
    weight: Decimal
    value: Decimal | None
    answer: AnswerValue | None = None
    #: For service-scope indicators: service code -> value in 0..1.
    per_service: Mapping[str, Decimal] = field(default_factory=dict)
    #: Why the value is what it is, as a msgid (``core.messages.N_``), and its parameters.
    note: str = ""
    note_params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DimensionScore:
    """A dimension's score (0..100, two decimals) and weight, or None when nothing applied."""

    code: str
    weight: Decimal | None
    score: Decimal | None


@dataclass(frozen=True)
class ScoreResult:
    """Score (0..100, rounded half-up) with band, grade and zone, and the breakdown behind it."""

    score: Decimal | None
    grade: str | None
    label: str | None
    zone: str | None
    indicators: tuple[IndicatorScore, ...]
    dimensions: tuple[DimensionScore, ...]
