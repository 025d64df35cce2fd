"""The OpenAPI 3 document, built from ``app.url_map`` and what each route recorded (``@api_doc``).

Walks every rule of the app: its path (converters become typed path parameters), its methods, the
roles ``require_role`` recorded, and the route's ``ApiDoc`` (query-argument schema, body schema,
responses, errors). Bodies and responses are the marshmallow schemas the routes use, converted
by apispec's MarshmallowPlugin. Errors are the one envelope of ``fieldcheck.errors`` with the
catalogue's codes. A rule without an ``ApiDoc`` is refused: the document covers every route.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow import resolver as default_resolver
from flask import Flask
from werkzeug.routing import IntegerConverter, Rule

from fieldcheck.errors import CATALOGUE
from fieldcheck.openapi.doc import (
    WEBHOOK_EVENTS,
    ApiDoc,
    Binary,
    Html,
    ItemsOf,
    PageOf,
    Response,
    doc_of,
)

#: The example bodies the documentation shows (the same files the tests post).
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
OPENAPI_VERSION = "3.0.3"
API_VERSION = "1"
#: Methods Flask adds to every rule by itself; documented only where a route names them.
_IMPLICIT_METHODS = {"HEAD", "OPTIONS"}
#: Errors any route can answer: the database is busy, or something failed on our side.
_EVERYWHERE = ("internal_error", "unavailable")
#: Examples of path parameters, by name: objects of the demo data (``flask seed-demo``).
PATH_EXAMPLES: dict[str, Any] = {
    "code": "35.15-DUKCAPIL",
    "methodology_id": "ombudsman-2019",
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "inspection_id": 1,
    "finding_id": 1,
    "objection_id": 1,
    "run_id": 1,
    "user_id": 1,
    "token_id": 1,
}
#: ``<converter(arguments):name>`` in a rule.
_PATH_ARGUMENT = re.compile(r"<(?:[^>:]+:)?(?P<name>[^>]+)>")

_DESCRIPTION = """\
The HTTP API of fieldcheck, the Ombudsman RI service for unannounced inspections of public-service
units (unit layanan). Phones post checklists and photos; supervisors review, run zoning and
publish results.

Every request except `GET /healthz` and this document needs `Authorization: Bearer <token>`;
each operation lists the roles allowed (`x-roles`). A user scoped to a region sees and acts only
inside it. Every error has one shape, `{"error": {"code", "message", "details"}}`, with a stable
`code` from the catalogue below; field errors are in `details.fields`, keyed by dotted path.
Messages follow `Accept-Language` (Indonesian or English). Lists are pages:
`{"items", "page", "per_page", "total"}`. Times are ISO-8601 with an offset (shown in WIB),
money is whole rupiah, zones are codes of the zone catalogue (each enum below lists them; a
methodology uses the zones its bands name: `merah`, `kuning`, `hijau` today, `hitam` in the 2025
method).
"""

#: Blueprints left out of the API document: pages for people (web), and the OpenRosa protocol
#: for ODK Collect (openrosa), whose XML documents and errors the OpenRosa specifications define
#: (docs/api.md, "OpenRosa (ODK Collect)").
PAGE_BLUEPRINTS = frozenset({"web", "openrosa"})


class DocumentError(Exception):
    """The document cannot be built: a route has no ``@api_doc``, or names an unknown error."""


def build_spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of ``app`` as a dict (every rule but ``static``)."""
    plugin = MarshmallowPlugin(schema_name_resolver=_resolver)
    spec = APISpec(
        title="fieldcheck API",
        version=API_VERSION,
        openapi_version=OPENAPI_VERSION,
        plugins=[plugin],
        info={"description": _DESCRIPTION + _catalogue_table()},
        servers=[{"url": "/"}],
    )
    plugin.converter.add_attribute_function(_declared_shape)
    spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": _BEARER}
    )
    spec.components.schema("Error", _error_schema())
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        if rule.endpoint.partition(".")[0] in PAGE_BLUEPRINTS:
            continue  # HTML for people (fieldcheck.web), not part of the HTTP contract
        view = app.view_functions[rule.endpoint]
        record = doc_of(view)
        if record is None:
            raise DocumentError(f"{rule.rule} ({rule.endpoint}) has no @api_doc")
        roles = tuple(getattr(view, "required_roles", ()) or ())
        path, parameters = _path(rule, record)
        operations = {}
        for method in sorted((rule.methods or set()) - _IMPLICIT_METHODS):
            operations[method.lower()] = _operation(rule, record, roles, parameters, view)
        spec.path(path=path, operations=operations)
    events = _webhook_events(spec, app.extensions.get(WEBHOOK_EVENTS, {}))
    document = spec.to_dict()
    if events:
        document["x-webhooks"] = events
    _open_response_schemas(document)
    return document


_WEBHOOK_HEADERS = {
    "X-Fieldcheck-Event-Id": "The event's id: the same on every retry and redelivery",
    "X-Fieldcheck-Event-Type": "The event type (also `type` in the body)",
    "X-Fieldcheck-Delivery-Id": "The delivery (this event to this endpoint)",
    "X-Fieldcheck-Attempt": "1 for the first attempt, counted again after a redelivery",
    "X-Fieldcheck-Timestamp": "Unix seconds when this attempt was signed",
    "X-Fieldcheck-Signature": "`t=<timestamp>,v1=<hex HMAC-SHA256 of '<timestamp>.' + body>`",
}


def _webhook_events(spec: APISpec, events: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    """The requests the server sends to webhook endpoints, one per event type, in the shape of
    OpenAPI 3.1's ``webhooks`` (3.0 has none: an ``x-`` extension; the schemas are components,
    so validators and generators still see them). docs/api.md, "Webhooks", has the rest."""
    out: dict[str, Any] = {}
    for event_type, (description, schema) in events.items():
        name = default_resolver(schema)
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=schema)
        envelope = {
            "type": "object",
            "required": ["id", "type", "created_at", "data"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "type": {"type": "string", "enum": [event_type]},
                "created_at": {"type": "string", "format": "date-time"},
                "data": {"$ref": f"#/components/schemas/{name}"},
            },
        }
        out[event_type] = {
            "post": {
                "summary": description,
                "operationId": "webhook_" + event_type.replace(".", "_"),
                "tags": ["webhooks"],
                "parameters": [
                    {
                        "name": header,
                        "in": "header",
                        "required": True,
                        "description": text,
                        "schema": {"type": "string"},
                    }
                    for header, text in _WEBHOOK_HEADERS.items()
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": envelope}},
                },
                "responses": {
                    "2XX": {"description": "Received: the delivery is done"},
                    "default": {"description": "Anything else: retried with backoff"},
                },
            }
        }
    return out


_BEARER = (
    "A token issued by `flask --app app users create` or `POST /api/v1/users`; shown once, "
    "stored only as a hash"
)


def _catalogue_table() -> str:
    rows = "\n".join(
        f"| `{code}` | {status} | {text} |" for code, (status, text) in CATALOGUE.items()
    )
    return "\n## Error codes\n\n| code | status | meaning |\n|---|---|---|\n" + rows + "\n"


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The one error envelope of every error answer (fieldcheck.errors)",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "properties": {
                    "code": {"type": "string", "enum": sorted(CATALOGUE)},
                    "message": {"type": "string", "description": "In the reader's language"},
                    "details": {
                        "type": "object",
                        "description": (
                            "Machine-readable context. For validation_failed: `fields`, a map "
                            "of dotted field paths to lists of messages"
                        ),
                        "properties": {
                            "fields": {
                                "type": "object",
                                "additionalProperties": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                },
                            }
                        },
                    },
                },
            }
        },
    }


#: Component name -> the marshmallow class it was made from (to tell load from dump schemas).
_SCHEMA_CLASSES: dict[str, type] = {}


def _resolver(schema: Any) -> str:
    """Component names: the class name without "Schema", as apispec does by default."""
    name = default_resolver(schema)
    _SCHEMA_CLASSES[name] = schema if isinstance(schema, type) else type(schema)
    return name


def _declared_shape(_converter: Any, field: Any, **kwargs: Any) -> dict[str, Any]:
    """A custom field class says how it looks on the wire (``openapi_schema`` class attribute):
    a value that is one of several types cannot be guessed from its marshmallow base class."""
    return copy.deepcopy(getattr(type(field), "openapi_schema", None) or {})


def _path(rule: Rule, record: ApiDoc) -> tuple[str, list[dict[str, Any]]]:
    """The rule as an OpenAPI path (``{name}``) and its typed path parameters."""
    parameters = []
    for argument in _PATH_ARGUMENT.findall(rule.rule):
        converter = rule._converters[argument]  # noqa: SLF001 - werkzeug keeps them only here
        parameter = {
            "name": argument,
            "in": "path",
            "required": True,
            "schema": _converter_schema(converter),
        }
        example = record.path_examples.get(argument, PATH_EXAMPLES.get(argument))
        if example is not None:
            parameter["example"] = example
        parameters.append(parameter)
    return _PATH_ARGUMENT.sub(lambda m: "{" + m.group("name") + "}", rule.rule), parameters


def _converter_schema(converter: Any) -> dict[str, Any]:
    if isinstance(converter, IntegerConverter):
        # fieldcheck.http.IdConverter: an id; past MAX_ID the URL matches no route (404).
        schema: dict[str, Any] = {"type": "integer", "minimum": converter.min or 0}
        if converter.max is not None:
            schema["maximum"] = converter.max
        return schema
    # fieldcheck.http.TextConverter: one path segment without NUL.
    return {"type": "string", "minLength": 1}


def _operation(
    rule: Rule, record: ApiDoc, roles: tuple[str, ...], path_params: list, view: Any
) -> dict[str, Any]:
    # The docstring's first paragraph is the summary (it may wrap), the rest the description.
    paragraphs = [p for p in inspect.cleandoc(view.__doc__ or "").split("\n\n") if p.strip()]
    first = " ".join(paragraphs[0].split()) if paragraphs else rule.endpoint
    summary = record.summary or first
    rest = paragraphs if record.summary else paragraphs[1:]
    operation: dict[str, Any] = {
        "operationId": rule.endpoint.replace(".", "_"),
        "summary": summary,
        "description": _description(rest, roles),
        "tags": list(record.tags) or [rule.endpoint.split(".")[0]],
        "parameters": list(path_params),
        "responses": {},
    }
    if roles:
        operation["security"] = [{"bearerAuth": []}]
        operation["x-roles"] = list(roles)
    else:
        operation["security"] = []
    if record.args is not None:
        operation["parameters"].append({"in": "query", "schema": record.args})
    if record.cacheable:
        operation["parameters"].append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "The ETag of the copy you hold: 304 when it is still current",
            }
        )
    if record.body is not None:
        body: dict[str, Any] = {"schema": record.body}
        example = _example(record.body_example)
        if example is not None:
            body["example"] = example
        operation["requestBody"] = {"required": True, "content": {"application/json": body}}
    elif record.multipart is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": list(record.multipart),
                        "properties": {
                            name: {"type": "string", "format": "binary", "description": text}
                            for name, text in record.multipart.items()
                        },
                    }
                }
            },
        }
    for status, answer in record.responses.items():
        operation["responses"][str(status)] = _success(answer)
    if record.cacheable:
        operation["responses"]["304"] = {"description": "Not modified: your copy is current"}
    for status, codes in _errors(rule, record, roles).items():
        if str(status) not in operation["responses"]:
            operation["responses"][str(status)] = _error_response(codes)
    return operation


def _example(name: str | None) -> Any:
    """An example body from ``docs/examples/<name>.json`` (None when not shipped)."""
    if name is None:
        return None
    path = EXAMPLES / f"{name}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _description(paragraphs: list[str], roles: tuple[str, ...]) -> str:
    text = "\n\n".join(paragraphs)
    who = "Roles: " + ", ".join(f"`{r}`" for r in roles) if roles else "No token needed"
    return f"{text}\n\n{who}".strip()


def _success(answer: Any) -> dict[str, Any]:
    description, example, headers = "Success", None, {}
    if isinstance(answer, Response):
        description = answer.description or description
        example = answer.example
        headers = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in answer.headers.items()
        }
        answer = answer.body
    response: dict[str, Any] = {"description": description}
    if headers:
        response["headers"] = headers
    if answer is None:
        return response
    if isinstance(answer, Binary):
        response["content"] = {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in answer.media_types
        }
        return response
    if isinstance(answer, Html):
        response["content"] = {"text/html": {"schema": {"type": "string"}}}
        return response
    content: dict[str, Any] = {"schema": _body_schema(answer)}
    if example is not None:
        content["example"] = example
    response["content"] = {"application/json": content}
    return response


def _body_schema(answer: Any) -> Any:
    if isinstance(answer, PageOf):
        page = {
            "type": "object",
            "required": ["items", "page", "per_page", "total"],
            "properties": {
                "items": {"type": "array", "items": answer.schema},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "total": {"type": "integer", "minimum": 0},
            },
        }
        return page if answer.extra is None else {"allOf": [page, answer.extra]}
    if isinstance(answer, ItemsOf):
        return {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": answer.schema}},
        }
    return answer


def _errors(rule: Rule, record: ApiDoc, roles: tuple[str, ...]) -> dict[int, list[str]]:
    """Catalogue codes the operation can answer, by status."""
    codes: list[str] = list(record.errors)
    if roles:
        codes += ["unauthorized", "forbidden"]
    if rule.arguments:
        codes.append("not_found")
    if record.args is not None:
        codes.append("validation_failed")
    if record.body is not None:
        codes += ["malformed_json", "payload_too_large", "unsupported_media_type"]
        codes.append("validation_failed")
    if record.multipart is not None:
        codes += ["payload_too_large", "unsupported_media_type", "validation_failed"]
    codes += _EVERYWHERE
    by_status: dict[int, list[str]] = defaultdict(list)
    for code in codes:
        if code not in CATALOGUE:
            raise DocumentError(f"{rule.rule}: unknown error code {code!r}")
        status = CATALOGUE[code][0]
        if code not in by_status[status]:
            by_status[status].append(code)
    return dict(sorted(by_status.items()))


def _error_response(codes: Iterable[str]) -> dict[str, Any]:
    codes = list(codes)
    return {
        "description": "Error: " + ", ".join(f"`{c}`" for c in codes) + ".",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "examples": {code: {"value": _error_example(code)} for code in codes},
            }
        },
    }


def _error_example(code: str) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if code == "validation_failed":
        details = {"fields": {"answers.SP-01.value": ["Must be one of: yes, partial, no, na."]}}
    return {"error": {"code": code, "message": CATALOGUE[code][1], "details": details}}


def _open_response_schemas(document: dict[str, Any]) -> None:
    """Let answers grow: apispec closes every object schema (marshmallow refuses unknown fields
    by default), which is right for bodies a client sends (StrictSchema) but not for answers,
    where the contract allows new fields. A schema whose ``Meta`` does not set ``unknown`` is a
    dump schema: its ``additionalProperties: false`` is dropped."""
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        cls = _SCHEMA_CLASSES.get(name)
        if cls is not None and getattr(cls.Meta, "unknown", None) is None:
            schema.pop("additionalProperties", None)
