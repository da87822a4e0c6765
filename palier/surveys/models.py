"""Satisfaction survey answers: one per ticket, from its requester."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SurveyResponse(models.Model):
    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="survey_response")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="survey_responses")
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)
    updated_at = models.DateTimeField(_("last changed"), default=timezone.now)

    class Meta:
        ordering = ["-answered_at", "-pk"]
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="survey_score_1_5"),
        ]
        indexes = [models.Index(fields=["answered_at"], name="survey_answered_at")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"


class SurveyRequest(models.Model):
    """A ticket's requester was asked for a rating: the first survey email queued for it.

    The denominator of the response rate. Later requests for the same ticket (after a reopening)
    add nothing: one row per ticket."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="survey_request")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["sent_at"], name="survey_request_sent_at")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.sent_at.isoformat()}"


class SurveyOptOut(models.Model):
    """An organisation whose requesters are never asked for a rating."""

    organisation = models.OneToOneField("people.Organisation", on_delete=models.CASCADE, related_name="survey_opt_out")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("survey opt-out")
        verbose_name_plural = _("survey opt-outs")

    def __str__(self) -> str:
        return str(self.organisation_id)
