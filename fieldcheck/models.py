"""Every model, imported in one place so metadata and migrations see all tables."""

from fieldcheck.auth.models import ApiToken, User
from fieldcheck.evidence.models import (
    EvidenceWaiver,
    InspectionFlag,
    InspectionPhoto,
    Photo,
    PhotoUpload,
)
from fieldcheck.inspections.models import Answer, FindingRow, Inspection, PostedStandardRow
from fieldcheck.regions.models import Region
from fieldcheck.units.models import Agency, Unit, UnitService

__all__ = [
    "Agency",
    "Answer",
    "ApiToken",
    "EvidenceWaiver",
    "FindingRow",
    "Inspection",
    "InspectionFlag",
    "InspectionPhoto",
    "Photo",
    "PhotoUpload",
    "PostedStandardRow",
    "Region",
    "Unit",
    "UnitService",
    "User",
]
