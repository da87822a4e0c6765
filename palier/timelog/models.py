"""Time logged on tickets, and the hourly cost rates the cost of support is computed with.

A ``TimeEntry`` is minutes of work by one person on one ticket on one day. A ``CostRate`` is the
price of an hour from a date on, for one target: a support level (1-5), one agent (their own rate
wins over their level's), or a vendor group (its price per hour and per escalation). Rates are
never edited in place: a new rate is a new row with its own ``valid_from``, so the history stays
and a report over last year uses last year's prices. The rate in force on a day is the row with
the latest ``valid_from`` on or before that day.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palier.people.models import SupportGroup
from palier.tickets.models import Comment, Ticket

MAX_MINUTES = 1440  # one entry, and one person's total for one day


class TimeEntry(models.Model):
    """Minutes of work on a ticket. A phone call's duration stays a ``tickets.TimeEntry`` (source
    "call", written by the call intake); the figures add both."""

    class Source(models.TextChoices):
        REPLY = "reply", _("with a reply")
        NOTE = "note", _("with an internal note")
        TIMER = "timer", _("timer")
        MANUAL = "manual", _("logged on its own")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="work_entries")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="work_entries")
    minutes = models.PositiveIntegerField(_("minutes"))
    work_date = models.DateField(_("day of the work"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["work_date", "created_at", "id"]
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        indexes = [
            models.Index(fields=["ticket"], name="time_ticket"),
            models.Index(fields=["author", "work_date"], name="time_author_day"),
            models.Index(fields=["work_date"], name="time_day"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gte=1, minutes__lte=MAX_MINUTES), name="time_minutes_range"),
        ]

    def __str__(self) -> str:
        return f"{self.minutes} min on {self.ticket_id} ({self.work_date})"


class CostRate(models.Model):
    """One price from ``valid_from`` on, for exactly one of: a level, an agent, a vendor group."""

    level = models.PositiveSmallIntegerField(
        _("support level"), null=True, blank=True, choices=SupportGroup.Level.choices
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="cost_rates"
    )
    group = models.ForeignKey(SupportGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="cost_rates")
    hourly_rate = models.DecimalField(_("hourly rate"), max_digits=10, decimal_places=2, default=0)
    per_escalation = models.DecimalField(_("cost per escalation"), max_digits=10, decimal_places=2, default=0)
    valid_from = models.DateField(_("valid from"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["level", "agent_id", "group_id", "-valid_from"]
        verbose_name = _("cost rate")
        verbose_name_plural = _("cost rates")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(level__isnull=False, agent__isnull=True, group__isnull=True)
                    | Q(level__isnull=True, agent__isnull=False, group__isnull=True)
                    | Q(level__isnull=True, agent__isnull=True, group__isnull=False)
                ),
                name="rate_one_target",
            ),
            models.UniqueConstraint(fields=["level", "valid_from"], name="rate_level_day"),
            models.UniqueConstraint(fields=["agent", "valid_from"], name="rate_agent_day"),
            models.UniqueConstraint(fields=["group", "valid_from"], name="rate_group_day"),
        ]

    def __str__(self) -> str:
        return f"{self.target_key} {self.hourly_rate}/h from {self.valid_from}"

    @property
    def target_key(self) -> str:
        """ "level:2", "agent:17" or "group:4": which price list this row belongs to."""
        if self.level is not None:
            return f"level:{self.level}"
        if self.agent_id is not None:
            return f"agent:{self.agent_id}"
        return f"group:{self.group_id}"
