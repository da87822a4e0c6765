from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CacheVersion(models.Model):
    """The version of one process cache (``palier.core.cache.VersionedCache``): ``token`` changes
    (a random value) whenever what the cache holds changes, so every process reloads it. Random
    rather than a counter: a rolled-back change cannot make an old cache look current again.
    Rows are created on the first change."""

    name = models.CharField(max_length=64, unique=True)
    token = models.CharField(max_length=32, default="")

    def __str__(self) -> str:
        return f"{self.name}: {self.token}"


class OutboxItem(models.Model):
    """One piece of work to do after a commit, kept until it is done (``palier.core.outbox``):
    written in the caller's transaction, run by a worker, retried with backoff, never dropped."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=64)
    key = models.CharField(max_length=200)
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outbox item")
        verbose_name_plural = _("outbox items")
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="outbox_once")]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key} ({self.state})"


class NumberSequence(models.Model):
    """The last number handed out under one name ("problem", "change"): ``palier.core.numbers``
    takes the next one under a row lock, so two records never share a number."""

    name = models.CharField(max_length=32, primary_key=True)
    last = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last}"


class IdempotencyRecord(models.Model):
    """A creation made through the API with an ``Idempotency-Key``: a retry with the same key
    (same caller, same kind of resource) gets the object created the first time, never a second
    one. ``scope`` names the resource (``"routing_rule"``), ``object_id`` the row it created;
    ``fingerprint`` is a digest of the request body, so the same key with another body is refused.
    Used by every resource mounted with ``palier.api.resources`` (``core/idempotency.py``)."""

    scope = models.CharField(max_length=60)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "user", "key"], name="core_idempotency_unique"),
        ]
