"""A supervisor scoped to 13 (Sumatera Barat) never sees anything of 35 (Jawa Timur): a walk of
every page, export and report, driven by url_map so a new page cannot slip past it."""

from __future__ import annotations

import csv
import io
import re

from flask import Flask
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from fieldcheck.auth.models import User
from fieldcheck.evidence.models import InspectionPhoto
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.review.models import Objection
from fieldcheck.units.models import Agency, Unit
from fieldcheck.zoning.lifecycle import run_queued
from fieldcheck.zoning.models import ZoningRun
from fieldcheck.zoning.services import create_run
from tests.web.pages import Pages, text_of

#: Pages with no object in the path, and the query strings worth trying on them.
LISTS = {
    "/": ["", "?region=13", "?level=unit", "?level=agency"],
    "/account": [""],
    "/review": ["", "?region=13"],
    "/runs": [""],
    "/exports": [""],
    "/admin/users": [""],
    "/admin/audit": [""],
    "/admin/users/new": [""],
}
#: Downloads without an object in the path: every export, both formats.
DOWNLOADS = [
    f"/exports/{kind}.{fmt}"
    for kind in ("results", "findings", "inspections")
    for fmt in ("csv", "xlsx")
]


def _objects_of_35(app: Flask) -> dict[str, list[str]]:
    """Identifiers of 35's objects, by the kind of path parameter that names them."""
    with app.app_context():
        units = db.session.execute(select(Unit).where(Unit.region_code.like("35%"))).scalars().all()
        agencies = (
            db.session.execute(select(Agency).where(Agency.region_code.like("35%"))).scalars().all()
        )
        inspections = (
            db.session.execute(select(Inspection.id).join(Unit).where(Unit.region_code.like("35%")))
            .scalars()
            .all()
        )
        photos = (
            db.session.execute(
                select(InspectionPhoto.sha256)
                .join(Inspection, Inspection.id == InspectionPhoto.inspection_id)
                .join(Unit)
                .where(Unit.region_code.like("35%"))
            )
            .scalars()
            .all()
        )
        runs = (
            db.session.execute(select(ZoningRun.id).where(ZoningRun.scope.like("35%")))
            .scalars()
            .all()
        )
        users = (
            db.session.execute(select(User.id).where(User.region_code.like("35%"))).scalars().all()
        )
        objections = (
            db.session.execute(
                select(Objection.id)
                .join(Inspection, Inspection.id == Objection.inspection_id)
                .join(Unit)
                .where(Unit.region_code.like("35%"))
            )
            .scalars()
            .all()
        )
        words = sorted(
            {u.code for u in units}
            | {u.name for u in units}
            | {a.name for a in agencies}
            | {a.code for a in agencies}
        )
    assert units and agencies and inspections and photos and runs and users
    return {
        "units": [u.code for u in units],
        "agencies": [a.code for a in agencies],
        "regions": ["35", "35.15", "35.78"],
        "inspections": [str(i) for i in inspections],
        "photos": photos,
        "runs": [str(r) for r in runs],
        "users": [str(u) for u in users],
        "objections": [str(o) for o in objections],
        "tokens": [],
        "words": words,
    }


#: The first path segment names the kind of object a parameter is.
KIND = {
    "units": "units",
    "agencies": "agencies",
    "regions": "regions",
    "inspections": "inspections",
    "photos": "photos",
    "runs": "runs",
    "admin": "users",
    "objections": "objections",
}


def _fill(rule: str, value: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?[a-z_0-9]+>", value, rule, count=1)


def _queue_a_run_of_35(app: Flask) -> None:
    with app.app_context():
        jatim = db.session.execute(
            select(User).where(User.username == "supervisor-jatim")
        ).scalar_one()
        create_run(region="35", trigger="api", user=jatim)
        db.session.commit()
        assert [o.state for o in run_queued()] == ["succeeded"]


def _assert_blind(body: str, words: list[str], where: str) -> None:
    seen = [w for w in words if w in body]
    assert not seen, f"{where} shows 35's {seen[:5]}"


def test_a_supervisor_of_13_never_sees_35(demo):
    _queue_a_run_of_35(demo)
    of35 = _objects_of_35(demo)
    sumbar = Pages(demo.test_client())
    sumbar.login("supervisor-sumbar")
    words = of35["words"]

    # Every page with an object in its path: 35's objects are not found (404), or the role may
    # not go there at all (403, the admin pages); never a 200 showing them.
    walked = set()
    for rule in demo.url_map.iter_rules():
        if not rule.endpoint.startswith("web.") or "<" not in rule.rule:
            continue
        # Assets (the zone colours' stylesheet is named by its content) hold no region's data.
        if rule.endpoint in ("web.static", "web.zones_css", "web.export_download"):
            continue
        # Methodology versions are national reference data on admin-only pages (issue 16;
        # tests/web/test_methodologies.py): no region's objects in their paths.
        if rule.rule.startswith("/methodologies/"):
            continue
        kind = KIND[rule.rule.split("/")[1]]
        for value in of35[kind][:3]:
            url = _fill(rule.rule, value)
            if "GET" in rule.methods:
                response = sumbar.get(url)
            else:
                response = sumbar.post(
                    url,
                    {"reason": "tidak boleh", "decision": "approve", "zone": "hijau", "body": "x"},
                )
            assert response.status_code in (403, 404), (url, response.status_code)
            # The page may repeat what was asked for ("no such unit X"), nothing else.
            _assert_blind(text_of(response), [w for w in words if w != value], url)
        walked.add(rule.endpoint)
    assert {"web.unit", "web.inspection", "web.photo", "web.agency_report"} <= walked

    # Every list page (and its filters) shows nothing of 35.
    for path, queries in LISTS.items():
        for query in queries:
            response = sumbar.get(path + query)
            assert response.status_code in (200, 403), (path + query, response.status_code)
            _assert_blind(text_of(response), words, path + query)
    # Asking for 35 by filter is refused or empty, never 35's rows.
    for url in ("/?region=35", "/review?region=35", "/?region=35.15"):
        response = sumbar.get(url)
        assert response.status_code in (403, 404, 422), url
        _assert_blind(text_of(response), words, url)

    # Every export, both formats: rows of 13 only.
    for url in DOWNLOADS:
        response = sumbar.get(url)
        assert response.status_code == 200, url
        data = response.get_data()
        if url.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        else:
            sheet = load_workbook(io.BytesIO(data), read_only=True).active
            rows = [
                [str(c) for c in row if c is not None] for row in sheet.iter_rows(values_only=True)
            ]
        assert len(rows) >= 1, url
        _assert_blind("\n".join("\t".join(r) for r in rows), words, url)

    # The reports of 13's own units and agencies are fine, and carry nothing of 35.
    with demo.app_context():
        unit13 = (
            db.session.execute(select(Unit).where(Unit.region_code.like("13%"))).scalars().first()
        )
        agency13 = db.session.get(Agency, unit13.agency_id)
        codes = (unit13.code, agency13.code)
    for url in (f"/units/{codes[0]}/report.pdf", f"/agencies/{codes[1]}/report.pdf"):
        response = sumbar.get(url)
        assert response.status_code == 200, url
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.get_data())).pages)
        _assert_blind(text, words, url)


def test_the_walk_would_see_a_leak(demo):
    """The same checks, pointed at a national admin, do see 35: the walk is not blind itself."""
    _queue_a_run_of_35(demo)
    of35 = _objects_of_35(demo)
    admin = Pages(demo.test_client())
    admin.login("admin")
    unit = of35["units"][0]
    assert admin.get(f"/units/{unit}").status_code == 200
    body = text_of(admin.get("/review"))
    assert any(w in body for w in of35["words"])
    export = admin.get("/exports/inspections.csv").get_data().decode("utf-8-sig")
    assert any(w in export for w in of35["words"])
