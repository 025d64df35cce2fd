"""Reading requests and writing list responses the same way on every endpoint."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request
from marshmallow import Schema, ValidationError
from sqlalchemy import Select, func, select

from fieldcheck.errors import ApiError, field_errors
from fieldcheck.extensions import db


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _nul_paths(value: Any) -> list[str]:
    """Dotted paths of strings (keys or values) that contain a NUL character.

    Iterative, so a body nested as deep as json.loads allows cannot exhaust the stack here.
    """
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                found.append(path or "_schema")
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    found.append(child_path)
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{path}.{i}" if path else str(i), c) for i, c in enumerate(item))
    return sorted(found)


def json_body() -> Any:
    """The request's JSON body, strictly parsed, or 415/413/400 in the error envelope."""
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError("unsupported_media_type", "Send the body as application/json.")
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        text = raw.decode(request.mimetype_params.get("charset", "utf-8"))
    except (UnicodeDecodeError, LookupError):
        raise ApiError("malformed_json", "The body is not valid UTF-8.") from None
    if not text.strip():
        raise ApiError("malformed_json", "The body is empty.")
    try:
        # Duplicate keys and NaN/Infinity are silently accepted by json.loads; a phone that sends
        # them has a bug we want to hear about rather than store half of.
        data = json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        raise ApiError(
            "malformed_json",
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.",
            {"line": exc.lineno, "column": exc.colno},
        ) from None
    except (ValueError, RecursionError) as exc:
        raise ApiError("malformed_json", f"The body is not acceptable JSON: {exc}.") from None
    # "\u0000" is valid JSON but PostgreSQL cannot store it in text or JSONB: refuse it here
    # with the field's path instead of failing at the database.
    bad = _nul_paths(data)
    if bad:
        raise field_errors(dict.fromkeys(bad, ["NUL characters are not allowed."]))
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
        raise field_errors({"_schema": ["The body must be a JSON object."]})
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise field_errors(flatten_errors(exc.messages)) from None


def load_args(schema: Schema) -> Any:
    """Load query-string arguments with ``schema`` (422 on error, unknown arguments refused)."""
    data: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        data[key] = values if len(values) > 1 else values[0]
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
