"""The demo app depends on the product, never the other way round, and test-only code stays out of
the package: no module outside ``palier/demo`` imports it, and nothing in ``palier`` outside tests
imports ``testsupport``."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import palier

# import analysis, no database: the PostgreSQL pass runs it (conftest.py, ``engine_independent``)
pytestmark = pytest.mark.engine_independent

ROOT = Path(palier.__file__).parent


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _modules_importing(prefix: str, *, skip: set[str]) -> list[str]:
    found = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if skip & set(relative.parts):
            continue
        if any(name == prefix or name.startswith(prefix + ".") for name in _imports(path)):
            found.append(str(relative))
    return found


def test_nothing_in_the_product_imports_the_demo_app():
    assert _modules_importing("palier.demo", skip={"demo"}) == []


def test_the_product_does_not_import_test_support():
    assert _modules_importing("testsupport", skip={"tests", "migrations"}) == []
