"""Re-scoring an inspection after an upheld objection withdrew one of its findings.

The rest of review lives beside this module, one concern each: ``decisions`` (the state machine
and single decisions), ``bulk``, ``comments``, ``objections`` and ``counting`` (which inspections
and findings count). A corrected resubmission is checked at intake
(``fieldcheck.inspections.superseding``).
"""

from __future__ import annotations

from typing import Any

from fieldcheck.audit.services import record
from fieldcheck.auth.models import User
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection


def rescore_inspection(inspection: Inspection, actor: User | None = None) -> None:
    """Re-score ``inspection`` now without its withdrawn findings and store the result; audited.

    The same pure core as intake and zoning (``score_inspection``: facts from the stored answers
    and posted standards, legal checks, withdrawn findings dropped, score). The stored score is
    what the next zoning run reads, so an upheld objection counts from that run on.
    """
    from fieldcheck.catalogue.registry import get_registry
    from fieldcheck.inspections.services import breakdown_json
    from fieldcheck.zoning.runner import score_inspection, withdrawn_findings

    registry = get_registry()
    methodology = registry.methodology(inspection.methodology_id)
    if methodology is None:  # not loaded any more: a later zoning run re-scores from answers
        return
    answers = {a.indicator_code: a.value for a in inspection.answers}
    posted = [
        {
            "service": p.service_code,
            "components": p.components,
            "fee_idr": p.fee_idr,
            "max_days": p.max_days,
            "requirements": p.requirements,
        }
        for p in inspection.posted_standards
    ]
    db.session.flush()
    withdrawn = withdrawn_findings([inspection.id]).get(inspection.id, set())
    result, _ = score_inspection(
        methodology, registry.catalogue, answers, posted, inspection.visit_date, withdrawn
    )
    before = _score_state(inspection)
    inspection.score = result.score
    inspection.zone = result.zone
    inspection.grade = result.grade
    inspection.label = result.label
    inspection.breakdown = breakdown_json(result)
    # The score now names exactly what produced it (zoning compares these hashes).
    inspection.methodology_hash = methodology.content_hash
    inspection.catalogue_hash = registry.catalogue.content_hash
    db.session.flush()
    record(
        "inspection.rescore",
        "inspection",
        inspection.id,
        before=before,
        after={
            **_score_state(inspection),
            "withdrawn_findings": sorted((list(k) for k in withdrawn), key=str),
        },
        actor=actor,
        region=inspection.unit.region_code,
    )


def _score_state(inspection: Inspection) -> dict[str, Any]:
    return {
        "score": inspection.score,
        "zone": inspection.zone,
        "grade": inspection.grade,
        "label": inspection.label,
    }
