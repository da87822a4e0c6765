"""An export an administrator asked for on the Data export page, run by a worker."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DataExport(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    organisation = models.ForeignKey(
        "people.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # empty: the whole desk
    internal = models.BooleanField(default=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    file = models.CharField(max_length=255, blank=True)  # name in the default storage
    size = models.PositiveBigIntegerField(default=0)
    counts = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"data export {self.pk} ({self.state})"
