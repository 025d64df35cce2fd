"""GET /api/v1/exports/*: streamed CSV/XLSX, same scope and filters as the lists they mirror."""

from __future__ import annotations

import csv
import io
import sqlite3

import openpyxl
import pytest
from sqlalchemy import func, select

from fieldcheck.auth.models import User
from fieldcheck.auth.services import create_user
from fieldcheck.demo.seed import seed_demo
from fieldcheck.exports.services import InspectionFilters, inspections_export
from fieldcheck.extensions import db
from fieldcheck.inspections.models import Inspection
from fieldcheck.publication.services import set_override
from fieldcheck.units.models import Unit
from fieldcheck.zoning.lifecycle import execute
from fieldcheck.zoning.services import create_run, current_period


@pytest.fixture
def seeded(app, tmp_path):
    """The demo world, a succeeded national run, and bearer tokens for 13, 35 and national."""
    with app.app_context():
        seed_demo(tokens_file=tmp_path / "tokens.txt")
        run = create_run(period=current_period(), full=True)
        tokens = {}
        for name, role, region in (
            ("sumbar", "supervisor", "13"),
            ("jatim", "supervisor", "35"),
            ("admin", "admin", None),
            ("surveyor", "surveyor", "35"),
        ):
            _user, tokens[name] = create_user(name, role, region)
        db.session.commit()
        run_id = run.id
        assert execute(run_id).state == "succeeded"
    return run_id, tokens


def _get(client, url, token, language="id"):
    return client.get(
        url, headers={"Authorization": f"Bearer {token}", "Accept-Language": language}
    )


def _rows(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_results_csv_and_xlsx_in_scope_and_language(client, seeded, app):
    run_id, tokens = seeded
    response = _get(client, f"/api/v1/exports/results?run={run_id}", tokens["sumbar"], "en")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and response.headers["X-Export-Rows"] == "4"
    header, *rows = _rows(response)
    assert header[:3] == ["Rank", "Level", "Code"]
    assert rows and all(row[2].startswith("13.") for row in rows)
    assert all(row[13] == str(run_id) for row in rows)
    # The national admin: every unit; ranks in order; a score written with a decimal point.
    header, *rows = _rows(_get(client, "/api/v1/exports/results", tokens["admin"]))
    assert header[0] == "Peringkat" and len(rows) == 18
    ranks = [int(row[0]) for row in rows]
    assert ranks == sorted(ranks) and "." in rows[0][6]
    # XLSX: regencies of 35, numbers as numbers.
    response = _get(client, "/api/v1/exports/results?format=xlsx&level=regency", tokens["jatim"])
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[0] == "Peringkat" and rows
    assert all(row[2].startswith("35.") and row[1] == "regency" for row in rows)
    assert all(isinstance(row[6], float | int) and isinstance(row[0], int) for row in rows)
    # A supervisor's override shows beside the computed zone and makes the final zone.
    with app.app_context():
        unit = db.session.execute(select(Unit).where(Unit.code == "13.71-KANIM")).scalar_one()
        admin = db.session.execute(select(User).where(User.name == "admin")).scalar_one()
        set_override(unit, current_period(), "merah", "Pungutan liar terbukti", admin)
        db.session.commit()
    rows = _rows(_get(client, f"/api/v1/exports/results?run={run_id}", tokens["sumbar"]))[1:]
    moved = {row[2]: (row[7], row[11], row[12]) for row in rows}
    assert moved["13.71-KANIM"] == ("kuning", "merah", "merah")
    assert moved["13.71-DUKCAPIL"] == ("hijau", "", "hijau")
    # A zone filter keeps only that zone; a region outside the caller's is empty.
    rows = _rows(_get(client, "/api/v1/exports/results?zone=merah", tokens["admin"]))[1:]
    assert rows and {row[7] for row in rows} == {"merah"}
    assert len(_rows(_get(client, "/api/v1/exports/results?region=35", tokens["sumbar"]))) == 1
    # A period nobody zoned is an empty export (the header only), in both formats.
    response = _get(client, "/api/v1/exports/results?period=2065", tokens["admin"])
    assert response.status_code == 200 and response.headers["X-Export-Rows"] == "0"
    assert len(_rows(response)) == 1
    response = _get(client, "/api/v1/exports/results?period=2065&format=xlsx", tokens["jatim"])
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    assert response.status_code == 200 and len(list(sheet.iter_rows(values_only=True))) == 1


def test_inspections_and_findings(client, seeded):
    _run_id, tokens = seeded
    response = _get(client, "/api/v1/exports/inspections?format=xlsx", tokens["sumbar"])
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:2] == ("Inspeksi", "Kode unit")
    assert rows and all(row[3].startswith("13") for row in rows)
    first = rows[0]
    # Local time (WIB for Padang) and UTC: seven hours apart, both real dates.
    assert first[6] == "WIB" and (first[5] - first[7]).total_seconds() == 7 * 3600
    assert first[8].year == 2026 and isinstance(first[12 - 1], float | int)
    all_rows = _rows(_get(client, "/api/v1/exports/inspections", tokens["admin"]))[1:]
    dates = sorted(row[8] for row in all_rows)
    middle = dates[len(dates) // 2]
    later = _rows(
        _get(client, f"/api/v1/exports/inspections?visited_from={middle}", tokens["admin"])
    )[1:]
    assert later and len(later) < len(all_rows) and all(row[8] >= middle for row in later)
    assert all(
        row[1] == "35.15-DUKCAPIL"
        for row in _rows(
            _get(client, "/api/v1/exports/inspections?unit=35.15-DUKCAPIL", tokens["admin"])
        )[1:]
    )
    # Findings: the message rendered in the requested language, with its citation.
    header, *rows = _rows(_get(client, "/api/v1/exports/findings", tokens["jatim"], "en"))
    assert header[11] == "Finding" and rows
    assert all(row[3].startswith("35") and row[12] for row in rows)
    english = {row[11] for row in rows}
    in_indonesian = _rows(_get(client, "/api/v1/exports/findings", tokens["jatim"]))[1:]
    assert english != {row[11] for row in in_indonesian}
    assert {row[7] for row in rows} <= {"violation", "warning"}
    assert {row[7] for row in in_indonesian} <= {"pelanggaran", "peringatan"}
    assert [row[6] for row in rows] == [row[6] for row in in_indonesian]  # codes stay codes
    withdrawn = _rows(_get(client, "/api/v1/exports/findings?withdrawn=true", tokens["jatim"]))
    assert len(withdrawn) == 1  # none withdrawn in the demo


def test_errors_are_the_envelope_before_any_byte(client, seeded, app):
    run_id, tokens = seeded
    for url in (
        "/api/v1/exports/results?format=pdf",
        "/api/v1/exports/results?level=planet",
        "/api/v1/exports/inspections?visited_from=yesterday",
        "/api/v1/exports/inspections?page=2",
        "/api/v1/exports/findings?visited_from=2026-12-01&visited_to=2026-01-01",
    ):
        response = _get(client, url, tokens["admin"], "en")
        assert response.status_code == 422, url
        assert response.get_json()["error"]["code"] == "validation_failed"
    assert _get(client, "/api/v1/exports/results", tokens["surveyor"]).status_code == 403
    assert client.get("/api/v1/exports/results").status_code == 401
    # A 35 run does not exist for 13 (404), as GET /results.
    with app.app_context():
        run = create_run(period=current_period(), full=True, region="35")
        db.session.commit()
        regional = run.id
        assert execute(regional).state == "succeeded"
    response = _get(client, f"/api/v1/exports/results?run={regional}", tokens["sumbar"])
    assert response.status_code == 404
    # Every inspection of the demo (approved ones and those still waiting for review).
    with app.app_context():
        every = db.session.execute(select(func.count()).select_from(Inspection)).scalar_one()
    assert every > 10
    app.config["EXPORT_MAX_ROWS"] = 10
    response = _get(client, "/api/v1/exports/inspections", tokens["admin"], "en")
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"rows": every, "max_rows": 10}


def test_rows_are_read_lazily_through_the_cursor(app, seeded):
    """The export's rows come from a generator over a yield_per cursor: nothing is read
    before iteration, and a partial read holds only what it asked for."""
    with app.test_request_context():
        from flask import g

        g.user = db.session.query(User).filter_by(name="admin").one()
        export = inspections_export(g.user, InspectionFilters(region="35"))
        db.session.commit()  # the request boundary commits before the file streams
        rows = export.rows()
        assert hasattr(rows, "__next__")  # a generator, not a list
        first = next(rows)
        assert first[3].startswith("35")
        if db.engine.dialect.name == "sqlite":
            # Mid-export, a writer (a phone's submission) still gets the write lock at once:
            # the export reads on a deferred BEGIN, not the BEGIN IMMEDIATE of a request.
            writer = sqlite3.connect(db.engine.url.database, timeout=0.2, isolation_level=None)
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("ROLLBACK")
            writer.close()
        rows.close()  # closes the cursor and ends the read transaction
        assert export.total == sum(1 for _ in export.rows())
