"""The reports app's tables: what people asked for (scheduled summaries and exports, the long ticket
exports that run in the background), and the per-ticket facts the dashboards read instead of the
ticket history (``facts.py``: derived, rebuilt at will, never the source of truth)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# --- scheduled summaries and exports ------------------------------------------------------------------


class ReportSubscription(models.Model):
    """A report emailed on a schedule: a manager's weekly or monthly summary of their groups, or an
    administrator's export of one report table to a list of addresses. ``next_run_at`` is the next
    slot (07:00 in the owner's time zone, Monday or the 1st); the periodic job claims it with a
    conditional UPDATE, so two workers never send the same slot twice."""

    class Kind(models.TextChoices):
        SUMMARY = "summary", _("Summary")
        EXPORT = "export", _("Export")

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", _("Weekly, on Monday")
        MONTHLY = "monthly", _("Monthly, on the 1st")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscriptions")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.SUMMARY)
    frequency = models.CharField(_("frequency"), max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY)
    filters = models.JSONField(_("filters"), default=dict, blank=True)  # the dashboards' query parameters
    metric = models.CharField(_("report"), max_length=64, blank=True)  # exports: a key of subscriptions.EXPORTS
    format = models.CharField(_("format"), max_length=4, choices=Format.choices, blank=True)
    recipients = models.JSONField(_("addresses"), default=list, blank=True)  # exports: lower-cased addresses
    is_active = models.BooleanField(_("active"), default=True)
    next_run_at = models.DateTimeField(_("next sending"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("last sending"), null=True, blank=True)
    problem = models.CharField(_("problem"), max_length=300, blank=True)  # the last failure, shown on the page
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "pk"]
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        indexes = [models.Index(fields=["is_active", "next_run_at"], name="reports_subscription_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.frequency} ({self.owner_id})"


# --- end of scheduled summaries and exports -----------------------------------------------------------


# --- background ticket exports ------------------------------------------------------------------------


class ExportJob(models.Model):
    """A ticket export too long to stream inline: written to a file by a worker, then downloaded
    by its owner only. ``filters`` holds the queue's filters (``TicketFilters`` as JSON)."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filters = models.JSONField(default=dict)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    rows_done = models.PositiveBigIntegerField(default=0)
    rows_total = models.PositiveBigIntegerField(default=0)
    file = models.CharField(max_length=255, blank=True)  # name in the default storage
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)  # the worker's last sign of life
    attempts = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["owner", "created_at"], name="export_owner"),
            models.Index(fields=["created_at"], name="export_created"),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.format}, {self.state})"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return min(99, self.rows_done * 100 // self.rows_total) if self.rows_total else 0


# --- per-ticket facts (derived from the history; see facts.py) ---------------------------------------


class TicketFacts(models.Model):
    """What the flow figures need to know of one ticket's history, kept by the ``reports`` consumer
    of the event stream: recomputed from the history whenever the ticket has a new event, with the
    same definitions as the live figures (``metrics/flow.py``)."""

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, primary_key=True, related_name="report_facts"
    )
    was_escalated = models.BooleanField(default=False)
    was_reopened = models.BooleanField(default=False)
    public_replies = models.PositiveIntegerField(default=0)  # public replies by agents
    assigned_at = models.DateTimeField(null=True, blank=True)  # first given to its current assignee
    computed_at = models.DateTimeField(default=timezone.now)


class Resolution(models.Model):
    """One resolution of a ticket (a status event to "resolved") and whether the ticket was reopened
    after it: the reopen rate counts these."""

    event_id = models.BigIntegerField(primary_key=True)  # the TicketEvent
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    reopened_after = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["at"], name="reports_resolution_at")]


class StateInterval(models.Model):
    """A stretch of time a ticket spent open and unassigned, or pending a vendor, from its history:
    the backlog's previous values count the intervals that cover the previous period's end."""

    class State(models.TextChoices):
        UNASSIGNED = "unassigned"
        PENDING_VENDOR = "pending_vendor"

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices)
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True)  # None: still so

    class Meta:
        indexes = [models.Index(fields=["state", "start"], name="reports_interval_start")]


class FactsState(models.Model):
    """One row: whether every ticket has its facts (``built``), and how far the backfill of a desk
    that existed before the facts went (tickets with a smaller id are done)."""

    built = models.BooleanField(default=False)
    backfill_next_id = models.BigIntegerField(default=0)
    backfill_until_id = models.BigIntegerField(default=0)  # the last ticket when the backfill began
    updated_at = models.DateTimeField(default=timezone.now)
