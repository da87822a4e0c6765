"""The GLPI inventory format's JSON Schema (``schema/inventory.schema.json``, from
glpi-project/inventory_format, MIT licence in ``schema/LICENSE``), compiled once per process."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match

SCHEMA_PATH = Path(__file__).parent / "schema" / "inventory.schema.json"


@cache
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft7Validator(schema)


def first_error(report: dict[str, Any]) -> str:
    """The schema's most relevant complaint with where it is (``content.hardware.memory``), or ""."""
    error = best_match(validator().iter_errors(report))
    if error is None:
        return ""
    where = ".".join(str(part) for part in error.absolute_path) or "(root)"
    message = error.message if len(error.message) <= 300 else error.message[:300] + "…"
    return f"{where}: {message}"
