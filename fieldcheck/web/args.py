"""Reading a page's query string the same way on every page."""

from __future__ import annotations

from flask import request

#: Past this a page number names no page of any list here; it is read as the first page.
MAX_PAGE = 100_000


def page_number(name: str = "page") -> int:
    """The page asked for in the query string; anything unusable is page 1 (a link, not a form:
    a mistyped page number shows the first page rather than an error)."""
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and 0 < int(value) < MAX_PAGE else 1
