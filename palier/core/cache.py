"""A value computed from the database and kept per process (the active routing rules, automation
rules and SLA policies), computed again only when its version changed.

Every read asks the database for the cache's version token (one indexed one-row query, far
cheaper than loading and compiling the value again). A write that changes what a cache holds
calls ``bump()`` inside its transaction: the new token becomes visible to every process exactly
when the change commits, and a rolled-back change leaves the old token in place.

    RULES = VersionedCache("routing.rules", load=_load_rules)
    RULES.get()   # the cached value; reloaded when another process (or this one) bumped it
    RULES.bump()  # in the service that writes a rule, inside its transaction
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import connection

from palier.core.models import CacheVersion

T = TypeVar("T")


class VersionedCache(Generic[T]):
    """One per-process cache, named by its row in ``CacheVersion``."""

    def __init__(self, name: str, *, load: Callable[[], T]) -> None:
        self.name = name
        self._load = load
        self._cached: tuple[str, T] | None = None
        self._reload = threading.Lock()

    def get(self) -> T:
        """The value, loaded again when its token differs from the one it was loaded under."""
        token = self.token()
        cached = self._cached
        if cached is not None and cached[0] == token:
            return cached[1]
        with self._reload:
            value = self._load()
            self._cached = (token, value)
        return value

    def token(self) -> str:
        """The current version token ("" before the first change)."""
        with connection.cursor() as cursor:  # plain SQL: this runs on every ticket creation
            cursor.execute("SELECT token FROM core_cacheversion WHERE name = %s", [self.name])
            row = cursor.fetchone()
        return str(row[0]) if row else ""

    def bump(self) -> None:
        """Make every process reload this cache (call it inside the changing transaction)."""
        token = uuid.uuid4().hex
        if CacheVersion.objects.filter(name=self.name).update(token=token):
            return
        # the first change: create the row; a concurrent first change may have created it meanwhile
        CacheVersion.objects.bulk_create([CacheVersion(name=self.name, token=token)], ignore_conflicts=True)
        CacheVersion.objects.filter(name=self.name).update(token=token)

    def forget(self) -> None:
        """Drop this process's copy (tests start from a fresh database state)."""
        self._cached = None
