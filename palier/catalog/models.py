"""Service catalog: categories and items with their typed form fields, approval stages and
fulfilment task templates; per request, the submitted answers, the approval steps and decisions,
and the fulfilment tasks (child tickets)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from palier.people.models import Organisation, SupportGroup
from palier.tickets.models import Category, Level, Ticket


def pick(fr: str, en: str) -> str:
    """The text in the active language, falling back to the other one."""
    if (get_language() or "fr").startswith("en"):
        return en or fr
    return fr or en


class CatalogCategory(models.Model):
    name_fr = models.CharField(_("name (French)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("catalog category")
        verbose_name_plural = _("catalog categories")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return pick(self.name_fr, self.name_en)


class CatalogItem(models.Model):
    class Visibility(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        ORGANISATIONS = "organisations", _("Some organisations")
        GROUPS = "groups", _("Members of some groups")

    class Fulfilment(models.TextChoices):
        SEQUENTIAL = "sequential", _("One task after the other")
        PARALLEL = "parallel", _("All tasks at once")

    slug = models.SlugField(_("short name"), max_length=80, unique=True)
    name_fr = models.CharField(_("name (French)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150)
    description_fr = models.TextField(_("description (French)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    category = models.ForeignKey(
        CatalogCategory,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
        verbose_name=_("category"),
    )
    icon = models.CharField(_("icon"), max_length=16, blank=True, help_text=_("An emoji shown beside the name."))
    is_active = models.BooleanField(_("active"), default=True)
    visibility = models.CharField(
        _("visible to"), max_length=16, choices=Visibility.choices, default=Visibility.EVERYONE
    )
    organisations = models.ManyToManyField(Organisation, blank=True, related_name="+", verbose_name=_("organisations"))
    groups = models.ManyToManyField(SupportGroup, blank=True, related_name="+", verbose_name=_("groups"))
    target_group = models.ForeignKey(
        SupportGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("group handling the requests"),
        help_text=_("Empty: the routing rules place the request."),
    )
    ticket_category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("ticket category")
    )
    impact = models.CharField(_("impact"), max_length=8, choices=Level.choices, default=Level.LOW)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Level.choices, default=Level.LOW)
    fulfilment = models.CharField(
        _("fulfilment tasks"), max_length=16, choices=Fulfilment.choices, default=Fulfilment.SEQUENTIAL
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    remind_after_hours = models.PositiveSmallIntegerField(
        _("remind approvers after (hours)"),
        default=0,
        help_text=_("An approval still waiting after this many hours is reminded once by email. 0: never."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order", "name_en", "id"]
        verbose_name = _("catalog item")
        verbose_name_plural = _("catalog items")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return pick(self.name_fr, self.name_en)

    @property
    def description(self) -> str:
        return pick(self.description_fr, self.description_en)


class ItemField(models.Model):
    class Kind(models.TextChoices):
        SHORT_TEXT = "short_text", _("Short text")
        LONG_TEXT = "long_text", _("Long text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        PERSON = "person", _("Person")
        ATTACHMENT = "attachment", _("Attachment")
        CHECKBOX = "checkbox", _("Checkbox")
        ASSET = "asset", _("One of the requester's devices")

    item = models.ForeignKey(CatalogItem, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(_("key"), max_length=50)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    label_fr = models.CharField(_("label (French)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200)
    help_fr = models.CharField(_("help text (French)"), max_length=300, blank=True)
    help_en = models.CharField(_("help text (English)"), max_length=300, blank=True)
    required = models.BooleanField(_("required"), default=False)
    order = models.PositiveIntegerField(_("order"), default=0)
    # single and multiple choice: [{"value": "vpn", "fr": "VPN", "en": "VPN"}, ...]
    choices = models.JSONField(_("choices"), default=list, blank=True)
    min_value = models.DecimalField(_("minimum"), max_digits=12, decimal_places=2, null=True, blank=True)
    max_value = models.DecimalField(_("maximum"), max_digits=12, decimal_places=2, null=True, blank=True)
    # when the field shows, when it is required and which options it offers, from an earlier
    # field's answer (``palier/catalog/conditions.py``): {"show": {"field", "op", "value"},
    # "require": {...}, "filter": {"field", "map": {that field's option: [options of this one]}}}
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "key"], name="catalog_field_key_unique")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return pick(self.label_fr, self.label_en)

    @property
    def help(self) -> str:
        return pick(self.help_fr, self.help_en)

    def choice_pairs(self) -> list[tuple[str, str]]:
        return [(str(c.get("value", "")), pick(str(c.get("fr", "")), str(c.get("en", "")))) for c in self.choices]


class ApprovalStage(models.Model):
    class Kind(models.TextChoices):
        MANAGER = "manager", _("The requester's manager")
        PEOPLE = "people", _("Named people")
        GROUP = "group", _("A group")

    class Rule(models.TextChoices):
        ANY = "any", _("Any one of them")
        ALL = "all", _("All of them")
        QUORUM = "quorum", _("A quorum of them")

    item = models.ForeignKey(CatalogItem, on_delete=models.CASCADE, related_name="stages")
    order = models.PositiveIntegerField(_("order"), default=0)
    kind = models.CharField(_("approver"), max_length=16, choices=Kind.choices)
    people = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("people"))
    group = models.ForeignKey(
        SupportGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("group")
    )
    rule = models.CharField(_("who must approve"), max_length=8, choices=Rule.choices, default=Rule.ANY)
    quorum = models.PositiveSmallIntegerField(
        _("quorum"), null=True, blank=True, help_text=_("With “a quorum of them”: how many approvals are needed.")
    )
    with_previous = models.BooleanField(
        _("at the same time as the previous stage"),
        default=False,
        help_text=_("Asked together with the stage above; the next stage opens once all of them approved."),
    )

    class Meta:
        ordering = ["order", "id"]


class TaskTemplate(models.Model):
    item = models.ForeignKey(CatalogItem, on_delete=models.CASCADE, related_name="task_templates")
    order = models.PositiveIntegerField(_("order"), default=0)
    subject_fr = models.CharField(_("subject (French)"), max_length=200)
    subject_en = models.CharField(_("subject (English)"), max_length=200)
    group = models.ForeignKey(
        SupportGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("group"),
        help_text=_("Empty: the triage group."),
    )

    class Meta:
        ordering = ["order", "id"]

    @property
    def subject(self) -> str:
        return pick(self.subject_fr, self.subject_en)


class Submission(models.Model):
    """A catalog request: the item, the answers as submitted, and where its workflow stands."""

    class State(models.TextChoices):
        APPROVAL = "approval", _("Waiting for approval")
        FULFILMENT = "fulfilment", _("Being fulfilled")
        DONE = "done", _("Done")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="submission")
    item = models.ForeignKey(CatalogItem, on_delete=models.PROTECT, related_name="submissions")
    # [{"key", "kind", "label_fr", "label_en", "value", "text"}] in the item's field order
    answers = models.JSONField(default=list)
    state = models.CharField(max_length=16, choices=State.choices, default=State.APPROVAL)
    fulfilment = models.CharField(max_length=16, choices=CatalogItem.Fulfilment.choices)
    created_at = models.DateTimeField(default=timezone.now)

    def answer_rows(self) -> list[tuple[str, str]]:
        return [(pick(a.get("label_fr", ""), a.get("label_en", "")), str(a.get("text", ""))) for a in self.answers]


class ApprovalStep(models.Model):
    """One stage of one approval, with the people asked (their ``Approval`` rows). The approval
    belongs to a catalog request (``submission``) or to another subject, named by ``subject_kind``
    (a key of ``APPROVAL_SUBJECTS`` in ``palier/events.py``, "change" say) and ``subject_id``."""

    class State(models.TextChoices):
        WAITING = "waiting", _("Not started")
        OPEN = "open", _("Waiting for a decision")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SKIPPED = "skipped", _("Skipped")

    submission = models.ForeignKey(Submission, null=True, on_delete=models.CASCADE, related_name="steps")
    subject_kind = models.CharField(max_length=16, blank=True, default="")
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    # what the approvers see the stage as (a change board's name); empty for catalog stages
    label = models.CharField(max_length=150, blank=True, default="")
    order = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=ApprovalStage.Kind.choices)
    rule = models.CharField(max_length=8, choices=ApprovalStage.Rule.choices, default=ApprovalStage.Rule.ANY)
    quorum = models.PositiveSmallIntegerField(null=True, blank=True)
    # who the stage names, copied at submission (the manager is looked up when the step opens)
    people_ids = models.JSONField(default=list)
    group = models.ForeignKey(SupportGroup, null=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.WAITING)
    # runs at the same time as the step before it (one parallel group of consecutive steps)
    with_previous = models.BooleanField(default=False)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "order"], name="catalog_step_order_unique"),
            models.CheckConstraint(
                condition=(
                    models.Q(submission__isnull=False, subject_kind="", subject_id__isnull=True)
                    | (models.Q(submission__isnull=True, subject_id__isnull=False) & ~models.Q(subject_kind=""))
                ),
                name="catalog_step_one_subject",
            ),
        ]
        indexes = [models.Index(fields=["subject_kind", "subject_id", "order"], name="catalog_step_subject")]


class Approval(models.Model):
    """One person's decision in one step. Decided once; the signed email links point at this row."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("Waiting")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        NOT_NEEDED = "not_needed", _("No longer needed")

    step = models.ForeignKey(ApprovalStep, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="catalog_approvals")
    decision = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    comment = models.TextField(blank=True)
    via = models.CharField(max_length=16, blank=True)  # "portal", "link" or "page"
    # the person a deputy decides for (``ApprovalDelegation``), when the request was passed on
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asked_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["step", "approver"], name="catalog_approval_unique")]
        indexes = [models.Index(fields=["approver", "decision"], name="catalog_approval_todo")]


class ApprovalDelegation(models.Model):
    """While ``user`` is away (``starts_on`` to ``ends_on``, both included), the approvals newly
    asked of them go to ``deputy``, who decides on their behalf. Followed one step only."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="approval_delegations")
    deputy = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("deputy")
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_on", "id"]
        indexes = [models.Index(fields=["user", "starts_on", "ends_on"], name="catalog_delegation_when")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="catalog_delegation_order"
            ),
            models.CheckConstraint(condition=~models.Q(user=models.F("deputy")), name="catalog_delegation_not_self"),
        ]


class FulfilmentTask(models.Model):
    """A fulfilment task of a request; its ``ticket`` (a child request) exists once it is opened."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="tasks")
    order = models.PositiveIntegerField()
    subject_fr = models.CharField(max_length=200)
    subject_en = models.CharField(max_length=200)
    group = models.ForeignKey(SupportGroup, null=True, on_delete=models.SET_NULL, related_name="+")
    ticket = models.OneToOneField(Ticket, null=True, on_delete=models.SET_NULL, related_name="catalog_task")

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["submission", "order"], name="catalog_task_order_unique")]

    @property
    def subject(self) -> str:
        return pick(self.subject_fr, self.subject_en)

    def describe(self) -> dict[str, Any]:
        return {"order": self.order, "subject": self.subject}
