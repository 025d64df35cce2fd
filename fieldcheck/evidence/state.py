"""What the evidence rules read about one inspection: expected and received photos,
photo-required answers and their waivers; and the summary the API shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from fieldcheck.catalogue.registry import get_registry
from fieldcheck.core import integrity
from fieldcheck.evidence.models import EvidenceWaiver, InspectionPhoto
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection


@dataclass
class EvidenceState:
    """Expected and received photos, photo_required items and waivers of one inspection."""

    links: list[InspectionPhoto]
    items: list[integrity.EvidenceItem]

    @property
    def received(self) -> set[str]:
        """SHA-256 of photos received."""
        return {link.sha256 for link in self.links if link.received_at is not None}


def evidence_state(inspection: Inspection) -> EvidenceState:
    """Load what the evidence rules need about ``inspection``."""
    links = list(
        db.session.execute(
            select(InspectionPhoto)
            .where(InspectionPhoto.inspection_id == inspection.id)
            .order_by(InspectionPhoto.sha256)
        ).scalars()
    )
    waivers = {
        w.indicator_code: w
        for w in db.session.execute(
            select(EvidenceWaiver).where(EvidenceWaiver.inspection_id == inspection.id)
        ).scalars()
    }
    methodology = get_registry().methodology(inspection.methodology_id)
    required = (
        {i.code for i in methodology.indicators if i.photo_required} if methodology else set()
    )
    items = [
        integrity.EvidenceItem(
            indicator=answer.indicator_code,
            answer=answer.value,
            photos=tuple(answer.photos or ()),
            waiver_reason=waivers[answer.indicator_code].reason
            if answer.indicator_code in waivers
            else None,
            waived_by=waivers[answer.indicator_code].waived_by
            if answer.indicator_code in waivers
            else None,
        )
        for answer in inspection.answers
        if answer.indicator_code in required
    ]
    return EvidenceState(links, items)


def photo_summary(inspection: Inspection) -> dict[str, Any]:
    """``{"expected", "received", "missing", "waived"}`` for the inspection's JSON."""
    state = evidence_state(inspection)
    expected = sorted(link.sha256 for link in state.links if link.is_expected)
    received = sorted(state.received)
    return {
        "expected": expected,
        "received": received,
        "missing": [sha for sha in expected if sha not in state.received],
        "waived": [
            {"indicator": item.indicator, "reason": item.waiver_reason, "by": item.waived_by}
            for item in state.items
            if item.waiver_reason is not None
        ],
    }
