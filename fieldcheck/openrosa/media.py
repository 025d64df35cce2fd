"""The media files of a form, per user: the units of their region and the services each offers,
and (interview forms about an agency) the agencies located in their region.

``units.csv`` feeds the form's unit question and ``services.csv`` the service question of the
repeat (filtered on the chosen unit), both ``select_one_from_file``. Columns ``name`` (the value
sent back) and ``label`` (what the phone shows), plus ``unit`` for the filter.
"""

from __future__ import annotations

import csv
import hashlib
import io

from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import scope_filter
from fieldcheck.catalogue.registry import get_registry
from fieldcheck.extensions import db
from fieldcheck.openrosa.xform import AGENCIES_FILE, SERVICES_FILE, UNITS_FILE
from fieldcheck.units.models import Agency, Unit, UnitService

MEDIA_FILES = (UNITS_FILE, SERVICES_FILE, AGENCIES_FILE)


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def media_file(name: str, user: User) -> bytes | None:
    """The bytes of media file ``name`` for ``user`` (None for a name the forms do not use)."""
    scope = scope_filter(user, Unit.region_code)
    if name == UNITS_FILE:
        query = select(Unit.code, Unit.name).order_by(Unit.code)
        if scope is not None:
            query = query.where(scope)
        return _csv(
            ["name", "label"],
            [[code, f"{unit_name} ({code})"] for code, unit_name in db.session.execute(query)],
        )
    if name == SERVICES_FILE:
        services = get_registry().catalogue.services
        query = (
            select(UnitService.service_code, Unit.code)
            .join(Unit, Unit.id == UnitService.unit_id)
            .order_by(Unit.code, UnitService.service_code)
        )
        if scope is not None:
            query = query.where(scope)
        return _csv(
            ["name", "label", "unit"],
            [
                [service, services[service].name if service in services else service, unit]
                for service, unit in db.session.execute(query)
            ],
        )
    if name == AGENCIES_FILE:
        # Located in the region (as the interview API's region rule): an agency whose units
        # span provinces has no region and is listed for national users only.
        agency_scope = scope_filter(user, Agency.region_code)
        query = select(Agency.code, Agency.name).order_by(Agency.code)
        if agency_scope is not None:
            query = query.where(agency_scope)
        return _csv(
            ["name", "label"],
            [[code, f"{agency_name} ({code})"] for code, agency_name in db.session.execute(query)],
        )
    return None


def md5(data: bytes) -> str:
    """``md5:<hex>``, the hash form OpenRosa manifests and form lists use."""
    return "md5:" + hashlib.md5(data, usedforsecurity=False).hexdigest()
