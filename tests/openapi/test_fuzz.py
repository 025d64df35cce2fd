"""A bounded schemathesis run against the live app (WSGI, real database), every operation.

Demo data (units, users, approved inspections) and one zoning run are loaded first, so lists,
results and ids have something to show. Each operation gets a few derandomized examples of
valid requests and of invalid ones, sent with an admin's token; every answer must be a non-5xx
status the document lists, with a body matching the documented schema. Bounded (see
docs/decisions.md for the cost per database) so it runs in the normal suite on both databases.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

#: Examples per operation and generation mode: enough to reach the error paths of every
#: parameter and body, few enough that the run stays within 2-3 minutes per database.
EXAMPLES = 5
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def seeded(app, runner, tmp_path):
    """Demo units, users and approved inspections, and a succeeded zoning run."""
    result = runner.invoke(args=["seed-demo", "--tokens-file", str(tmp_path / "tokens.txt")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["rescore", "--full"])
    assert result.exit_code == 0, result.output
    return app


def test_every_operation_conforms_to_the_document(seeded, factory):
    app = seeded
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 45
    started = time.monotonic()
    answers: dict[str, list[int]] = {}
    for operation in operations:
        # A fresh admin per operation: the run may revoke tokens or deactivate users it finds.
        _user_id, token = factory.user("admin")
        headers = {"Authorization": f"Bearer {token}"}
        # The documented examples first (real demo objects), then generated requests.
        examples = schema.get_strategies_from_examples(
            operation, fill_missing=True, headers=headers
        )
        if examples:
            _run(operation, st.one_of(examples), headers, answers)
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode, headers=headers)
            _run(operation, strategy, headers, answers, negative=mode.is_negative)
    # The run reached real objects, not only 404s and 422s: most operations answered a success.
    succeeded = [label for label, statuses in answers.items() if min(statuses) < 400]
    assert len(succeeded) >= 40, sorted(set(answers) - set(succeeded))
    # The bound holds: a slow run would push the suite past what CI allows.
    assert time.monotonic() - started < 300


def _run(operation, strategy, headers, answers, negative: bool = False) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=strategy)
    def check(case) -> None:
        response = case.call(headers=headers)
        answers.setdefault(operation.label, []).append(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        check()
    except Unsatisfiable:
        # Nothing can be made invalid on the wire: no parameter and no body (GET /api/v1/docs),
        # or only a text path segment (an empty one is no longer the same path).
        if not negative:
            raise


def test_the_run_fails_on_an_answer_the_document_does_not_describe(app, client, factory):
    """The same harness against a document that lies about one answer: the run must fail, so
    its passing above means something."""
    _user_id, token = factory.user("admin")
    headers = {"Authorization": f"Bearer {token}"}
    document = client.get("/api/v1/openapi.json").get_json()
    # A region code documented as a number: every 200 of GET /regions/{code} breaks it.
    document["components"]["schemas"]["Region"]["properties"]["code"] = {"type": "integer"}
    # And 404 left out of GET /units/{code}: a unit that does not exist breaks it.
    del document["paths"]["/api/v1/units/{code}"]["get"]["responses"]["404"]
    schema = schemathesis.openapi.from_dict(document)
    schema.app = app
    region = schema["/api/v1/regions/{code}"]["GET"]
    with pytest.raises(BaseExceptionGroup) as failed:
        _run(
            region,
            st.one_of(schema.get_strategies_from_examples(region, headers=headers)),
            headers,
            {},
        )
    unit = schema["/api/v1/units/{code}"]["GET"]
    strategy = unit.as_strategy(
        generation_mode=schemathesis.GenerationMode.POSITIVE, headers=headers
    )
    with pytest.raises(BaseExceptionGroup) as undocumented:
        _run(unit, strategy, headers, {})
    assert _kinds(failed.value) == {"JsonSchemaError"}
    assert _kinds(undocumented.value) == {"UndefinedStatusCode"}


def _kinds(group: BaseExceptionGroup) -> set[str]:
    return {type(e).__name__ for e in group.exceptions}


def test_an_id_past_the_maximum_names_nothing_for_every_method(app, client, factory):
    """Found by this run: POST /inspections/<too big>/comments answered 405 (the GET rule of the
    same path matched, the POST rule's converter refused the number); now 404 like a GET."""
    _user_id, token = factory.user("admin")
    headers = {"Authorization": f"Bearer {token}"}
    for number in (2**31, 99_999_999_999):
        for method in ("get", "post"):
            url = f"/api/v1/inspections/{number}/comments"
            response = getattr(client, method)(url, headers=headers, json={"body": "x"})
            assert response.status_code == 404, (method, number, response.get_json())
            assert response.get_json()["error"]["code"] == "not_found"
    assert client.post("/api/v1/inspections/1/comments", headers=headers, json={}).status_code in (
        404,
        422,
    )
