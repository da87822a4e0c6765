"""In-app notifications: what the desk tells one person (escalations, SLA warnings and breaches,
assignments). The email channel will deliver the same records once it exists."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Kind(models.TextChoices):
        ASSIGNED = "assigned", _("A ticket was assigned to you")
        ESCALATED = "escalated", _("A ticket was escalated to your group")
        ESCALATION_MANAGER = "escalation_manager", _("A ticket was escalated above your team")
        VENDOR = "vendor", _("A ticket was sent to an external vendor")
        SLA_WARNING = "sla_warning", _("An SLA target is close")
        SLA_BREACH = "sla_breach", _("An SLA target was missed")
        REQUEUED = "requeued", _("Tickets were put back in the queue")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    data = models.JSONField(default=dict)
    # the same fact notified twice (a retried job) is stored once: unique per recipient when set
    key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at", "created_at"], name="notification_inbox")]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], condition=~models.Q(key=""), name="notification_once")
        ]
