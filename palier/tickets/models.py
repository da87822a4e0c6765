"""Tickets: incidents and service requests, their comments, attachments, links and history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A node of the category tree, named in French and English."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    slug = models.SlugField(max_length=80, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_fr = models.CharField(_("name (French)"), max_length=120)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_fr if (get_language() or "fr").startswith("fr") else self.name_en


class Level(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class PriorityRule(models.Model):
    """One cell of the impact x urgency matrix; admins may edit the priority of each cell."""

    impact = models.CharField(max_length=8, choices=Level.choices)
    urgency = models.CharField(max_length=8, choices=Level.choices)
    priority = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = _("priority matrix cell")
        constraints = [
            models.UniqueConstraint(fields=["impact", "urgency"], name="priority_cell_unique"),
            models.CheckConstraint(condition=models.Q(priority__gte=1, priority__lte=4), name="priority_1_4"),
        ]


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TicketCounter(models.Model):
    """The last number handed out per ticket kind; incremented under a row lock."""

    kind = models.CharField(max_length=16, primary_key=True)
    last = models.PositiveBigIntegerField(default=0)


class Ticket(models.Model):
    class Kind(models.TextChoices):
        INCIDENT = "incident", _("Incident")
        REQUEST = "request", _("Service request")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        ASSIGNED = "assigned", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        PENDING_REQUESTER = "pending_requester", _("Pending requester")
        PENDING_VENDOR = "pending_vendor", _("Pending vendor")
        PENDING_CHANGE = "pending_change", _("Pending change")
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    class Channel(models.TextChoices):
        WEB = "web", _("Web")
        EMAIL = "email", _("Email")
        TEAMS = "teams", _("Microsoft Teams")
        SLACK = "slack", _("Slack")
        PHONE = "phone", _("Phone")
        API = "api", _("API")
        MONITORING = "monitoring", _("Monitoring")

    PREFIXES = {"incident": "INC", "request": "REQ"}
    OPEN_STATUSES = (
        Status.NEW,
        Status.ASSIGNED,
        Status.IN_PROGRESS,
        Status.PENDING_REQUESTER,
        Status.PENDING_VENDOR,
        Status.PENDING_CHANGE,
        Status.PENDING_APPROVAL,
    )

    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.INCIDENT)
    number = models.PositiveBigIntegerField(_("number"))
    subject = models.CharField(_("subject"), max_length=250)
    description = models.TextField(_("description"), blank=True)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_tickets")
    organisation = models.ForeignKey(
        "people.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets")
    impact = models.CharField(_("impact"), max_length=8, choices=Level.choices, default=Level.LOW)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Level.choices, default=Level.LOW)
    priority = models.PositiveSmallIntegerField(_("priority"), default=4)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    group = models.ForeignKey(
        "people.SupportGroup", null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_tickets"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.WEB)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    watchers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="watched_tickets")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    vendor_reference = models.CharField(_("vendor reference"), max_length=100, blank=True)
    resolved_level = models.PositiveSmallIntegerField(_("resolved at level"), null=True, blank=True)
    # the earliest running SLA due time, kept by the SLA engine for the queue's "SLA due" sort
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True)
    # a duplicate merged into another ticket (closed; replies by email land in that one)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_tickets", db_index=False
    )
    merged_at = models.DateTimeField(_("merged"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="ticket_number_unique"),
            models.CheckConstraint(condition=models.Q(priority__gte=1, priority__lte=4), name="ticket_priority_1_4"),
        ]
        indexes = [
            # agent queues: group + status, by priority then age (the default queue order)
            models.Index(fields=["group", "status", "priority", "created_at", "id"], name="ticket_queue"),
            models.Index(fields=["group", "status", "updated_at", "id"], name="ticket_group_updated"),
            models.Index(fields=["assignee", "status", "priority", "created_at", "id"], name="ticket_assignee"),
            models.Index(fields=["requester", "created_at", "id"], name="ticket_requester"),
            models.Index(fields=["organisation", "created_at", "id"], name="ticket_org"),
            models.Index(fields=["status", "priority", "created_at", "id"], name="ticket_status"),
            models.Index(fields=["created_at", "id"], name="ticket_created"),
            # the few merged tickets: a survivor's duplicates (partial: most tickets are never merged)
            models.Index(
                fields=["merged_into", "merged_at"],
                name="ticket_merged_into",
                condition=models.Q(merged_into__isnull=False),
            ),
            models.Index(fields=["updated_at", "id"], name="ticket_updated"),
            models.Index(fields=["category", "created_at"], name="ticket_category"),
            models.Index(fields=["status", "resolved_at"], name="ticket_resolved"),
            # time-based automation rules: "pending requester with no change for 72 hours"
            models.Index(fields=["status", "updated_at", "id"], name="ticket_status_updated"),
            models.Index(fields=["group", "status", "sla_due_at", "id"], name="ticket_group_sla"),
            models.Index(fields=["assignee", "status", "sla_due_at", "id"], name="ticket_assignee_sla"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        return f"{self.PREFIXES.get(self.kind, 'TKT')}-{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.version}"'


class Comment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("message"))
    is_internal = models.BooleanField(_("internal note"), default=False)
    channel = models.CharField(max_length=16, choices=Ticket.Channel.choices, default=Ticket.Channel.WEB)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="comment_ticket")]


class ScanStatus(models.TextChoices):
    """The antivirus verdict recorded on a stored file (``lib/antivirus.py``); kb files use it too."""

    UNSCANNED = "unscanned", _("not scanned")
    CLEAN = "clean", _("no virus found")
    INFECTED = "infected", _("virus found, quarantined")


class Attachment(models.Model):
    Scan = ScanStatus

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    is_internal = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # an infected file's bytes are never stored (mail keeps them in the raw message): ``file`` is empty
    scan_status = models.CharField(max_length=12, choices=ScanStatus.choices, default=ScanStatus.UNSCANNED)
    scan_signature = models.CharField(max_length=200, blank=True)
    scanned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="attachment_ticket")]

    @property
    def is_infected(self) -> bool:
        return self.scan_status == ScanStatus.INFECTED


class TicketLink(models.Model):
    class Kind(models.TextChoices):
        PARENT = "parent", _("is parent of")
        RELATED = "related", _("is related to")
        DUPLICATE = "duplicate", _("is a duplicate of")

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="ticket_link_unique"),
            models.CheckConstraint(condition=~models.Q(source=models.F("target")), name="ticket_link_not_self"),
        ]


class TicketEvent(models.Model):
    """One immutable fact about a ticket: who did what, when, old -> new. Never updated.

    ``key`` is set only on events that must happen once whatever the workers do (an SLA warning or
    breach is ``sla:<clock>:<warning|breach>:<generation>``): a unique index makes a second insert a
    no-op, so the writer acts only on the rows it inserted.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("created the ticket")
        CHANGED = "changed", _("changed")
        STATUS = "status", _("changed the status")
        COMMENTED = "commented", _("replied")
        NOTED = "noted", _("added an internal note")
        ATTACHED = "attached", _("attached a file")
        LINKED = "linked", _("linked a ticket")
        UNLINKED = "unlinked", _("removed a link")
        WATCHED = "watched", _("added a watcher")
        UNWATCHED = "unwatched", _("removed a watcher")
        ROUTED = "routed", _("routed the ticket")
        ESCALATED = "escalated", _("escalated the ticket")
        DEESCALATED = "deescalated", _("de-escalated the ticket")
        VENDOR = "vendor", _("sent the ticket to the vendor")
        APPROVAL = "approval", _("recorded an approval decision")
        TASK = "task", _("updated a fulfilment task")
        RULE = "rule", _("applied an automation rule")
        SURVEY = "survey", _("rated the service")
        CALL = "call", _("logged a phone call")
        MAILED = "mailed", _("sent an email")
        TIME = "time", _("logged time")
        TIME_LOGGED = "time_logged", _("logged time")
        TIME_CHANGED = "time_changed", _("changed logged time")
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACH = "sla_breach", _("SLA breach")
        PROBLEM = "problem", _("linked to a problem")
        MAJOR = "major", _("major incident")
        CHANGE = "change", _("linked to a change")
        MERGED = "merged", _("merged tickets into this one")
        MERGED_INTO = "merged_into", _("merged the ticket into another")
        UNMERGED = "unmerged", _("undid a merge")
        SPLIT = "split", _("split a ticket")
        WORKTASK = "worktask", _("updated a task")
        FOLLOWUP = "followup", _("scheduled a follow-up")

    # written by the SLA sweep, internal; the SLA timeline shows them, the ticket timeline does not
    SLA_KINDS = (Kind.SLA_WARNING, Kind.SLA_BREACH)

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_internal = models.BooleanField(default=False)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    key = models.CharField(max_length=100, null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="event_ticket"),
            models.Index(fields=["created_at", "id"], name="event_stream"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=models.Q(key__isnull=False), name="event_once"),
        ]


class IdempotencyKey(models.Model):
    """Remembers the ticket an API client created with a given Idempotency-Key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")]


class SearchEntry(models.Model):
    """Normalised text of a ticket (subject + description) or of one comment, for full-text search.

    SQLite indexes it with an FTS5 table kept in sync by triggers; PostgreSQL with a GIN index
    over ``to_tsvector('simple', text)``. See ``tickets/search.py``.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    comment = models.OneToOneField(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    is_internal = models.BooleanField(default=False)
    text = models.TextField()

    class Meta:
        indexes = [models.Index(fields=["ticket"], name="search_ticket")]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=models.Q(comment__isnull=True), name="search_one_per_ticket"
            )
        ]


class SavedFilter(models.Model):
    """A personal queue view of the agent workspace: a name and the queue's query string."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters")
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("query"), max_length=1000, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        indexes = [models.Index(fields=["user", "position", "id"], name="saved_filter_user")]

    def __str__(self) -> str:
        return self.name


class TicketViewer(models.Model):
    """Presence: who had a ticket page open, last seen when (upserted by the page's poll)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="ticket_viewer_unique")]
        indexes = [models.Index(fields=["ticket", "last_seen"], name="ticket_viewer_recent")]


class TimeEntry(models.Model):
    """Time an agent spent on a ticket (a logged phone call, work noted by hand)."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Work")
        CALL = "call", _("Phone call")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="time_entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    minutes = models.PositiveIntegerField(_("minutes"))
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.MANUAL)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        indexes = [models.Index(fields=["ticket", "created_at"], name="time_entry_ticket")]
        constraints = [models.CheckConstraint(condition=models.Q(minutes__gt=0), name="time_entry_positive")]


class StreamCursor(models.Model):
    """How far one consumer of the ticket event stream has read (see ``palier.tickets.stream``)."""

    name = models.CharField(max_length=64, unique=True)
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    # PostgreSQL: when the consumer first stopped at a gap after ``position``, the snapshot's xmax
    # (every transaction that could hold the gap's id is below it) and the highest id then read
    gap_xmax = models.BigIntegerField(null=True, blank=True)
    gap_seen_upto = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("event stream cursor")
        verbose_name_plural = _("event stream cursors")

    def __str__(self) -> str:
        return f"{self.name}@{self.position}"


class StreamSignal(models.Model):
    """One row: set when events were committed and a pump job is queued, so that many ticket
    changes queue one pump job rather than one each."""

    pending = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)


class ReplyDraft(models.Model):
    """An agent's unsent reply on a ticket, saved as they type and restored when they come back.

    One per agent and ticket; only its author reads or writes it; deleted when the reply is sent
    or the text emptied. Not history: no event, no version bump."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField()
    is_internal = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "ticket"], name="reply_draft_unique")]
