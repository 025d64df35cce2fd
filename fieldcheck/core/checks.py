"""Legal checks: compare what a unit posted and did with the law in force on the visit date.

``check(facts, catalogue)`` is pure: the same facts and catalogue always give the same findings in
the same order (services by code, then unit obligations in catalogue order). Each finding names the
article it rests on, so a supervisor can read it and a unit can answer it.

Rule ids are stable strings (stored with findings and counted in reports; never rename one).
Each line: rule id -- severity, category -- citation -- when.

- ``standard.absent`` -- violation, penyimpangan prosedur -- UU 25/2009 Pasal 15 huruf a dan
  Pasal 20 ayat (1), sanction Pasal 54 ayat (8) -- a posted service with no component at all.
- ``component.missing`` -- violation, penyimpangan prosedur -- UU 25/2009 Pasal 21 huruf b, c, d,
  e, f or j -- one of the six delivery components is not posted.
- ``fee.above_legal`` -- violation, permintaan imbalan -- the fee_max value in force (e.g. UU
  24/2013 Pasal 79A, PP 76/2020 Lampiran I) -- posted fee above it; a fee at the ceiling is lawful.
- ``requirements.extra`` -- violation, penyimpangan prosedur -- the requirements_only value in
  force (e.g. Perpres 96/2018 Pasal 15) -- a recognised requirement outside the closed list.
- ``requirements.unrecognised`` -- warning, penyimpangan prosedur -- same citation -- free text
  matching no requirement code, name or alias; a person must check it.
- ``time.indefinite`` -- violation, penyimpangan prosedur -- UU 25/2009 Pasal 21 huruf d -- "waktu"
  posted without a number of days (no kepastian waktu).
- ``time.above_legal`` -- violation, penundaan berlarut -- the max_days value in force -- posted
  days above it.
- ``obligation.unmet`` -- violation, category/citation/sanction from the Obligation (Pasal 54) --
  the indicator observing the obligation was answered "no".
- ``obligation.partial`` -- warning, same as above -- answered "partial".

Service-level violations carry ``component`` (the Pasal 21 component they concern), which the scorer
uses to set that component's indicator to 0 for that service; warnings never change a score.

A service code the catalogue does not know is the intake's business (422 before ``check`` runs);
here it only means no legal value applies, and the component checks still run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from fieldcheck.core.messages import N_
from fieldcheck.core.model import (
    ALL_COMPONENTS,
    DELIVERY_COMPONENTS,
    STANDARD_OBLIGATION,
    Finding,
    InspectionFacts,
    LegalCatalogue,
    LegalValue,
    Obligation,
    PostedStandard,
    Service,
    normalise,
)

PROCEDURE = "penyimpangan prosedur"


#: Used when a catalogue lacks the ``standar_pelayanan`` obligation (e.g. one built in a test); the
#: shipped catalogue defines it and then its citation and sanction are used instead.
_STANDARD_CITATION = "UU 25/2009 Pasal 15 huruf a dan Pasal 20 ayat (1)"
_STANDARD_SANCTION = (
    "UU 25/2009 Pasal 54 ayat (8): pembebasan dengan hormat tidak atas permintaan sendiri"
)
_TIME_CITATION = "UU 25/2009 Pasal 21 huruf d"


def check(facts: InspectionFacts, catalogue: LegalCatalogue) -> list[Finding]:
    """All legal findings for one visit, deterministic order: services by code, then obligations."""
    findings: list[Finding] = []
    # No service observed shows any component: the unit has no standard at all (Pasal 15a/20(1),
    # sanctioned by Pasal 54(8)); one bare service beside posted ones is not that.
    none_posted = not any(p.components for p in facts.posted_standards)
    # Sorted so that the order a surveyor entered services in never changes the result.
    for posted in sorted(facts.posted_standards, key=lambda p: p.service):
        findings.extend(_check_service(posted, facts, catalogue, none_posted))
    findings.extend(_check_obligations(facts.obligations, catalogue))
    return findings


def value_in_force(service: Service | None, kind: str, on: date) -> LegalValue | None:
    """The ``kind`` legal value of ``service`` in force on date ``on``, or None."""
    if service is None:
        return None
    candidates = [v for v in service.legal_values if v.kind == kind and v.in_force(on)]
    # The loader forbids overlapping validity; if a hand-built catalogue has it, the newest wins.
    return max(candidates, key=lambda v: v.valid_from, default=None)


def match_requirement(text: str, catalogue: LegalCatalogue) -> str | None:
    """The requirement code ``text`` names (by code, name or alias), or None when unrecognised."""
    return catalogue.requirement_index.get(normalise(text))


def component_citation(component: str, catalogue: LegalCatalogue) -> str:
    """``UU 25/2009 Pasal 21 huruf <letter>`` for a component (the catalogue's when it has one)."""
    known = catalogue.components.get(component)
    if known is not None:
        return known.citation
    letter = "abcdefghijklmn"[ALL_COMPONENTS.index(component)]
    return f"UU 25/2009 Pasal 21 huruf {letter}"


# --- per service -------------------------------------------------------------------------------


def _check_service(
    posted: PostedStandard, facts: InspectionFacts, catalogue: LegalCatalogue, none_posted: bool
) -> list[Finding]:
    service = catalogue.services.get(posted.service)
    name = service.name if service is not None else posted.service
    if not posted.components:
        return [_standard_absent(posted, name, catalogue, none_posted)]
    out = [
        Finding(
            rule="component.missing",
            severity="violation",
            category=PROCEDURE,
            citation=component_citation(comp, catalogue),
            message=N_(
                'The service standard component "%(component)s" for the service %(service)s '
                "is not published."
            ),
            params={"component": _component_name(comp, catalogue), "service": name},
            expected="dipublikasikan",
            observed="tidak ada",
            service=posted.service,
            component=comp,
        )
        for comp in DELIVERY_COMPONENTS
        if comp not in posted.components
    ]
    out.extend(_check_fee(posted, name, service, facts))
    out.extend(_check_requirements(posted, name, service, facts, catalogue))
    out.extend(_check_time(posted, name, service, facts))
    return out


def _standard_absent(
    posted: PostedStandard, name: str, catalogue: LegalCatalogue, none_posted: bool
) -> Finding:
    """A service showing none of the six components. The Pasal 54(8) sanction is for a unit
    with no standard at all: it is named only when no observed service shows any component."""
    obligation = catalogue.obligations.get(STANDARD_OBLIGATION)
    sanction = (obligation.sanction if obligation else _STANDARD_SANCTION) if none_posted else None
    return Finding(
        rule="standard.absent",
        severity="violation",
        category=PROCEDURE,
        citation=obligation.citation if obligation else _STANDARD_CITATION,
        message=N_(
            "No service standard is published for the service %(service)s: none of the "
            "components requirements, procedure, time, fee, product and complaints is displayed."
        ),
        params={"service": name},
        expected=DELIVERY_COMPONENTS,
        observed=(),
        service=posted.service,
        component=None,
        sanction=sanction,
    )


def _check_fee(
    posted: PostedStandard, name: str, service: Service | None, facts: InspectionFacts
) -> list[Finding]:
    legal = value_in_force(service, "fee_max", facts.visit_date)
    if legal is None or posted.fee_idr is None:
        return []
    ceiling = int(legal.value)  # type: ignore[arg-type]  # fee_max values are ints (loader)
    if posted.fee_idr <= ceiling:  # a fee exactly at the ceiling is lawful (tariffs are maxima)
        return []
    if ceiling == 0:
        message = N_(
            "The fee displayed for the service %(service)s is %(fee_idr)s, although the service "
            "is free of charge under %(citation)s."
        )
    else:
        message = N_(
            "The fee displayed for the service %(service)s, %(fee_idr)s, exceeds the highest "
            "tariff of %(ceiling_idr)s under %(citation)s."
        )
    params = {
        "service": name,
        "fee_idr": posted.fee_idr,
        "ceiling_idr": ceiling,
        "citation": legal.citation,
    }
    return [
        Finding(
            rule="fee.above_legal",
            severity="violation",
            category="permintaan imbalan",
            citation=legal.citation,
            message=message,
            params=params,
            expected=ceiling,
            observed=posted.fee_idr,
            service=posted.service,
            component="biaya",
            sanction=legal.sanction,
        )
    ]


def _check_requirements(
    posted: PostedStandard,
    name: str,
    service: Service | None,
    facts: InspectionFacts,
    catalogue: LegalCatalogue,
) -> list[Finding]:
    legal = value_in_force(service, "requirements_only", facts.visit_date)
    if legal is None or not posted.requirements:
        return []
    allowed = tuple(legal.value)  # type: ignore[arg-type]  # requirements_only values are tuples
    allowed_names = [_requirement_name(c, catalogue) for c in allowed]
    index = catalogue.requirement_index
    out: list[Finding] = []
    seen: set[str] = set()
    for text in posted.requirements:
        key = normalise(text)
        code = index.get(key)
        # One finding per distinct requirement, however many times it was typed.
        if (code or key) in seen or code in allowed:
            continue
        seen.add(code or key)
        params = {
            "text": text,
            "service": name,
            "citation": legal.citation,
            "allowed": allowed_names,
        }
        if code is not None:
            out.append(
                Finding(
                    rule="requirements.extra",
                    severity="violation",
                    category=PROCEDURE,
                    citation=legal.citation,
                    message=N_(
                        'The requirement "%(text)s" for the service %(service)s is not among the '
                        "requirements set by %(citation)s (%(allowed)s); it is an extra "
                        "requirement."
                    ),
                    params=params,
                    expected=allowed,
                    observed=code,
                    service=posted.service,
                    component="persyaratan",
                )
            )
        else:
            out.append(
                Finding(
                    rule="requirements.unrecognised",
                    severity="warning",
                    category=PROCEDURE,
                    citation=legal.citation,
                    message=N_(
                        'The requirement "%(text)s" for the service %(service)s is not '
                        "recognised; check whether it is among the requirements set by "
                        "%(citation)s (%(allowed)s)."
                    ),
                    params=params,
                    expected=allowed,
                    observed=text,
                    service=posted.service,
                    component="persyaratan",
                )
            )
    return out


def _check_time(
    posted: PostedStandard, name: str, service: Service | None, facts: InspectionFacts
) -> list[Finding]:
    if "waktu" in posted.components and posted.max_days is None:
        return [
            Finding(
                rule="time.indefinite",
                severity="violation",
                category=PROCEDURE,
                citation=_TIME_CITATION,
                message=N_(
                    "The completion time of the service %(service)s is published without a "
                    "definite number of days, so there is no certainty of time."
                ),
                params={"service": name},
                expected="jumlah hari yang pasti",
                observed=None,
                service=posted.service,
                component="waktu",
            )
        ]
    legal = value_in_force(service, "max_days", facts.visit_date)
    if legal is None or posted.max_days is None:
        return []
    limit = int(legal.value)  # type: ignore[arg-type]  # max_days values are ints (loader)
    if posted.max_days <= limit:
        return []
    return [
        Finding(
            rule="time.above_legal",
            severity="violation",
            category="penundaan berlarut",
            citation=legal.citation,
            message=N_(
                "The completion time displayed for the service %(service)s, %(days)s days, "
                "exceeds the limit of %(limit_days)s days under %(citation)s."
            ),
            params={
                "service": name,
                "days": posted.max_days,
                "limit_days": limit,
                "citation": legal.citation,
            },
            expected=limit,
            observed=posted.max_days,
            service=posted.service,
            component="waktu",
        )
    ]


# --- unit obligations --------------------------------------------------------------------------


def _check_obligations(answers: Mapping[str, str], catalogue: LegalCatalogue) -> list[Finding]:
    out: list[Finding] = []
    # Catalogue order, not answer order, so findings read the same on every inspection.
    for ob_id, obligation in catalogue.obligations.items():
        word = answers.get(ob_id)
        if word == "no":
            out.append(
                _obligation_finding(
                    obligation,
                    word,
                    "obligation.unmet",
                    "violation",
                    N_('The obligation "%(obligation)s" is not met.'),
                )
            )
        elif word == "partial":
            out.append(
                _obligation_finding(
                    obligation,
                    word,
                    "obligation.partial",
                    "warning",
                    N_('The obligation "%(obligation)s" is only partly met; it needs checking.'),
                )
            )
        # "yes" and "na" are lawful or not applicable; an obligation id the catalogue does not know
        # cannot be cited, and the methodology loader rejects such references anyway.
    return out


def _obligation_finding(
    obligation: Obligation, word: str, rule: str, severity: str, message: str
) -> Finding:
    return Finding(
        rule=rule,
        severity=severity,  # type: ignore[arg-type]
        category=obligation.category,
        citation=obligation.citation,
        message=message,
        params={"obligation": obligation.name},
        expected="yes",
        observed=word,
        sanction=obligation.sanction,
    )


# --- helpers -----------------------------------------------------------------------------------


def _requirement_name(code: str, catalogue: LegalCatalogue) -> str:
    req = catalogue.requirements.get(code)
    return req.name if req is not None else code


def _component_name(code: str, catalogue: LegalCatalogue) -> str:
    comp = catalogue.components.get(code)
    return comp.name if comp is not None else code
