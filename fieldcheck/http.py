"""Reading requests and writing list responses the same way on every endpoint."""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

from flask import current_app, request
from marshmallow import Schema, ValidationError, fields
from sqlalchemy import Select, func, select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, UnicodeConverter

from fieldcheck.errors import ApiError, field_errors
from fieldcheck.extensions import db
from fieldcheck.i18n import N_, _

#: The largest id: ids are INTEGER columns, 32-bit on PostgreSQL (which refuses a bigger number
#: with a DataError) and 64-bit on SQLite (whose driver raises OverflowError past 2**63 - 1).
#: A bigger number names nothing: 404 in a path, 422 in a body or query.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in a URL: an id, so at most ``MAX_ID``.

    Flask's converter takes any number of digits, which reached the database as a 500 (SQLite)
    or 422 (PostgreSQL). Past the maximum the URL matches no route: a 404 like any other id
    that names nothing.
    """

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)
        # Past the maximum the path must not even match: a number refused only in to_python
        # left werkzeug answering 405 where a GET rule shares the path (POST .../comments).
        self.regex = "0*(?:" + _at_most(self.max) + ")"


def _at_most(limit: int) -> str:
    """A regular expression for the decimal numbers 0..``limit`` (found by schemathesis)."""
    digits = str(limit)
    options = [f"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        if digit != "0":
            options.append(f"{digits[:i]}[0-{int(digit) - 1}][0-9]{{{len(digits) - i - 1}}}")
    options.append(digits)
    return "|".join(options)


class TextConverter(UnicodeConverter):
    """A path segment (``<code>``) without NUL: "%00" in a code names nothing (404), where
    PostgreSQL refused the lookup itself (422) and SQLite found nothing."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]")


#: A NUL (PostgreSQL cannot store it) or a UTF-16 surrogate left unpaired, e.g. by a phone that
#: cut a string inside an emoji ("\ud83d"): valid JSON escapes, but not text UTF-8 can carry.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


#: The JSON parser's own explanations (``JSONDecodeError.msg``), so they are in the catalogue.
JSON_REASONS = (
    N_("Expecting value"),
    N_("Expecting property name enclosed in double quotes"),
    N_("Expecting ',' delimiter"),
    N_("Expecting ':' delimiter"),
    N_("Extra data"),
    N_("Unterminated string starting at"),
    N_("Invalid control character at"),
    N_("Invalid \\escape"),
    N_("Invalid \\uXXXX escape"),
)


def _reject_constant(name: str) -> Any:
    raise ValueError(_("%(name)s is not allowed in JSON", name=name))


def _finite_float(text: str) -> float:
    # 1e309 is valid JSON but no double: Python reads it as inf, which no column stores and no
    # JSON answer can carry (it came back as the bare word Infinity).
    value = float(text)
    if math.isinf(value):
        raise ValueError(_("a number is too large"))
    return value


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(_("duplicate key %(key)s", key=repr(key)))
        result[key] = value
    return result


def _why(exc: ValueError) -> str:
    """Why the parser refused a body, in the request's language (the reasons raised above are
    rendered already; Python's own limit on long integers is explained here)."""
    if "integer string conversion" in str(exc):
        return _("a number has more digits than any field accepts")
    return str(exc)


def _unstorable_paths(value: Any) -> dict[str, list[str]]:
    """Dotted paths of strings (keys or values) holding a NUL or an unpaired surrogate.

    Iterative, so a body nested as deep as json.loads allows cannot exhaust the stack here.
    Paths are shown with U+FFFD in place of a surrogate, so the error itself can be sent.
    """
    found: dict[str, list[str]] = {}

    def report(path: str, text: str) -> None:
        problem = (
            N_("NUL characters are not allowed.")
            if "\x00" in text
            else N_("Unpaired UTF-16 surrogates (\\ud800-\\udfff) are not allowed.")
        )
        found[_SURROGATE.sub("\ufffd", path) or "_schema"] = [problem]

    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                report(path, item)
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                if _UNSTORABLE.search(key):
                    report(child_path, key)
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{path}.{i}" if path else str(i), c) for i, c in enumerate(item))
    return dict(sorted(found.items()))


def json_body() -> Any:
    """The request's JSON body, strictly parsed, or 415/413/400 in the error envelope."""
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError("unsupported_media_type", N_("Send the body as application/json."))
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # A chunked body has no length to check up front: the stream stops at the limit, and
        # what was read would be a truncated body. At the limit, it is too large.
        raise RequestEntityTooLarge()
    try:
        text = raw.decode(request.mimetype_params.get("charset", "utf-8"))
    except (UnicodeDecodeError, LookupError):
        raise ApiError("malformed_json", N_("The body is not valid UTF-8.")) from None
    if not text.strip():
        raise ApiError("malformed_json", N_("The body is empty."))
    try:
        # Duplicate keys and NaN/Infinity are silently accepted by json.loads; a phone that sends
        # them has a bug we want to hear about rather than store half of.
        data = json.loads(
            text,
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
    except json.JSONDecodeError as exc:
        raise ApiError(
            "malformed_json",
            _(
                "The body is not valid JSON: %(reason)s at line %(line)s column %(column)s.",
                reason=_(exc.msg),
                line=exc.lineno,
                column=exc.colno,
            ),
            {"line": exc.lineno, "column": exc.colno},
        ) from None
    except RecursionError:
        raise ApiError("malformed_json", N_("The body is nested too deeply.")) from None
    except ValueError as exc:
        raise ApiError(
            "malformed_json", _("The body is not acceptable JSON: %(reason)s.", reason=_why(exc))
        ) from None
    # "\u0000" and a lone "\ud83d" are valid JSON but neither PostgreSQL nor a UTF-8 response
    # can carry them: refuse them here with the field's path instead of a 500 further on. In
    # valid JSON they can only come from a \u escape (raw control characters are refused by the
    # parser, and UTF-8 cannot encode a surrogate), so a body without one skips the walk.
    bad = _unstorable_paths(data) if "\\u" in text else {}
    if bad:
        raise field_errors(bad)
    return data


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dict as ``{"dotted.path": [messages]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                path = prefix or "_schema"
            for k, v in flatten_errors(value, path).items():
                flat.setdefault(k, []).extend(v)
    elif isinstance(messages, list):
        if all(isinstance(m, str) for m in messages):
            flat[prefix or "_schema"] = list(messages)
        else:
            for item in messages:
                for k, v in flatten_errors(item, prefix).items():
                    flat.setdefault(k, []).extend(v)
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def load(schema: Schema, data: Any) -> Any:
    """Load ``data`` with ``schema``; validation errors become a 422 with dotted field paths."""
    if not isinstance(data, dict) and not schema.many:
        raise field_errors({"_schema": [N_("The body must be a JSON object.")]})
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise field_errors(flatten_errors(exc.messages)) from None


def load_args(schema: Schema) -> Any:
    """Load query-string arguments with ``schema`` (422 on error, unknown arguments refused)."""
    data: dict[str, Any] = {}
    repeated: dict[str, list[str]] = {}
    for key in request.args:
        values = request.args.getlist(key)
        if len(values) > 1 and not isinstance(schema.fields.get(key), fields.List):
            # ?region=35&region=13 is not "a list of regions" anywhere: say so, rather than
            # "Not a valid string." about a value the caller sent as a plain string.
            repeated[key] = [N_("Give this parameter once.")]
        data[key] = values if len(values) > 1 else values[0]
    bad = _unstorable_paths(data) | repeated  # "%00" decodes to a NUL, which PostgreSQL refuses
    if bad:
        raise field_errors(bad)
    return load(schema, data)


def paginate(
    query: Select, page: int, per_page: int, scalars: bool = True
) -> tuple[list[Any], int]:
    """One page of ``query``'s results (scalars, or rows when ``scalars`` is false) and the
    total count."""
    per_page = min(per_page, current_app.config["PER_PAGE_MAX"])
    total = db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page))
    items = rows.unique().scalars().all() if scalars else rows.all()
    return list(items), total


def page_body(items: list[Any], page: int, per_page: int, total: int) -> dict[str, Any]:
    """The list envelope of api.md."""
    return {
        "items": items,
        "page": page,
        "per_page": min(per_page, current_app.config["PER_PAGE_MAX"]),
        "total": total,
    }


def canonical_hash(body: Any) -> str:
    """sha256 of a request body's canonical JSON: key order and whitespace do not make a new
    body (what idempotent intake compares a resend with: inspections, interviews)."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
