"""Service levels: business calendars, SLA policies, the per-ticket clocks and their timeline.

The engine itself lives in ``services/``; ``palier/lib/businesstime.py`` holds the pure business-time arithmetic.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_PAUSE_STATUSES = ["pending_requester", "pending_vendor"]


def _default_pause_statuses() -> list[str]:
    return list(DEFAULT_PAUSE_STATUSES)


class Calendar(models.Model):
    """When the desk works: weekly business hours in a time zone, minus public and custom holidays.

    ``hours`` maps a weekday ("0" is Monday) to its ``[["09:00", "12:00"], ["13:30", "18:00"]]``
    intervals ("24:00" closes at midnight). ``always_open`` (24/7) ignores hours and holidays.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    always_open = models.BooleanField(_("open 24/7"), default=False)
    hours = models.JSONField(_("business hours"), default=dict, blank=True)
    holiday_country = models.CharField(_("public holidays of country"), max_length=8, blank=True)
    holiday_subdivision = models.CharField(_("subdivision"), max_length=40, blank=True)
    is_default = models.BooleanField(_("default calendar"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # bumped by every change (custom dates included): the key of the in-process calendar cache
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True), name="sla_one_default")
        ]

    def __str__(self) -> str:
        return self.name


class CalendarHoliday(models.Model):
    """A custom closed day of one calendar (a company holiday, a bridge day)."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="custom_holidays")
    date = models.DateField(_("date"))
    label = models.CharField(_("label"), max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="sla_holiday_unique")]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.label}".strip()


class SlaPolicy(models.Model):
    """Targets for the tickets its conditions match (empty condition = any); first match by position wins.

    ``warning_actions`` and ``breach_actions`` are lists of ``{"action": name}`` dicts, where name
    is one of :class:`Action`; ``escalate_group`` carries ``"group": id`` and ``escalate_level``
    ``"level": 1..5``.
    """

    class Action(models.TextChoices):
        NOTIFY_ASSIGNEE = "notify_assignee", _("Notify the assignee")
        NOTIFY_GROUP = "notify_group", _("Notify the group")
        NOTIFY_MANAGER = "notify_manager", _("Notify the group's manager")
        RAISE_PRIORITY = "raise_priority", _("Raise the priority")
        ESCALATE_GROUP = "escalate_group", _("Escalate to a group")
        ESCALATE_LEVEL = "escalate_level", _("Escalate to a level")

    name = models.CharField(_("name"), max_length=120, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    priorities = models.JSONField(_("priorities"), default=list, blank=True)
    kinds = models.JSONField(_("ticket types"), default=list, blank=True)
    categories = models.ManyToManyField("tickets.Category", blank=True, related_name="+", verbose_name=_("categories"))
    organisations = models.ManyToManyField(
        "people.Organisation", blank=True, related_name="+", verbose_name=_("organisations")
    )
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="policies")
    first_response_minutes = models.PositiveIntegerField(_("first response (business minutes)"))
    next_response_minutes = models.PositiveIntegerField(_("next response (business minutes)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution (business minutes)"))
    pause_statuses = models.JSONField(_("clock pauses in"), default=_default_pause_statuses, blank=True)
    warn_percent = models.PositiveSmallIntegerField(_("warning at (percent of the target)"), default=75)
    warning_actions = models.JSONField(_("warning actions"), default=list, blank=True)
    breach_actions = models.JSONField(_("breach actions"), default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # the highest criticality of the business services the ticket's linked assets support
    # (docs/assets.md, "Rules and SLAs on assets"); empty: any
    criticalities = models.JSONField(_("business service criticality"), default=list, blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


class Clock(models.Model):
    """One measure of one ticket against one target, in business minutes of ``calendar``.

    Running: ``resumed_at`` is the start of the current run and ``consumed_minutes`` what earlier
    runs used. Paused: ``paused_at`` set. Stopped: ``stopped_at`` and (except on cancel) ``outcome``.
    ``next_event_at`` is the next warning or breach instant, NULL when nothing more is due; the
    sweep only reads rows where it is set (partial index).
    """

    class Kind(models.TextChoices):
        RESPONSE = "response", _("First response")
        NEXT_RESPONSE = "next_response", _("Next response")
        RESOLUTION = "resolution", _("Resolution")
        GROUP = "group", _("Group target")
        VENDOR_RESPONSE = "vendor_response", _("Vendor response")
        VENDOR_RESOLUTION = "vendor_resolution", _("Vendor resolution")

    class Outcome(models.TextChoices):
        MET = "met", _("Met")
        MISSED = "missed", _("Missed")

    CUSTOMER_KINDS = (Kind.RESPONSE, Kind.NEXT_RESPONSE, Kind.RESOLUTION)
    VENDOR_KINDS = (Kind.VENDOR_RESPONSE, Kind.VENDOR_RESOLUTION)

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_clocks")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    group = models.ForeignKey("people.SupportGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    calendar = models.ForeignKey(Calendar, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_minutes = models.PositiveIntegerField()
    warn_percent = models.PositiveSmallIntegerField(default=75)
    started_at = models.DateTimeField()
    resumed_at = models.DateTimeField()
    consumed_minutes = models.FloatField(default=0.0)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_status = models.CharField(max_length=20, blank=True)
    # business minutes spent paused, per status: explains a breach ("3 h in pending vendor excluded")
    paused_minutes = models.JSONField(default=dict, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    next_event_at = models.DateTimeField(null=True, blank=True)
    generation = models.PositiveIntegerField(default=1)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        indexes = [
            # the sweep: only clocks with something still to fire are in this index
            models.Index(
                fields=["next_event_at"], name="sla_clock_due", condition=models.Q(next_event_at__isnull=False)
            ),
            models.Index(fields=["ticket", "kind"], name="sla_clock_ticket"),
            models.Index(fields=["kind", "outcome", "stopped_at"], name="sla_clock_report"),
        ]
        constraints = [
            # at most one running (or paused) clock of each kind per ticket: starting twice is a no-op
            models.UniqueConstraint(
                fields=["ticket", "kind"], condition=models.Q(stopped_at__isnull=True), name="sla_one_running_clock"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.ticket_id}"

    @property
    def is_running(self) -> bool:
        return self.stopped_at is None and self.paused_at is None


class SlaEvent(models.Model):
    """The SLA timeline of a ticket (append-only): why each due time is what it is.

    Warnings and breaches are not here: the sweep appends them to the ticket's history as
    ``TicketEvent`` rows (kinds ``sla_warning`` and ``sla_breach``), so the event stream's consumers
    read them; ``selectors.timeline`` merges both. What stays here is the engine's own bookkeeping
    of each clock (started, paused, resumed, re-targeted, met, missed, stopped, problems), written
    inside every ticket change for each of its clocks and read only by the SLA timeline.
    """

    class Kind(models.TextChoices):
        STARTED = "started", _("started")
        PAUSED = "paused", _("paused")
        RESUMED = "resumed", _("resumed")
        TARGET_CHANGED = "target_changed", _("target changed")
        POLICY_CHANGED = "policy_changed", _("policy changed")
        MET = "met", _("met")
        MISSED = "missed", _("missed")
        STOPPED = "stopped", _("stopped")
        PROBLEM = "problem", _("problem")

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_events")
    clock = models.ForeignKey(Clock, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    generation = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="sla_event_ticket")]
