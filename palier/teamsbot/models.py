"""The Teams bot's memory: where to write to each person (their personal conversation with the
bot), and which message Palier sent about which ticket, so that a reply threads onto it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from palier.integrations.models import ChatApp
from palier.tickets.models import Ticket


class Conversation(models.Model):
    """A person's personal conversation with the bot, as the Bot Connector names it."""

    app = models.ForeignKey(ChatApp, on_delete=models.CASCADE, related_name="+")
    aad_object_id = models.CharField(max_length=100)  # Entra ID object id of the person
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )  # set once the object id is linked to an account
    service_url = models.CharField(max_length=300)
    conversation_id = models.CharField(max_length=500)
    member_id = models.CharField(max_length=200)  # the person's Bot Framework id ("29:…")
    tenant_id = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    # a link confirmed in Palier, waiting for its code to be typed in this conversation
    pending_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    pending_code = models.CharField(max_length=12, blank=True)
    pending_at = models.DateTimeField(null=True, blank=True)
    pending_tries = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "aad_object_id"], name="teamsbot_conversation_person")]
        indexes = [models.Index(fields=["user"], name="teamsbot_conversation_user")]


class SentMessage(models.Model):
    """A message the bot posted about a ticket: a reply to it threads onto that ticket."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    activity_id = models.CharField(max_length=200)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "activity_id"], name="teamsbot_sent_message_unique")
        ]
