"""Interview records are never exported (UU 27/2022): after interviews, every export and the
audit log hold no respondent attribute, answer or note."""

from __future__ import annotations

import io

import openpyxl

from tests.interviews.conftest import record

#: What only an interview record holds: a note, the respondent's attributes and role words.
MARKERS = ("Catatan-rahasia-XYZ", "pengguna_langsung", "petugas_layanan", "age_band", "55_up")


def _texts(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    if response.mimetype.endswith("sheet"):
        book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
        return "\n".join(
            str(cell)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
        )
    return response.get_data(as_text=True)


def test_no_export_holds_interview_data(world, app):
    from fieldcheck.extensions import db
    from fieldcheck.zoning.lifecycle import execute
    from fieldcheck.zoning.services import create_run

    stored = world.stored(
        record(
            note="Catatan-rahasia-XYZ",
            respondent={"role": "pengguna_langsung", "age_band": "55_up"},
        )
    )
    assert stored["id"]
    with app.app_context():
        run = create_run(period=2026, full=True)
        db.session.commit()
        run_id = run.id
    assert execute_in(app, execute, run_id) == "succeeded"
    urls = [
        "/api/v1/exports/inspections?format=csv",
        "/api/v1/exports/inspections?format=xlsx",
        "/api/v1/exports/findings?format=csv",
        "/api/v1/exports/findings?format=xlsx",
        f"/api/v1/exports/results?run={run_id}&format=csv",
        f"/api/v1/exports/results?run={run_id}&level=agency&format=xlsx",
        f"/api/v1/exports/incomplete?run={run_id}&format=csv",
        "/api/v1/audit?per_page=200",
    ]
    for url in urls:
        text = _texts(world.get(url, "admin"))
        for marker in MARKERS:
            assert marker not in text, (url, marker)
    # The inspections export does hold the world's inspections: the check reads real files.
    assert "35.15-DUKCAPIL" in _texts(world.get(urls[0], "admin"))


def execute_in(app, execute, run_id: int) -> str:
    """Run the zoning run in an app context; its final state."""
    with app.app_context():
        return execute(run_id).state
