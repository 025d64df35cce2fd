"""The OpenAPI document: valid, complete (every route, every error code), and true to the
shipped example; served with its page without a token and without a CDN."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from fieldcheck.errors import CATALOGUE
from fieldcheck.openapi.doc import api_doc
from fieldcheck.openapi.spec import PAGE_BLUEPRINTS, DocumentError, build_spec
from tests.conftest import SAMPLE

IMPLICIT = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(client) -> dict[str, Any]:
    """The document as a client fetches it (no token)."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _openapi_path(rule: str) -> str:
    import re

    return re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", rule)


def _inline(node: Any, components: dict[str, Any]) -> Any:
    """``node`` with every ``#/components/schemas/`` reference replaced by its schema."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return _inline(components[ref.rsplit("/", 1)[1]], components)
        return {k: _inline(v, components) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, components) for v in node]
    return node


def test_document_validates(document):
    validate(document)
    assert document["openapi"].startswith("3.")


def test_every_route_is_documented_with_its_methods(app, document):
    # The document is built by walking app.url_map, so a route added without @api_doc makes
    # build_spec raise (test_undocumented_route_is_refused), and this test also compares the
    # served document against url_map itself. Checked by hand: with the @api_doc line above
    # get_region deleted, /api/v1/openapi.json answered 500 and every test here failed.
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint.split(".")[-1] != "static"
        and r.endpoint.partition(".")[0] not in PAGE_BLUEPRINTS  # pages, OpenRosa
    ]
    assert len(rules) > 40
    for rule in rules:
        path = _openapi_path(rule.rule)
        assert path in document["paths"], rule.rule
        documented = {m.upper() for m in document["paths"][path]}
        assert set(rule.methods) - IMPLICIT <= documented, rule.rule


def test_undocumented_route_is_refused(app: Flask):
    @app.get("/api/v1/undocumented")
    def undocumented():
        return {}

    with pytest.raises(DocumentError, match="undocumented"):
        build_spec(app)

    api_doc(responses={200: None})(undocumented)
    assert "/api/v1/undocumented" in build_spec(app)["paths"]


def test_unknown_error_code_is_refused(app: Flask):
    @app.get("/api/v1/misdocumented")
    @api_doc(responses={200: None}, errors=("no_such_code",))
    def misdocumented():
        return {}

    with pytest.raises(DocumentError, match="no_such_code"):
        build_spec(app)


def test_roles_and_security_follow_require_role(app, document):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[-1] == "static":
            continue
        if rule.endpoint.partition(".")[0] in PAGE_BLUEPRINTS:  # pages, OpenRosa
            continue
        roles = list(getattr(app.view_functions[rule.endpoint], "required_roles", ()))
        for method in set(rule.methods) - IMPLICIT:
            operation = document["paths"][_openapi_path(rule.rule)][method.lower()]
            if roles:
                assert operation["x-roles"] == roles, rule.rule
                assert operation["security"] == [{"bearerAuth": []}]
                assert {"401", "403"} <= set(operation["responses"]), rule.rule
            else:
                assert operation["security"] == [], rule.rule
    public = {"/healthz", "/api/v1/openapi.json", "/api/v1/docs"}
    for path in public:
        assert document["paths"][path]["get"]["security"] == []
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_error_code_is_in_the_document(document):
    envelope = document["components"]["schemas"]["Error"]
    assert set(envelope["properties"]["error"]["properties"]["code"]["enum"]) == set(CATALOGUE)
    for code, (status, _message) in CATALOGUE.items():
        assert f"| `{code}` | {status} |" in document["info"]["description"], code
    # Each error an operation documents sits under its catalogue status, with an example.
    used = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                examples = response.get("content", {}).get("application/json", {}).get("examples")
                for code, example in (examples or {}).items():
                    assert str(CATALOGUE[code][0]) == status, code
                    assert example["value"]["error"]["code"] == code
                    used.add(code)
    # Errors raised by routes and services, not only the generic ones, are documented.
    assert {"submission_conflict", "review_blocked", "invalid_image", "out_of_scope"} <= used


def test_inspection_body_schema_validates_the_shipped_example(document):
    operation = document["paths"]["/api/v1/inspections"]["post"]
    content = operation["requestBody"]["content"]["application/json"]
    example = json.loads(SAMPLE.read_text(encoding="utf-8"))
    assert content["example"] == example
    schema = _inline(content["schema"], document["components"]["schemas"])
    OAS30Validator(schema).validate(example)
    # And the schema is strict, as intake is: an unknown field is not a valid body.
    assert not OAS30Validator(schema).is_valid({**example, "surprise": 1})
    assert not OAS30Validator(schema).is_valid({k: v for k, v in example.items() if k != "answers"})


def test_query_and_path_parameters(document):
    results = document["paths"]["/api/v1/results"]["get"]
    query = {p["name"]: p for p in results["parameters"] if p["in"] == "query"}
    assert query["level"]["schema"]["enum"] == ["unit", "agency", "regency", "province"]
    assert {"page", "per_page", "zone", "region", "run", "methodology", "period"} <= set(query)
    one = document["paths"]["/api/v1/inspections/{inspection_id}"]["get"]
    (inspection_id,) = [p for p in one["parameters"] if p["in"] == "path"]
    assert inspection_id["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
    photo = document["paths"]["/api/v1/inspections/{inspection_id}/photos"]["post"]
    assert "multipart/form-data" in photo["requestBody"]["content"]


def test_document_and_page_need_no_token_and_no_cdn(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/api/v1/openapi.json" in html
    assert "http://" not in html and "https://" not in html  # nothing fetched from elsewhere
    script = html.split('<script src="', 1)[1].split('"', 1)[0]
    bundle = client.get(script)
    assert bundle.status_code == 200
    assert bundle.mimetype in ("text/javascript", "application/javascript")
    assert len(bundle.get_data()) > 100_000
    bundle.close()
