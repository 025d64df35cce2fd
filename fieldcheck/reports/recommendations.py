"""What a unit should do about each failed item: one msgid per indicator and per finding rule.

The report and the unit page recommend, for every indicator whose mean value is below full marks
and every standing finding a service-level rule raised, the text below (in the reader's
language). Unit obligations (``obligation.unmet``) are covered by their indicator's text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fieldcheck.i18n import N_, Template

#: By methodology indicator code (ombudsman-2019).
BY_INDICATOR: Mapping[str, Template] = {
    "SP-01": N_(
        "Draw up, adopt and publish the service standard of every service where users can see it."
    ),
    "SV-PERSYARATAN": N_("Publish the requirements of each service."),
    "SV-PROSEDUR": N_("Publish the system, mechanism and procedure of each service."),
    "SV-WAKTU": N_("Publish the completion time (in days) of each service."),
    "SV-BIAYA": N_("Publish the fee of each service, stating plainly when it is free."),
    "SV-PRODUK": N_("Publish the product of each service."),
    "SV-PENGADUAN": N_(
        "Publish how complaints, suggestions and input about each service are handled."
    ),
    "MP-01": N_("Adopt the service pledge (maklumat pelayanan) and publish it clearly and widely."),
    "SI-01": N_(
        "Provide a public service information system with the provider's profile, the service "
        "standards, the service pledge, complaint handling and performance assessment."
    ),
    "PG-01": N_(
        "Provide complaint channels (a complaint box, telephone, SMS or WhatsApp, a website, "
        "e-mail or a complaint desk)."
    ),
    "PG-02": N_("Announce the name and contact of the officer responsible for complaints."),
    "SR-01": N_(
        "Provide facilities and special services for vulnerable groups (a priority counter, "
        "wheelchairs, ramps, an accessible toilet, a lactation room)."
    ),
    "SR-02": N_("Give vulnerable groups their special services without any additional fee."),
    "VM-01": N_("Display the unit's vision, mission and service motto."),
    "AT-01": N_("Make sure service staff wear their attributes and identification."),
    "PT-01": N_("Provide integrated (one-stop) service for the unit's services."),
    "SK-01": N_("Publish the results of the community satisfaction survey (SKM)."),
}

#: By finding rule (fieldcheck.core.checks), for what the indicators do not already say.
BY_RULE: Mapping[str, Template] = {
    "fee.above_legal": N_(
        "Charge no more than the fee the law sets for the service, and stop any charge above it."
    ),
    "requirements.extra": N_("Ask only for the requirements the law lists for the service."),
    "requirements.unrecognised": N_(
        "Check the posted requirements against the regulation and correct those it does not list."
    ),
    "time.above_legal": N_("Complete the service within the time the law sets."),
    "time.indefinite": N_("State a definite completion time for the service."),
}

#: An indicator without its own text (a methodology added later).
FALLBACK = N_("Remedy the shortcoming found for indicator %(code)s.")


def recommendations(
    indicators: Iterable[Mapping[str, Any]], findings: Iterable[Mapping[str, Any]]
) -> list[str]:
    """The recommendation texts (in the reader's language) for failed indicators (mean value
    below 1) and for standing findings of the rules above, each once, in checklist order."""
    out: list[str] = []
    for item in indicators:
        value = item.get("value")
        if value is None or value >= 1:
            continue
        text = BY_INDICATOR.get(item["code"])
        out.append(text.format() if text else FALLBACK.format(code=item["code"]))
    for finding in findings:
        text = BY_RULE.get(finding.get("rule", ""))
        if text is not None:
            out.append(text.format())
    return list(dict.fromkeys(out))
