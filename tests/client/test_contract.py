"""The client speaks only the documented API, and imports without the server's libraries."""

from __future__ import annotations

import subprocess
import sys

from fieldcheck.client.api import ENDPOINTS
from tests.client.conftest import ROOT


def test_the_client_uses_only_endpoints_of_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for method, path in ENDPOINTS.values():
        assert path in document["paths"], path
        operation = document["paths"][path].get(method)
        assert operation is not None, (method, path)
        # The answers the client maps to outcomes are documented ones.
        assert {"200", "201"} <= set(operation["responses"]), (method, path)
    checklist = document["paths"]["/api/v1/inspections"]["post"]["responses"]
    assert {"409", "422"} <= set(checklist)


def test_importing_the_client_loads_neither_flask_nor_sqlalchemy():
    code = (
        "import sys, fieldcheck.client.sync; "
        "loaded = {'flask', 'sqlalchemy', 'marshmallow', 'fieldcheck.factory'} & set(sys.modules); "
        "print(sorted(loaded)); sys.exit(1 if loaded else 0)"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
