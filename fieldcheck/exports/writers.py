"""Rows to bytes, a chunk at a time: CSV (RFC 4180, UTF-8 with a BOM) and XLSX (XlsxWriter).

CSV is written for programs and for any spreadsheet: ``,`` between fields, ``.`` as the decimal
point, ISO 8601 dates and times (local with its offset, UTC with ``Z``), UTF-8 with a byte order
mark. The BOM is what makes Excel read UTF-8 (unit names, Indonesian headers) instead of the
ANSI code page; pandas (``utf-8-sig``), R and LibreOffice skip it. ``;`` was not chosen: an
Indonesian Excel would then split the fields but read ``81.25`` as 8125 (``.`` groups
thousands there), a silent error; with ``,`` it shows one column, a visible one, and the page
offers XLSX for Excel (numbers as numbers, dates as dates, no locale guessing).

XLSX is written with ``constant_memory`` (each row goes to a temporary file as soon as it is
complete; strings are inline, no shared-string table) into a temporary file that is then sent
in chunks and deleted, so memory stays flat in the row count (bench/bench_web.py measures it).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import xlsxwriter

from fieldcheck.exports.services import Column

BOM = "\ufeff"
#: CSV rows per chunk handed to the server.
CSV_ROWS_PER_CHUNK = 500
#: Bytes per chunk of a finished XLSX file.
FILE_CHUNK = 64 * 1024
#: A cell starting with one of these is a formula to a spreadsheet: a unit name or a note must
#: never run as one (CSV injection), so such text is prefixed with an apostrophe in CSV.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Column widths in characters by kind of value (text: from its header, at least 12).
WIDTHS = {"integer": 10, "number": 10, "date": 12, "datetime": 18}


def _csv_value(column: Column, value: Any) -> Any:
    if value is None:
        return ""
    if column.type == "datetime":
        text = value.isoformat(timespec="seconds")
        return text.removesuffix("+00:00") + "Z" if value.utcoffset().total_seconds() == 0 else text
    if column.type == "date":
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(
    columns: tuple[Column, ...], titles: list[str], rows: Iterable[tuple]
) -> Iterator[bytes]:
    """The CSV file as UTF-8 chunks: the BOM and the header row, then ``CSV_ROWS_PER_CHUNK``
    rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(titles)
    for count, row in enumerate(rows, 1):
        writer.writerow([_csv_value(c, v) for c, v in zip(columns, row, strict=True)])
        if count % CSV_ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _naive(value: datetime) -> datetime:
    # Excel has no time zones: the wall-clock time in the value's own zone (the column says
    # which: the unit's local time, or UTC).
    return value.replace(tzinfo=None)


def write_xlsx(
    path: str, sheet: str, columns: tuple[Column, ...], titles: list[str], rows: Iterable[tuple]
) -> int:
    """Write the rows to an XLSX file at ``path`` with flat memory; returns the row count."""
    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "tmpdir": os.path.dirname(path),
            # Text stays text: never a number, formula or link guessed from a string.
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    try:
        worksheet = workbook.add_worksheet(sheet[:31])
        bold = workbook.add_format({"bold": True})
        formats = {
            "number": workbook.add_format({"num_format": "0.00"}),
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        }
        for index, (column, title) in enumerate(zip(columns, titles, strict=True)):
            worksheet.set_column(index, index, WIDTHS.get(column.type, max(12, len(title) + 2)))
        worksheet.freeze_panes(1, 0)
        for index, title in enumerate(titles):
            worksheet.write_string(0, index, title, bold)
        count = 0
        for count, row in enumerate(rows, 1):
            for index, (column, value) in enumerate(zip(columns, row, strict=True)):
                if value is None or value == "":
                    continue
                if column.type in ("integer", "number"):
                    worksheet.write_number(count, index, float(value), formats.get(column.type))
                elif column.type == "datetime":
                    worksheet.write_datetime(count, index, _naive(value), formats["datetime"])
                elif column.type == "date":
                    worksheet.write_datetime(count, index, value, formats["date"])
                else:
                    worksheet.write_string(count, index, str(value))
        worksheet.autofilter(0, 0, max(count, 1), len(columns) - 1)
    finally:
        workbook.close()
    return count


def xlsx_chunks(
    sheet: str, columns: tuple[Column, ...], titles: list[str], rows: Iterable[tuple]
) -> Iterator[bytes]:
    """The XLSX file in ``FILE_CHUNK`` chunks: written to a temporary file first (a zip needs
    its directory at the end), then read back and deleted, also when the client goes away."""
    folder = tempfile.mkdtemp(prefix="fieldcheck-export-")
    path = os.path.join(folder, "export.xlsx")
    try:
        write_xlsx(path, sheet, columns, titles, rows)
        with open(path, "rb") as handle:
            while chunk := handle.read(FILE_CHUNK):
                yield chunk
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        with contextlib.suppress(OSError):
            os.rmdir(folder)
