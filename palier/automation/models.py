"""Automation: rules (trigger + conditions + actions), their run log, the once-per-period record of
time-based rules, and recurring tickets (docs/automation.md)."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_secret() -> str:
    return secrets.token_hex(24)


class Rule(models.Model):
    """When ``trigger`` happens and the ticket meets ``conditions``, run ``actions`` in order.

    ``conditions`` is ``{"all": [row...], "any": [row...]}`` where a row is
    ``{"field": ..., "op": ..., "value": ...}`` (see ``conditions.py``); ``actions`` is a list of
    ``{"type": ..., ...params}`` (see ``services/actions.py``).
    """

    class Subject(models.TextChoices):
        TICKET = "ticket", _("Tickets")
        PROBLEM = "problem", _("Problems")
        CHANGE = "change", _("Changes")

    class Trigger(models.TextChoices):
        CREATED = "created", _("Ticket created")
        UPDATED = "updated", _("Ticket updated")
        REQUESTER_COMMENT = "requester_comment", _("Requester replied")
        AGENT_COMMENT = "agent_comment", _("Agent replied")
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACH = "sla_breach", _("SLA breach")
        SURVEY = "survey", _("Survey answered")
        TIMER = "timer", _("Status unchanged for a time")
        # problems (docs/automation.md, "Rules on problems and changes")
        PROBLEM_CREATED = "problem_created", _("Problem created")
        PROBLEM_STATUS = "problem_status", _("Problem status changed")
        PROBLEM_INCIDENTS = "problem_incidents", _("Incidents linked to the problem")
        PROBLEM_KNOWN_ERROR = "problem_known_error", _("Known error published")
        PROBLEM_RESOLVED = "problem_resolved", _("Problem resolved")
        # changes
        CHANGE_CREATED = "change_created", _("Change created")
        CHANGE_STATUS = "change_status", _("Change status changed")
        CHANGE_APPROVAL = "change_approval", _("Change approval decided")
        CHANGE_FREEZE = "change_freeze", _("Change scheduled in a freeze")
        CHANGE_START_SOON = "change_start_soon", _("Change starting within hours")

    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("order"), default=0)
    # what the rule watches: tickets (their event stream), problems or changes (their history)
    subject = models.CharField(_("applies to"), max_length=8, choices=Subject.choices, default=Subject.TICKET)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    # "status changed" triggers of problems and changes: the status reached ("" = any)
    to_status = models.CharField(_("to status"), max_length=20, blank=True)
    # time-based trigger: the ticket has been in ``wait_status`` without change for ``wait_hours``
    wait_status = models.CharField(_("status"), max_length=20, blank=True)
    wait_hours = models.PositiveIntegerField(_("hours"), null=True, blank=True)
    wait_business = models.BooleanField(
        _("business hours"),
        default=True,
        help_text=_("Count the hours of the ticket's SLA calendar when it has one (plain hours otherwise)."),
    )
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    actions = models.JSONField(_("actions"), default=list, blank=True)
    secret = models.CharField(_("signing secret"), max_length=64, default=new_secret)
    disabled_reason = models.CharField(_("why it was turned off"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")
        indexes = [models.Index(fields=["is_active", "trigger", "position"], name="automation_rule_active")]

    def __str__(self) -> str:
        return self.name


class RuleRun(models.Model):
    """One rule meeting one ticket: what happened. ``event`` (the ticket event, SLA warnings and
    breaches included) is unique per rule, so a re-delivered event never runs a rule twice. ``first_event_id`` ..
    ``last_event_id`` are the ticket events the run produced (loop protection reads them)."""

    class Outcome(models.TextChoices):
        MATCHED = "matched", _("matched, nothing to do")
        SKIPPED = "skipped", _("skipped")
        FAILED = "failed", _("failed")
        APPLIED = "applied", _("applied")

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey("tickets.TicketEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    trigger = models.CharField(max_length=20, choices=Rule.Trigger.choices)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    detail = models.CharField(max_length=500, blank=True)
    depth = models.PositiveSmallIntegerField(default=1)
    first_event_id = models.BigIntegerField(null=True, blank=True)
    last_event_id = models.BigIntegerField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["rule", "at", "id"], name="automation_run_rule"),
            models.Index(fields=["ticket", "at"], name="automation_run_ticket"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "event"], condition=models.Q(event__isnull=False), name="automation_run_once"
            ),
        ]


class SubjectRun(models.Model):
    """One rule meeting one event of a problem's or a change's history: what happened. Unique
    per (rule, subject, event), and inserted before the actions run in the same transaction, so
    a replayed outbox item never runs a rule twice on one event. ``depth``: how many rule runs led
    to the event (events made by a run carry its depth; chains stop at ``MAX_DEPTH``)."""

    Outcome = RuleRun.Outcome

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="subject_runs")
    subject = models.CharField(max_length=8, choices=Rule.Subject.choices)
    event_id = models.BigIntegerField()  # a ProblemEvent or ChangeEvent id (0 for time-based rules)
    # time-based rules ("starting within N hours"): "<change id>:<planned start>", once each
    period = models.CharField(max_length=60, blank=True, default="")
    problem = models.ForeignKey("problems.Problem", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    change = models.ForeignKey("changes.Change", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    trigger = models.CharField(max_length=20, choices=Rule.Trigger.choices)
    outcome = models.CharField(max_length=8, choices=RuleRun.Outcome.choices)
    detail = models.CharField(max_length=500, blank=True)
    depth = models.PositiveSmallIntegerField(default=1)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["rule", "at", "id"], name="automation_subjectrun_rule")]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject", "event_id", "period"], name="automation_subject_run_once"
            ),
        ]

    @property
    def record(self) -> Any:
        return self.problem if self.subject == Rule.Subject.PROBLEM else self.change


class TimerFiring(models.Model):
    """A time-based rule fired for a ticket in one period (the period starts when the ticket last
    changed, or when it was resolved): never twice for the same period."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    period_start = models.DateTimeField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "ticket", "period_start"], name="automation_timer_once")]


class RecurringTicket(models.Model):
    """A ticket opened on a schedule (a cron expression), e.g. "check the backups every Monday"."""

    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)
    subject = models.CharField(_("subject"), max_length=250)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("type"), max_length=16, default="request")
    category = models.ForeignKey(
        "tickets.Category",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("category"),
    )
    group = models.ForeignKey(
        "people.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("group"),
    )
    impact = models.CharField(_("impact"), max_length=8, default="low")
    urgency = models.CharField(_("urgency"), max_length=8, default="low")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requester")
    )
    schedule = models.CharField(_("schedule (cron)"), max_length=100)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    problem = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("recurring ticket")
        verbose_name_plural = _("recurring tickets")
        indexes = [models.Index(fields=["is_active", "next_run_at"], name="automation_recurring_due")]

    def __str__(self) -> str:
        return self.name
