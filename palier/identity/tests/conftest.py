"""The directory tests' real slapd: one per test session, each test in its own branch of it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from palier.identity.tests import slapd as slapd_server

_trees = itertools.count(1)


@pytest.fixture(scope="session")
def slapd() -> Iterator[slapd_server.Slapd]:
    with slapd_server.start() as server:
        yield server


@pytest.fixture
def tree(slapd: slapd_server.Slapd) -> Iterator[slapd_server.Tree]:
    conn = slapd_server.admin(slapd.url)
    yield slapd_server.Tree(conn, f"t{next(_trees)}")
    conn.unbind()
