"""What counts in zoning, as SQL conditions: approved, not superseded, findings not withdrawn."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists
from sqlalchemy.orm import aliased

from fieldcheck.inspections.models import FindingRow, Inspection


def counted_inspections_condition() -> Any:
    """SQL condition on ``Inspection``: approved and not superseded by a later approved version.

    Use it in zoning as ``select(Inspection).where(counted_inspections_condition())``.
    """
    later = aliased(Inspection)
    superseded = exists().where(later.supersedes_id == Inspection.id, later.status == "approved")
    return and_(Inspection.status == "approved", ~superseded)


def active_findings_condition() -> Any:
    """SQL condition on ``FindingRow``: not withdrawn by an upheld objection."""
    return FindingRow.withdrawn_at.is_(None)
