"""In-app notifications: what the desk tells one person (escalations, SLA warnings and breaches,
assignments, approval requests), the email outbox, and each user's notification preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
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
        CREATED = "created", _("Your request was received")
        REPLY = "reply", _("A new public reply")
        STATUS = "status", _("A ticket's status changed")
        MENTION = "mention", _("You were mentioned")
        MAILBOX_FAILING = "mailbox_failing", _("A mailbox cannot be read")
        APPROVAL = "approval", _("Approval requested")
        ASSET_EXPIRY = "asset_expiry", _("An asset's warranty or licence ends soon")
        PROBLEM = "problem", _("A problem you watch changed")
        MERGED = "merged", _("Your request was merged into another")
        RULE = "rule", _("An automation rule tells you")
        REMINDER = "reminder", _("A reminder you set on a ticket")

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

    @property
    def item_name(self) -> str:
        """The catalog item an approval request is about, in the active language (the other one
        when missing)."""
        fr, en = str(self.data.get("item_fr") or ""), str(self.data.get("item_en") or "")
        if (get_language() or "fr").startswith("en"):
            return en or fr
        return fr or en


class OutgoingEmail(models.Model):
    """One email to one address (the outbox). Stored in the caller's transaction, sent after commit
    by a background job with retries; unique per (key, address) so a repeated call sends nothing."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    address = models.EmailField(max_length=254)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_address = models.CharField(max_length=254)
    subject = models.CharField(max_length=998)
    text = models.TextField()
    html = models.TextField(blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="outgoing_emails"
    )
    key = models.CharField(max_length=200)
    message_id = models.CharField(max_length=500, unique=True)
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.TextField(blank=True)
    automatic = models.BooleanField(default=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        constraints = [models.UniqueConstraint(fields=["key", "address"], name="outgoing_email_once")]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outgoing_due"),
            models.Index(fields=["address", "created_at"], name="outgoing_address"),
        ]

    def __str__(self) -> str:
        return f"{self.address}: {self.subject}"


class NotificationPreference(models.Model):
    """A user's choice for one event type on one channel. No row means the default: enabled."""

    class Event(models.TextChoices):
        CREATED = "created", _("My request was received")
        REPLY = "reply", _("A public reply on a ticket I follow")
        STATUS = "status", _("My request's status changed")
        ASSIGNED = "assigned", _("A ticket was assigned to me")
        ESCALATED = "escalated", _("A ticket was escalated to my group")
        MENTION = "mention", _("I was mentioned")
        APPROVAL = "approval", _("My approval is requested")
        MERGED = "merged", _("My request was merged into another")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        IN_APP = "in_app", _("In the application")
        TEAMS = "teams", _("Microsoft Teams")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    event = models.CharField(max_length=16, choices=Event.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    enabled = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "event", "channel"], name="notification_preference_once")
        ]
