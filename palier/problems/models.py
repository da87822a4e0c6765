"""Problems and known errors, and major incidents (docs/problems.md).

A problem is the cause behind one or more incidents; once its root cause and a workaround are
known it is a *known error*, which agents find and apply on new incidents. A major incident is an
incident declared major: one page, one status note for the people affected, the incidents
reporting the same outage attached to it, and a review afterwards.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palier.assets.models import Asset
from palier.kb.models import Article
from palier.people.models import SupportGroup
from palier.tickets.models import Category, Level, Ticket

PROBLEM_PREFIX = "PRB"


class ImmutableEvent(models.Model):
    """Base of the history rows: written once, never updated."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("history events are immutable")
        super().save(*args, **kwargs)


class ProblemSettings(models.Model):
    """One row (pk 1): when repeated incidents become a problem candidate."""

    candidate_incidents = models.PositiveSmallIntegerField(
        _("incidents"), default=5, help_text=_("How many incidents on one asset, service or category make a candidate.")
    )
    candidate_days = models.PositiveSmallIntegerField(_("days"), default=14, help_text=_("Within how many days."))
    rising_factor = models.DecimalField(
        _("rising factor"),
        max_digits=4,
        decimal_places=1,
        default=2,
        help_text=_("A category is rising when it has this many times the incidents of the period before."),
    )

    @classmethod
    def current(cls) -> ProblemSettings:
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class Problem(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        INVESTIGATING = "investigating", _("Investigating")
        ROOT_CAUSE_KNOWN = "root_cause_known", _("Root cause known")
        KNOWN_ERROR = "known_error", _("Known error")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    number = models.PositiveBigIntegerField(_("number"), unique=True)
    title = models.CharField(_("title"), max_length=250)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="problems", verbose_name=_("category")
    )
    impact = models.CharField(_("impact"), max_length=8, choices=Level.choices, default=Level.MEDIUM)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Level.choices, default=Level.MEDIUM)
    priority = models.PositiveSmallIntegerField(_("priority"), default=3)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    group = models.ForeignKey(
        SupportGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="problems", verbose_name=_("group")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_problems",
        verbose_name=_("owner"),
    )
    root_cause = models.TextField(_("root cause"), blank=True)
    workaround = models.TextField(_("workaround"), blank=True)
    permanent_fix = models.TextField(_("permanent fix"), blank=True)
    # optional targets, set by the problem manager (no business-time clocks for problems)
    respond_by = models.DateTimeField(_("investigate by"), null=True, blank=True)
    resolve_by = models.DateTimeField(_("resolve by"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    known_error_at = models.DateTimeField(_("known error since"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # the normalised words of title, description, root cause and workaround (problems/search.py)
    search_text = models.TextField(blank=True, default="")
    watchers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="watched_problems")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "-id"], name="problem_status"),
            models.Index(fields=["group", "status"], name="problem_group_status"),
            models.Index(fields=["category", "status"], name="problem_category_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(priority__gte=1, priority__lte=4), name="problem_priority_1_4"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"{PROBLEM_PREFIX}-{self.number}"

    @property
    def has_workaround(self) -> bool:
        return bool(self.workaround.strip())

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.RESOLVED, self.Status.CLOSED)


class ProblemIncident(models.Model):
    """An incident caused by a problem. An incident has at most one problem."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="incident_links")
    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="problem_link")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)
    # set when a workaround of the problem was applied to this incident (a reply was sent)
    workaround_applied_at = models.DateTimeField(null=True, blank=True)
    # set when resolving the problem told this incident's requester (exactly once)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["problem", "-linked_at"], name="problem_incident_recent")]


class ProblemAsset(models.Model):
    """An asset or business service the problem affects."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="asset_links")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="problem_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["problem", "asset"], name="problem_asset_unique")]
        indexes = [models.Index(fields=["asset", "problem"], name="problem_asset_by_asset")]


class ProblemArticle(models.Model):
    """A knowledge-base article about the problem (its workaround written up, say)."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="article_links")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="problem_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["problem", "article"], name="problem_article_unique")]


class ProblemEvent(ImmutableEvent):
    """One fact in a problem's history: who did what, when, old → new. Only ``history.py`` writes."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created the problem")
        CHANGED = "changed", _("changed")
        STATUS = "status", _("changed the status")
        INCIDENT_LINKED = "incident_linked", _("linked incidents")
        INCIDENT_UNLINKED = "incident_unlinked", _("removed an incident")
        ASSET_LINKED = "asset_linked", _("linked an asset")
        ASSET_UNLINKED = "asset_unlinked", _("removed an asset")
        ARTICLE_LINKED = "article_linked", _("linked an article")
        ARTICLE_UNLINKED = "article_unlinked", _("removed an article")
        CHANGE_LINKED = "change_linked", _("linked a change")
        COMMENT = "comment", _("commented")
        ATTACHED = "attached", _("attached a file")
        WATCHER = "watcher", _("changed the watchers")
        WORKAROUND_APPLIED = "workaround_applied", _("applied the workaround")
        INCIDENTS_RESOLVED = "incidents_resolved", _("resolved the incidents")

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["problem", "at", "id"], name="problem_event_timeline")]


class ProblemComment(models.Model):
    """A comment on a problem: internal (agents only) or public (shown with the incidents)."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    internal = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["problem", "created_at"], name="problem_comment_order")]


def problem_file_path(instance: ProblemAttachment, filename: str) -> str:
    return f"problems/{instance.problem_id}/{timezone.now():%Y%m}/{filename}"


class ProblemAttachment(models.Model):
    """A log, a screenshot, a vendor's analysis attached to a problem (checked by ``lib/files.py``)."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=problem_file_path, max_length=300)
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    content_type = models.CharField(max_length=120, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)


# --- major incidents -----------------------------------------------------------------------------


class MajorIncident(models.Model):
    """An incident declared major. The ticket stays the place where the work is done; this row
    holds what the outage needs besides: the public status note, the people told, the incidents
    attached to it, the communication log and the review."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Ongoing")
        RESOLVED = "resolved", _("Resolved")

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="major_incident")
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.ACTIVE)
    # the public headline and status note, as people affected read them on the portal and by email
    headline = models.CharField(_("headline"), max_length=200)
    status_note = models.TextField(_("status note"), blank=True)
    published = models.BooleanField(_("shown on the portal"), default=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("declared by")
    )
    declared_at = models.DateTimeField(_("declared"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    note_updated_at = models.DateTimeField(_("status note updated"), default=timezone.now)
    # the post-incident review
    review_summary = models.TextField(_("what happened"), blank=True)
    review_impact = models.TextField(_("impact"), blank=True)
    review_root_cause = models.TextField(_("root cause"), blank=True)
    review_actions = models.TextField(_("follow-up actions"), blank=True)
    review_lessons = models.TextField(_("lessons learned"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    # normalised words of the headline and status note, for the portal's "known outage" matching
    search_text = models.TextField(blank=True, default="")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-declared_at", "-id"]
        indexes = [models.Index(fields=["state", "published"], name="major_incident_live")]


class MajorIncidentLink(models.Model):
    """An incident reporting the same outage, attached to the major incident."""

    major = models.ForeignKey(MajorIncident, on_delete=models.CASCADE, related_name="incident_links")
    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="major_link")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)


class MajorIncidentSubscriber(models.Model):
    """Someone who asked to be told about the outage (or was affected: the requesters of the
    attached incidents are subscribed when they attach)."""

    major = models.ForeignKey(MajorIncident, on_delete=models.CASCADE, related_name="subscribers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    subscribed_at = models.DateTimeField(default=timezone.now)
    # set when the person said "I am affected too" on the portal (no ticket is opened)
    affected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["major", "user"], name="major_subscriber_unique")]


class MajorIncidentUpdate(ImmutableEvent):
    """The communication log: each status note published, each message sent, each internal
    coordination note, with how many people it reached."""

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Portal status note")
        EMAIL = "email", _("Email to subscribers")
        INTERNAL = "internal", _("Internal note")

    major = models.ForeignKey(MajorIncident, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=12, choices=Channel.choices)
    message = models.TextField()
    recipients = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]


class ProblemIdempotencyKey(models.Model):
    """The problem an API client created with a given Idempotency-Key: a retry gets it back."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="problem_idempotency_key_unique")]
