from __future__ import annotations

from django.db import models


class CacheVersion(models.Model):
    """The version of one process cache (``palier.core.cache.VersionedCache``): ``token`` changes
    (a random value) whenever what the cache holds changes, so every process reloads it. Random
    rather than a counter: a rolled-back change cannot make an old cache look current again.
    Rows are created on the first change."""

    name = models.CharField(max_length=64, unique=True)
    token = models.CharField(max_length=32, default="")

    def __str__(self) -> str:
        return f"{self.name}: {self.token}"
