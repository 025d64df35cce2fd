"""Every model, imported in one place so metadata and migrations see all tables."""

from fieldcheck.auth.models import ApiToken, User
from fieldcheck.inspections.models import Answer, FindingRow, Inspection, PostedStandardRow
from fieldcheck.regions.models import Region
from fieldcheck.units.models import Agency, Unit, UnitService
from fieldcheck.zoning.models import (
    DirtyUnit,
    Lease,
    OutboxEvent,
    ZoningChange,
    ZoningResult,
    ZoningRun,
)

__all__ = [
    "Agency",
    "Answer",
    "ApiToken",
    "FindingRow",
    "Inspection",
    "PostedStandardRow",
    "Region",
    "Unit",
    "UnitService",
    "User",
    "DirtyUnit",
    "Lease",
    "OutboxEvent",
    "ZoningChange",
    "ZoningResult",
    "ZoningRun",
]
