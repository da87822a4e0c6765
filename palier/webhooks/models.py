"""Outgoing webhook subscriptions, their deliveries (the durable outbox of this app) and each
attempt's outcome (docs/webhooks.md)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Subscription(models.Model):
    """An address Palier posts the chosen event types to, signed with the subscription's secret."""

    name = models.CharField(_("name"), max_length=120)
    url = models.URLField(_("address"), max_length=500)
    event_types = models.JSONField(_("event types"), default=list)
    secret_encrypted = models.TextField(editable=False)  # mail.secrets (Fernet); write-only
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        indexes = [models.Index(fields=["is_active"], name="webhook_sub_active")]

    def __str__(self) -> str:
        return self.name

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.version}"'


class Delivery(models.Model):
    """One event for one subscription: written once (unique per event and subscription), claimed
    by a worker, posted until it gets through or gives up; ``delivery_id`` is the same for every
    attempt and every redelivery, so the receiver can drop duplicates."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_key = models.CharField(max_length=64)  # ticket:<id>, problem:<id>, change:<id>, ping:<uuid>
    event_type = models.CharField(max_length=40)
    body = models.TextField()  # the JSON payload, fixed when the event happened
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["subscription", "event_key"], name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["subscription", "-id"], name="webhook_delivery_log"),
            models.Index(fields=["claim"], name="webhook_delivery_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription_id} ({self.state})"


class Attempt(models.Model):
    """One POST of a delivery: when, the response code (None: no answer), how long, the error."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["delivery", "id"], name="webhook_attempt_log")]


class SubscriptionIdempotencyKey(models.Model):
    """The subscription an API client created with a given Idempotency-Key: a retry gets it back."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="webhook_idempotency_key_unique")]
