"""Requests for change (docs/changes.md): standard, normal and emergency changes, their risk, the
change advisory board's approvals (the catalog's approval engine), the calendar with its
conflicts, freeze windows and maintenance windows, and the review after implementation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palier.assets.models import Asset
from palier.catalog.models import pick
from palier.people.models import SupportGroup
from palier.problems.models import ImmutableEvent, Problem
from palier.tickets.models import Level, Ticket

CHANGE_PREFIX = "CHG"


class Risk(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


RISK_ORDER: tuple[str, ...] = (Risk.LOW, Risk.MEDIUM, Risk.HIGH, Risk.CRITICAL)


class ChangeSettings(models.Model):
    """One row (pk 1): the risk score thresholds and the approval reminders."""

    medium_from = models.PositiveSmallIntegerField(_("medium risk from score"), default=4)
    high_from = models.PositiveSmallIntegerField(_("high risk from score"), default=8)
    critical_from = models.PositiveSmallIntegerField(_("critical risk from score"), default=12)
    remind_after_hours = models.PositiveSmallIntegerField(
        _("remind approvers after (hours)"), default=24, help_text=_("0: no reminder.")
    )

    @classmethod
    def current(cls) -> ChangeSettings:
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class RiskQuestion(models.Model):
    """One question of the risk assessment; each answer carries a score, the sum gives the risk."""

    order = models.PositiveIntegerField(_("order"), default=0)
    text_fr = models.CharField(_("question (French)"), max_length=300)
    text_en = models.CharField(_("question (English)"), max_length=300)
    # [{"value": "yes", "fr": "Oui", "en": "Yes", "score": 3}, …]
    choices = models.JSONField(_("answers"), default=list)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "id"]

    @property
    def text(self) -> str:
        return pick(self.text_fr, self.text_en)


class ChangeTemplate(models.Model):
    """A pre-approved standard change: raised from it, a change needs no approval."""

    name_fr = models.CharField(_("name (French)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    implementation_plan = models.TextField(_("implementation plan"), blank=True)
    backout_plan = models.TextField(_("back-out plan"), blank=True)
    test_plan = models.TextField(_("test plan"), blank=True)
    risk = models.CharField(_("risk"), max_length=8, choices=Risk.choices, default=Risk.LOW)
    group = models.ForeignKey(
        SupportGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("group")
    )
    duration_minutes = models.PositiveIntegerField(_("usual duration (minutes)"), default=60)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name_en", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return pick(self.name_fr, self.name_en)


class ChangeBoard(models.Model):
    """A change advisory board: the members of a support group, deciding by a rule."""

    class Rule(models.TextChoices):
        ANY = "any", _("Any one member")
        ALL = "all", _("All members")
        QUORUM = "quorum", _("A quorum of members")

    name = models.CharField(_("name"), max_length=120)
    group = models.ForeignKey(SupportGroup, on_delete=models.PROTECT, related_name="+", verbose_name=_("members"))
    rule = models.CharField(_("rule"), max_length=8, choices=Rule.choices, default=Rule.ANY)
    quorum = models.PositiveSmallIntegerField(_("quorum"), null=True, blank=True)
    is_emergency = models.BooleanField(_("emergency board"), default=False)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ChangeApprovalStage(models.Model):
    """One stage of the approval path of normal or emergency changes, in order; a stage with a
    minimum risk applies only to changes at that risk or above."""

    class Path(models.TextChoices):
        NORMAL = "normal", _("Normal changes")
        EMERGENCY = "emergency", _("Emergency changes")

    path = models.CharField(_("changes"), max_length=12, choices=Path.choices)
    order = models.PositiveIntegerField(_("order"), default=0)
    board = models.ForeignKey(ChangeBoard, on_delete=models.PROTECT, related_name="stages", verbose_name=_("board"))
    min_risk = models.CharField(_("from risk"), max_length=8, choices=Risk.choices, default=Risk.LOW)

    class Meta:
        ordering = ["path", "order", "id"]


class Change(models.Model):
    class Kind(models.TextChoices):
        STANDARD = "standard", _("Standard")
        NORMAL = "normal", _("Normal")
        EMERGENCY = "emergency", _("Emergency")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ASSESSMENT = "assessment", _("Assessment")
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SCHEDULED = "scheduled", _("Scheduled")
        IMPLEMENTING = "implementing", _("Implementing")
        REVIEW = "review", _("Review")
        CLOSED = "closed", _("Closed")

    class Outcome(models.TextChoices):
        SUCCESSFUL = "successful", _("Successful")
        FAILED = "failed", _("Failed")
        ROLLED_BACK = "rolled_back", _("Rolled back")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.PositiveBigIntegerField(_("number"), unique=True)
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices, default=Kind.NORMAL)
    template = models.ForeignKey(
        ChangeTemplate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
        verbose_name=_("template"),
    )
    title = models.CharField(_("title"), max_length=250)
    description = models.TextField(_("description"), blank=True)
    reason = models.TextField(_("reason"), blank=True)
    impact = models.CharField(_("impact"), max_length=8, choices=Level.choices, default=Level.MEDIUM)
    risk = models.CharField(_("risk"), max_length=8, choices=Risk.choices, default=Risk.LOW)
    risk_score = models.PositiveSmallIntegerField(_("risk score"), default=0)
    # {"<question id>": "<answer value>"} as assessed
    risk_answers = models.JSONField(default=dict, blank=True)
    implementation_plan = models.TextField(_("implementation plan"), blank=True)
    backout_plan = models.TextField(_("back-out plan"), blank=True)
    test_plan = models.TextField(_("test plan"), blank=True)
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True)
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    group = models.ForeignKey(
        SupportGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="changes", verbose_name=_("group")
    )
    implementer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="implemented_changes",
        verbose_name=_("implementer"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="requested_changes"
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    # the post-implementation review
    review_notes = models.TextField(_("review"), blank=True)
    lessons = models.TextField(_("lessons learned"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    search_text = models.TextField(blank=True, default="")
    watchers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="watched_changes")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["planned_start", "planned_end"], name="change_window"),
            models.Index(fields=["status", "-id"], name="change_status"),
            models.Index(fields=["group", "status"], name="change_group_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_start__isnull=True)
                | models.Q(planned_end__isnull=True)
                | models.Q(planned_end__gt=models.F("planned_start")),
                name="change_window_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"{CHANGE_PREFIX}-{self.number}"


class ChangeAsset(models.Model):
    """An asset or business service the change touches directly."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="asset_links")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="change_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["change", "asset"], name="change_asset_unique")]
        indexes = [models.Index(fields=["asset", "change"], name="change_asset_by_asset")]


class ChangeFootprint(models.Model):
    """Every asset a change touches, directly or through the relationships (what depends on the
    assets it names), with the change's planned window copied: the calendar finds conflicts by
    one indexed self-join on this table (changes/conflicts.py)."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="footprint")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+")
    direct = models.BooleanField(default=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["change", "asset"], name="change_footprint_unique")]
        indexes = [models.Index(fields=["asset", "starts_at", "ends_at"], name="change_footprint_window")]


class ChangeTicket(models.Model):
    """An incident related to the change, or caused by it (counted in the review and reports)."""

    class Relation(models.TextChoices):
        RELATED = "related", _("Related")
        CAUSED = "caused", _("Caused by the change")

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="change_links")
    relation = models.CharField(max_length=8, choices=Relation.choices, default=Relation.RELATED)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["change", "ticket"], name="change_ticket_unique")]
        indexes = [models.Index(fields=["ticket"], name="change_ticket_by_ticket")]


class ChangeProblem(models.Model):
    """A problem the change fixes (its permanent fix), or one it created when it failed."""

    class Relation(models.TextChoices):
        FIXES = "fixes", _("Fixes the problem")
        CAUSED = "caused", _("Caused the problem")

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="problem_links")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="change_links")
    relation = models.CharField(max_length=8, choices=Relation.choices, default=Relation.FIXES)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["change", "problem"], name="change_problem_unique")]


class ChangeEvent(ImmutableEvent):
    """One fact in a change's history. Only ``history.py`` writes."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created the change")
        CHANGED = "changed", _("changed")
        STATUS = "status", _("changed the status")
        RISK = "risk", _("assessed the risk")
        APPROVAL = "approval", _("approval")
        LINKED = "linked", _("linked")
        UNLINKED = "unlinked", _("removed a link")
        COMMENT = "comment", _("commented")
        REVIEWED = "reviewed", _("reviewed the change")

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["change", "at", "id"], name="change_event_timeline")]


class ChangeComment(models.Model):
    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class FreezeWindow(models.Model):
    """A period when no change may be implemented (end of the fiscal year, say). Freeze windows
    never overlap."""

    name = models.CharField(_("name"), max_length=150)
    reason = models.TextField(_("reason"), blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="freeze_window")]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="freeze_window_order"),
        ]

    def __str__(self) -> str:
        return self.name


class MaintenanceWindow(models.Model):
    """A weekly slot when a business service may be changed (e.g. Sunday 02:00–06:00), in the
    desk's time zone unless one is given."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    service = models.ForeignKey(
        Asset, on_delete=models.CASCADE, related_name="maintenance_windows", verbose_name=_("service")
    )
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("to"))
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    class Meta:
        ordering = ["service", "weekday", "start_time"]


class ChangeIdempotencyKey(models.Model):
    """The change an API client created with a given Idempotency-Key: a retry gets it back."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="change_idempotency_key_unique")]


class CalendarFeedKey(models.Model):
    """The generation of a person's calendar feed links (``changes/feeds.py``): the links carry
    it, and regenerating the links raises it, so every older link stops working."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    generation = models.PositiveIntegerField(default=1)


class FreezeIdempotencyKey(models.Model):
    """The freeze window an API client created with a given Idempotency-Key: a retry gets it back."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    freeze = models.ForeignKey(FreezeWindow, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="freeze_idempotency_key_unique")]
