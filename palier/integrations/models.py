"""Integrations: monitoring alert sources and their deliveries, chat apps (Slack, Microsoft Teams),
chat identities and the chat events already handled (deduplication)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palier.people.models import SupportGroup
from palier.tickets.models import Category, Ticket


def default_severity_map() -> dict[str, Any]:
    """Severity -> [impact, urgency]; the severities are normalised by ``alerts_parse.severity``."""
    return {"critical": ["high", "high"], "warning": ["medium", "medium"], "info": ["low", "low"]}


class AlertSource(models.Model):
    """A monitoring system allowed to open incidents, authenticated by its own token."""

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
        GRAFANA = "grafana", _("Grafana alerting")
        GENERIC = "generic", _("Generic JSON webhook")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    token_prefix = models.CharField(max_length=12)
    token_digest = models.CharField(max_length=64, unique=True)  # SHA-256 of the token, never the token
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("service account"),
        help_text=_("The requester of the incidents; an agent account, so it can add internal notes."),
    )
    group = models.ForeignKey(
        SupportGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("group")
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("category")
    )
    severity_map = models.JSONField(_("severity to impact and urgency"), default=default_severity_map)
    # [{"label": "service", "value": "db", "category": "<category slug>"}], first match wins
    category_rules = models.JSONField(_("label to category rules"), default=list, blank=True)
    auto_resolve = models.BooleanField(_("resolve the incident when the alert is resolved"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("alert source")
        verbose_name_plural = _("alert sources")

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AlertDelivery(models.Model):
    """One request received from an alert source, stored raw before it is processed."""

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        DUPLICATE = "duplicate", _("Duplicate")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    source = models.ForeignKey(AlertSource, on_delete=models.CASCADE, related_name="deliveries")
    body = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVED)
    error = models.TextField(blank=True)
    group_key = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["source", "idempotency_key", "state"], name="alert_delivery_idem")]


class AlertIncident(models.Model):
    """The incident currently tracking one alert group (or fingerprint) of a source."""

    source = models.ForeignKey(AlertSource, on_delete=models.CASCADE, related_name="incidents")
    key = models.CharField(max_length=500)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    occurrences = models.PositiveIntegerField(default=0)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "key"], name="alert_incident_key")]


class ChatApp(models.Model):
    """A Slack app or a Microsoft Teams outgoing webhook. Secrets stay in the environment."""

    class Kind(models.TextChoices):
        SLACK = "slack", _("Slack")
        TEAMS = "teams", _("Microsoft Teams")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("address"), max_length=50, unique=True)
    secret_env = models.CharField(
        _("secret variable"),
        max_length=100,
        help_text=_("Name of the environment variable holding the signing secret (NAME_FILE also works)."),
    )
    bot_token_env = models.CharField(
        _("bot token variable"),
        max_length=100,
        blank=True,
        help_text=_(
            "Slack: name of the environment variable holding the app's bot token (xoxb-…). With it, "
            "approvers linked to a Slack account get their approval requests in Slack, with buttons."
        ),
    )
    bot_app_id = models.CharField(
        _("bot application id"),
        max_length=64,
        blank=True,
        help_text=_(
            "Teams bot: the application (client) id of the app registered in Microsoft Entra ID. Its client "
            "secret is read from the secret variable."
        ),
    )
    notify_url = models.URLField(
        _("channel notification URL"),
        max_length=500,
        blank=True,
        help_text=_("Incoming webhook (Slack) or Workflows URL (Teams) where new tickets are announced."),
    )
    group = models.ForeignKey(
        SupportGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("group")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("chat app")
        verbose_name_plural = _("chat apps")

    def __str__(self) -> str:
        return self.name


class ChatIdentity(models.Model):
    """A Slack user id or a Teams Azure AD object id linked to a Palier account."""

    kind = models.CharField(_("kind"), max_length=8, choices=ChatApp.Kind.choices)
    external_id = models.CharField(_("chat user id"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_identities", verbose_name=_("user")
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "external_id"]
        constraints = [models.UniqueConstraint(fields=["kind", "external_id"], name="chat_identity_unique")]


class ChatEvent(models.Model):
    """An event already received (Slack event_id, Teams activity id): retries are ignored."""

    app = models.ForeignKey(ChatApp, on_delete=models.CASCADE, related_name="+")
    event_id = models.CharField(max_length=200)
    payload = models.JSONField(null=True, blank=True)  # the raw activity (Teams bot), stored before handling
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "event_id"], name="chat_event_unique")]
