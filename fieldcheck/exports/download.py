"""The streamed download both shells return: the API's bearer routes and the pages."""

from __future__ import annotations

from flask import Response, stream_with_context

from fieldcheck.exports.services import Export
from fieldcheck.exports.writers import csv_chunks, xlsx_chunks

MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def download(export: Export, fmt: str) -> Response:
    """``export`` as a CSV or XLSX attachment, generated while it is sent.

    The rows are read inside the response's generator (``stream_with_context`` keeps the
    request's context, its language and user, alive until the last chunk), after the request
    boundary has committed; ``X-Export-Rows`` says how many rows follow.
    """
    if fmt == "csv":
        chunks = csv_chunks(export.columns, export.titles, export.rows())
        mimetype = MEDIA_TYPES["csv"]
    else:
        chunks = xlsx_chunks(export.sheet, export.columns, export.titles, export.rows())
        mimetype = MEDIA_TYPES["xlsx"]
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}.{fmt}"'
    response.headers["X-Export-Rows"] = str(export.total)
    return response
