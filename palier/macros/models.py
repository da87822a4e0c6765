"""Macros: canned replies in French and English, with optional field changes applied when the
reply is sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palier.tickets.models import Level, Ticket


class Macro(models.Model):
    class Visibility(models.TextChoices):
        PERSONAL = "personal", _("Only me")
        GROUP = "group", _("A support group")
        EVERYONE = "everyone", _("Every agent")

    name = models.CharField(_("name"), max_length=200)
    body_fr = models.TextField(_("text in French"), blank=True)
    body_en = models.TextField(_("text in English"), blank=True)
    visibility = models.CharField(
        _("who can use it"), max_length=16, choices=Visibility.choices, default=Visibility.PERSONAL
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="macros"
    )
    group = models.ForeignKey(
        "people.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="macros",
        verbose_name=_("shared with the group"),
    )
    # field changes applied with the reply (empty: unchanged)
    set_status = models.CharField(_("set the status"), max_length=20, choices=Ticket.Status.choices, blank=True)
    set_impact = models.CharField(_("set the impact"), max_length=8, choices=Level.choices, blank=True)
    set_urgency = models.CharField(_("set the urgency"), max_length=8, choices=Level.choices, blank=True)
    set_group = models.ForeignKey(
        "people.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("move to the group"),
    )
    set_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assign to"),
    )
    add_tags = models.JSONField(_("tags to add"), default=list, blank=True)
    add_task_template = models.ForeignKey(
        "worklist.TaskTemplate",
        verbose_name=_("add the tasks of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)
    usage_count = models.PositiveIntegerField(_("times used"), default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("macro")
        verbose_name_plural = _("macros")
        constraints = [
            models.CheckConstraint(
                condition=~Q(visibility="group") | Q(group__isnull=False), name="macro_group_needs_group"
            ),
            models.CheckConstraint(
                condition=~Q(visibility="personal") | Q(owner__isnull=False), name="macro_personal_needs_owner"
            ),
        ]
        indexes = [models.Index(fields=["visibility", "is_active"], name="macro_visibility")]

    def __str__(self) -> str:
        return self.name

    @property
    def has_changes(self) -> bool:
        return bool(
            self.set_status
            or self.set_impact
            or self.set_urgency
            or self.set_group_id
            or self.set_assignee_id
            or self.add_tags
            or self.add_task_template_id
        )
