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
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core import finding_key
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.inspections.scoring import evaluate_stored, stored_score


def rescore_inspection(inspection: Inspection, actor: User | None = None) -> None:
    """Re-score ``inspection`` now without its withdrawn findings and store the result; audited.

    The same core call as intake and zoning (``fieldcheck.core.evaluate``, on the stored answers
    and posted standards through ``inspections.scoring.evaluate_stored``). The stored score is
    what the next zoning run reads, so an upheld objection counts from that run on.
    """
    registry = get_registry()
    methodology = registry.methodology(inspection.methodology_id, inspection.methodology_version)
    if methodology is None:  # not loaded any more: a later zoning run re-scores from answers
        return
    db.session.flush()  # the withdrawal just made is read back with the stored rows
    evaluation = evaluate_stored([inspection.id], methodology, registry.catalogue)[inspection.id]
    before = _score_state(inspection)
    for name, value in stored_score(evaluation.result, methodology, registry.catalogue).items():
        setattr(inspection, name, value)
    db.session.flush()
    record(
        "inspection.rescore",
        "inspection",
        inspection.id,
        before=before,
        after={
            **_score_state(inspection),
            "withdrawn_findings": sorted(
                (list(k) for k in {finding_key(f) for f in evaluation.withdrawn}), key=str
            ),
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
