"""Every model, imported in one place so metadata and migrations see all tables."""

from fieldcheck.audit.models import AuditEntry, AuditSeal
from fieldcheck.auth.models import ApiToken, User
from fieldcheck.catalogue.models import MethodologyVersion, ZoneCode
from fieldcheck.evidence.models import (
    EvidenceWaiver,
    InspectionFlag,
    InspectionPhoto,
    Photo,
    PhotoUpload,
)
from fieldcheck.inspections.models import Answer, FindingRow, Inspection, PostedStandardRow
from fieldcheck.interviews.models import Interview
from fieldcheck.outbox.models import OutboxEvent
from fieldcheck.regions.models import Region
from fieldcheck.review.models import Comment, Objection, Review
from fieldcheck.units.dirty import DirtyUnit
from fieldcheck.units.models import Agency, Unit, UnitService
from fieldcheck.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from fieldcheck.zoning.models import (
    Lease,
    ZoningChange,
    ZoningResult,
    ZoningRun,
)
from fieldcheck.zoning.overrides import UnitOverride

__all__ = [
    "Agency",
    "Answer",
    "ApiToken",
    "AuditEntry",
    "AuditSeal",
    "Comment",
    "EvidenceWaiver",
    "FindingRow",
    "Inspection",
    "InspectionFlag",
    "InspectionPhoto",
    "Interview",
    "Objection",
    "Photo",
    "PhotoUpload",
    "PostedStandardRow",
    "Region",
    "Review",
    "Unit",
    "UnitOverride",
    "UnitService",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "DirtyUnit",
    "Lease",
    "MethodologyVersion",
    "OutboxEvent",
    "ZoneCode",
    "ZoningChange",
    "ZoningResult",
    "ZoningRun",
]
