"""What Palier remembers of its backups: one row per successful backup (its time, size and path)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BackupRecord(models.Model):
    """A backup that finished and was written whole (manual or scheduled)."""

    class Kind(models.TextChoices):
        MANUAL = "manual", _("Manual")
        SCHEDULED = "scheduled", _("Scheduled")

    finished_at = models.DateTimeField(_("finished at"), db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.MANUAL)
    path = models.CharField(_("path"), max_length=1024)
    size = models.BigIntegerField(_("size in bytes"))
    files = models.PositiveIntegerField(_("files"), default=0)

    class Meta:
        ordering = ("-finished_at",)
        verbose_name = _("backup")
        verbose_name_plural = _("backups")

    def __str__(self) -> str:
        return f"{self.path} ({self.finished_at:%Y-%m-%d %H:%M})"
