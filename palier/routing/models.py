"""Routing rules, escalation defaults per category and level, agent skills and absences."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palier.people.models import SupportGroup
from palier.tickets.models import Ticket


class RoutingRule(models.Model):
    """Where a new ticket goes. Rules are tried by ``position``; the first active match wins.

    An empty condition matches anything. A rule whose group was deleted keeps its conditions but
    no longer matches (``group`` becomes empty) until an admin gives it a group again.
    """

    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # conditions
    kind = models.CharField(_("type"), max_length=16, choices=Ticket.Kind.choices, blank=True)
    category = models.ForeignKey(
        "tickets.Category",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("category (or one of its subcategories)"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Ticket.Channel.choices, blank=True)
    organisation = models.ForeignKey(
        "people.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "people.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requester's department"),
    )
    priority = models.PositiveSmallIntegerField(_("priority"), null=True, blank=True)
    words = models.TextField(
        _("words in the subject or description"),
        blank=True,
        help_text=_("Any of these words (one per line or separated by commas); accents and case are ignored."),
    )
    # placeholder for the email channel: the address that received the message (matched exactly, lower case)
    mailbox = models.CharField(_("receiving mailbox"), max_length=254, blank=True)
    # actions
    group = models.ForeignKey(
        SupportGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("group")
    )
    set_category = models.ForeignKey(
        "tickets.Category",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("set the category (when empty)"),
    )
    set_priority = models.PositiveSmallIntegerField(_("set the priority"), null=True, blank=True)
    add_tags = models.CharField(_("add tags"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # conditions on the ticket's linked assets (docs/assets.md, "Rules and SLAs on assets"):
    # any linked asset of this type / in this status / at this place or under it; a business
    # service (tag or name) a linked asset supports
    asset_type = models.CharField(_("linked asset type"), max_length=60, blank=True)
    asset_status = models.CharField(_("linked asset status"), max_length=10, blank=True)
    asset_location = models.CharField(_("linked asset location"), max_length=600, blank=True)
    business_service = models.CharField(_("business service"), max_length=200, blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(priority__isnull=True) | models.Q(priority__gte=1, priority__lte=4),
                name="routing_rule_priority_1_4",
            ),
            models.CheckConstraint(
                condition=models.Q(set_priority__isnull=True) | models.Q(set_priority__gte=1, set_priority__lte=4),
                name="routing_rule_set_priority_1_4",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CategoryLevelDefault(models.Model):
    """The group that receives escalations to ``level`` for tickets of ``category`` (and subcategories)."""

    category = models.ForeignKey("tickets.Category", on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"), choices=SupportGroup.Level.choices)
    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE, related_name="+", verbose_name=_("group"))

    class Meta:
        ordering = ["category_id", "level"]
        verbose_name = _("default group per category and level")
        verbose_name_plural = _("default groups per category and level")
        constraints = [
            models.UniqueConstraint(fields=["category", "level"], name="category_level_default_unique"),
        ]


class Skill(models.Model):
    """An agent knows a category (and its subcategories); used by the "by skill" assignment."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skills")
    category = models.ForeignKey("tickets.Category", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agent", "category"], name="skill_unique")]


class Absence(models.Model):
    """An agent is away from ``start`` to ``end``: no new ticket goes to them meanwhile."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absences")
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start"]
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        indexes = [models.Index(fields=["agent", "end"], name="absence_agent_end")]
        constraints = [models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="absence_end_after")]
