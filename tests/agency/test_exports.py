"""Exports of a run scored by dimensions (issue 16): the results carry one score column per
dimension with its weight in the header; the incomplete agencies export lists code, name,
dimension scores and what is missing in the reader's language, never an interview record."""

from __future__ import annotations

import csv
import io

import openpyxl

from tests.agency.test_agency_run import AGENCY, SHORT
from tests.agency.test_pages import world  # noqa: F401


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_results_export_has_a_column_per_dimension(field, world):  # noqa: F811
    rows = _rows(field.get(f"/api/v1/exports/results?run={world}&level=agency", language="id"))
    head, (row,) = rows[0], rows[1:]
    got = dict(zip(head, row, strict=True))
    assert got["Kode"] == AGENCY
    # The hand-computed agency of tests/agency/test_pages.py, weights in the headers.
    assert got["Input (bobot 21.85)"] == "87.50"
    assert got["Proses (bobot 32.37)"] == "66.67"
    assert got["Output (bobot 24.24)"] == "88.89"
    assert got["Pengaduan (bobot 21.54)"] == "66.67"


def test_results_export_of_another_level_has_no_dimension_columns(field, world):  # noqa: F811
    head = _rows(field.get(f"/api/v1/exports/results?run={world}&level=province"))[0]
    assert not any("weight" in title for title in head)


def test_incomplete_export_lists_the_short_agency_with_why(field, world):  # noqa: F811
    rows = _rows(field.get(f"/api/v1/exports/incomplete?run={world}", language="id"))
    head, (row,) = rows[0], rows[1:]
    got = dict(zip(head, row, strict=True))
    assert got["Kode"] == SHORT
    assert got["Yang kurang"] == "29 dari 30 catatan wawancara pengguna layanan yang diperlukan."
    assert got["Output (bobot 24.24)"]  # the dimension scores it does have
    english = _rows(field.get(f"/api/v1/exports/incomplete?run={world}"))
    assert english[1][english[0].index("What is missing")].startswith("29 of the 30 ")
    # XLSX too; and nothing of an interview record: respondents' roles, answers.
    book = openpyxl.load_workbook(
        io.BytesIO(field.get(f"/api/v1/exports/incomplete?run={world}&format=xlsx").get_data()),
        read_only=True,
    )
    text = "\n".join(
        str(c) for s in book.worksheets for r in s.iter_rows(values_only=True) for c in r
    )
    assert SHORT in text
    for marker in ("OUT-MAL", "IN-STAF", "respondent", '"role"'):
        assert marker not in text


def test_incomplete_export_is_scoped_and_checked(field, world):  # noqa: F811
    rows = _rows(field.get(f"/api/v1/exports/incomplete?run={world}&region=35"))
    assert len(rows) == 1  # Makassar's agency is not in Jawa Timur
    bad = field.get("/api/v1/exports/incomplete?run=abc")
    assert bad.status_code == 422
    assert bad.get_json()["error"]["code"] == "validation_failed"
    assert field.get("/api/v1/exports/incomplete?run=999999").status_code == 404
