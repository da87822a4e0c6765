"""Tasks on tickets, task templates, and scheduled replies and reminders.

A ``TicketTask`` is one line of a ticket's checklist: internal work with an assignee, a group, a
due day and a status, on any incident or request. It is not a catalog ``FulfilmentTask`` (that
one is a child request opened for a group when a catalog request is fulfilled); the two never
mix. A mandatory task still open stops the ticket from being resolved.

A ``TaskTemplate`` is a named list of tasks (``TaskTemplateItem``) that an agent, a macro or an
automation rule adds to a ticket in one go.

A ``ScheduledAction`` is a public reply to post, or a reminder to notify its author with, at
``run_at``. It is pending until the ``worklist-due`` job runs it (exactly once: the job claims
it with a conditional update), its author cancels it, or the requester answers first.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palier.people.models import SupportGroup
from palier.tickets.models import Comment, Ticket

MAX_TITLE = 200
MAX_TASKS = 100  # per ticket
MAX_BODY = 20000


class TaskTemplate(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("task template")
        verbose_name_plural = _("task templates")

    def __str__(self) -> str:
        return self.name


class TaskTemplateItem(models.Model):
    template = models.ForeignKey(TaskTemplate, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(_("task"), max_length=MAX_TITLE)
    group = models.ForeignKey(SupportGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    mandatory = models.BooleanField(_("mandatory"), default=False)
    due_in_days = models.PositiveSmallIntegerField(_("due after (days)"), null=True, blank=True)

    class Meta:
        ordering = ["template_id", "position", "id"]
        verbose_name = _("task template item")

    def __str__(self) -> str:
        return self.title


class TicketTask(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("To do")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="worklist_tasks")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(_("task"), max_length=MAX_TITLE)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    mandatory = models.BooleanField(_("mandatory"), default=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="ticket_tasks"
    )
    group = models.ForeignKey(SupportGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    due_on = models.DateField(_("due"), null=True, blank=True)
    template = models.ForeignKey(TaskTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket_id", "position", "id"]
        verbose_name = _("ticket task")
        verbose_name_plural = _("ticket tasks")
        indexes = [
            models.Index(fields=["ticket", "position", "id"], name="worktask_ticket"),
            models.Index(
                fields=["assignee", "due_on", "id"],
                name="worktask_mine",
                condition=Q(status__in=["open", "in_progress"]),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.version}"'


class ScheduledAction(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", _("Scheduled reply")
        REMINDER = "reminder", _("Reminder")

    class State(models.TextChoices):
        PENDING = "pending", _("Scheduled")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Reason(models.TextChoices):
        AGENT = "agent", _("cancelled by its author")
        REQUESTER = "requester", _("the requester answered first")
        CLOSED = "closed", _("the ticket was closed")
        REFUSED = "refused", _("the reply could not be posted")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="scheduled_actions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scheduled_actions")
    body = models.TextField(_("text"), blank=True)
    run_at = models.DateTimeField(_("when"))
    time_zone = models.CharField(max_length=64, blank=True)  # the author's, to show the time as chosen
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    reason = models.CharField(max_length=10, choices=Reason.choices, blank=True)
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run_at", "id"]
        verbose_name = _("scheduled action")
        indexes = [
            models.Index(fields=["run_at", "id"], name="scheduled_due", condition=Q(state="pending")),
            models.Index(fields=["ticket", "state"], name="scheduled_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id} at {self.run_at:%Y-%m-%d %H:%M}"


class IdempotencyKey(models.Model):
    """The task or follow-up an API client created with a given Idempotency-Key (a retry gets it
    back instead of a second one)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    task = models.ForeignKey(TicketTask, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    scheduled = models.ForeignKey(ScheduledAction, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="worklist_idempotency_once")]
