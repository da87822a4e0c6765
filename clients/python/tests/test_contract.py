"""The client's table of operations against the server's own OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as DjangoClient
from palier_client.operations import BULK_ITEM, OPERATIONS, Operation

PREFIX = "/api/v1"


@pytest.fixture
def openapi(db: None) -> dict[str, Any]:
    response = DjangoClient().get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def body_schema(document: dict[str, Any], op: Operation) -> dict[str, Any]:
    operation = document["paths"][PREFIX + op.path][op.method.lower()]
    return resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])


def check_body(schema: dict[str, Any], op: Operation, name: str) -> list[str]:
    problems = []
    properties = set(schema.get("properties", {}))
    for field in sorted((op.sends | op.may_send) - properties):
        problems.append(f"{name}: the client sends “{field}”, which the API does not know")
    for field in sorted(set(schema.get("required", [])) - op.sends):
        problems.append(f"{name}: the API requires “{field}”, which the client does not always send")
    return problems


def check_operation(document: dict[str, Any], name: str, op: Operation) -> list[str]:
    operations = document["paths"].get(PREFIX + op.path)
    if operations is None or op.method.lower() not in operations:
        return [f"{name}: there is no {op.method} {op.path}"]
    parameters = {p["name"] for p in operations[op.method.lower()].get("parameters", []) if p["in"] == "query"}
    problems = [f"{name}: unknown query parameter “{p}”" for p in sorted(op.params - parameters)]
    if op.sends or op.may_send:
        problems += check_body(body_schema(document, op), op, name)
    return problems


def test_every_operation_of_the_client_exists_with_its_fields(openapi: dict[str, Any]) -> None:
    problems = [p for name, op in sorted(OPERATIONS.items()) for p in check_operation(openapi, name, op)]
    assert problems == []


def test_a_bulk_item_has_the_fields_the_client_sends(openapi: dict[str, Any]) -> None:
    items = body_schema(openapi, OPERATIONS["tickets.bulk"])["properties"]["items"]
    assert items.get("maxItems") == 1000
    assert check_body(resolve(openapi, items["items"]), BULK_ITEM, "bulk item") == []


def test_the_check_notices_a_changed_api(openapi: dict[str, Any]) -> None:
    schema = {"properties": {"subject": {}, "body": {}}, "required": ["subject", "body"]}
    op = Operation("POST", "/x", frozenset({"subject"}), frozenset({"gone"}))
    assert len(check_body(schema, op, "x")) == 2
    assert check_operation(openapi, "gone", Operation("DELETE", "/tickets")) != []
    assert check_operation(openapi, "param", Operation("GET", "/tickets", params=frozenset({"colour"}))) != []
