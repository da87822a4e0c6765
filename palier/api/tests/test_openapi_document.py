"""The OpenAPI document is valid OpenAPI (3.1, its webhooks section included), so generators and
the Python client can trust it."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

from palier.api.api import api

# the document, no database: the PostgreSQL pass runs it (conftest.py, ``engine_independent``)
pytestmark = pytest.mark.engine_independent


def test_the_openapi_document_validates() -> None:
    document = json.loads(json.dumps(api.get_openapi_schema()))  # as served: keys are strings
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document.get("webhooks"), "the outgoing webhooks' payloads are described"
    operation_ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(operation_ids) == len(set(operation_ids)), "every operation has its own id"
