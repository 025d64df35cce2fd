"""How a route declares its documentation: ``@api_doc(...)`` beside the route, metadata only.

The decorator records what the OpenAPI document needs (query arguments, body, responses, the
errors the route itself raises) on the view function and changes nothing else: requests are still
read by ``fieldcheck.http`` (``json_body``, ``load``, ``load_args``), strictly, as before. The
document (``fieldcheck.openapi.spec``) is built from these records and ``app.url_map``.

This module imports nothing from fieldcheck, so every package's routes may use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The attribute of a view function holding its ``ApiDoc``.
ATTRIBUTE = "__api_doc__"

#: ``app.extensions`` key of the events the server sends (webhooks): event type ->
#: (description, schema of its ``data``). The document lists them under ``x-webhooks``.
WEBHOOK_EVENTS = "fieldcheck.openapi_webhooks"

#: The header of an answer that created something.
LOCATION = {"Location": "The URL of what was created"}


@dataclass(frozen=True)
class PageOf:
    """A list answer in the page envelope (``items``, ``page``, ``per_page``, ``total``) whose
    items are ``schema``, with the fields of ``extra`` (a schema) beside them."""

    schema: Any
    extra: Any = None


@dataclass(frozen=True)
class ItemsOf:
    """A short, unpaged list: ``{"items": [schema...]}``."""

    schema: Any


@dataclass(frozen=True)
class Binary:
    """Bytes of one of ``media_types`` (a photo), not JSON."""

    media_types: tuple[str, ...]


@dataclass(frozen=True)
class Html:
    """An HTML page."""


@dataclass(frozen=True)
class Response:
    """A response with more than a body: a description, an example, headers."""

    body: Any
    description: str | None = None
    example: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiDoc:
    """What ``@api_doc`` recorded about one view."""

    summary: str | None
    args: Any
    body: Any
    body_example: str | None
    multipart: Mapping[str, str] | None
    responses: Mapping[int, Any]
    errors: tuple[str, ...]
    cacheable: bool
    public: bool
    tags: tuple[str, ...]
    path_examples: Mapping[str, Any]


def api_doc(
    *,
    responses: Mapping[int, Any],
    summary: str | None = None,
    args: Any = None,
    body: Any = None,
    body_example: str | None = None,
    multipart: Mapping[str, str] | None = None,
    errors: Iterable[str] = (),
    cacheable: bool = False,
    public: bool = False,
    tags: Iterable[str] = (),
    path_examples: Mapping[str, Any] | None = None,
) -> Callable[[Callable], Callable]:
    """Record a route's documentation on its view function (and change nothing else).

    ``responses`` maps a success status to a schema class, ``PageOf``/``ItemsOf``/``Binary``/
    ``Html``, ``Response`` or None (no body). ``args`` is the query-argument schema the route loads,
    ``body`` its JSON body schema (``body_example``: the name of an example in
    ``docs/examples/``; ``multipart`` names form fields instead of a body), ``errors`` the
    catalogue codes the route raises beyond those every route of its kind can answer (spec.py
    adds 401/403 for a route with roles, 422 for arguments or a body, 400/413/415 for a body,
    404 for a path parameter, 500/503 everywhere). ``cacheable``: answers carry an ETag and
    may be 304. ``public``: no token is needed. ``path_examples`` overrides the example of a
    path parameter (spec.PATH_EXAMPLES). Roles come from ``require_role``.
    """

    record = ApiDoc(
        summary=summary,
        args=args,
        body=body,
        body_example=body_example,
        multipart=multipart,
        responses=dict(responses),
        errors=tuple(errors),
        cacheable=cacheable,
        public=public,
        tags=tuple(tags),
        path_examples=dict(path_examples or {}),
    )

    def decorator(view: Callable) -> Callable:
        setattr(view, ATTRIBUTE, record)
        return view

    return decorator


def doc_of(view: Callable) -> ApiDoc | None:
    """The ``ApiDoc`` recorded on ``view`` (through ``functools.wraps`` layers), or None."""
    seen: set[int] = set()
    current: Any = view
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        record = getattr(current, ATTRIBUTE, None)
        if record is not None:
            return record
        current = getattr(current, "__wrapped__", None)
    return None
