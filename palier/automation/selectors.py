"""Reads of the automation pages (administrators only: the views check the role)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.automation import conditions as condition_specs
from palier.automation.models import RecurringTicket, Rule, RuleRun
from palier.automation.services import recurring
from palier.automation.services.engine import Occurrence, evaluate
from palier.automation.services.rules import compile_rule
from palier.tickets.models import Ticket

PAGE = 25
DRY_RUN_CHUNK = 2000


def rules_for_admin() -> QuerySet[Rule]:
    return Rule.objects.order_by("position", "id")


def get_rule_for_admin(rule_id: int) -> Rule:
    rule = Rule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise Http404("rule")
    return rule


def rule_runs(rule: Rule, *, page: Any) -> Page[RuleRun]:
    runs = RuleRun.objects.filter(rule=rule).select_related("ticket").order_by("-at", "-id")
    return Paginator(runs, PAGE).get_page(page)


@dataclass(frozen=True)
class DryRun:
    count: int
    page: Page[int]  # of ticket ids
    tickets: list[Ticket]


def dry_run(rule: Rule, *, page: Any, now: datetime | None = None) -> DryRun:
    """The open tickets the rule's conditions match now (whether the rule is on or not). Comment
    text and survey score conditions see an empty comment and no score; time-based rules also
    need the ticket to have been in their status long enough (in plain hours here)."""
    now = now or timezone.now()
    compiled = compile_rule(rule)
    queryset = Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES)
    if rule.trigger == Rule.Trigger.TIMER and rule.wait_status and rule.wait_hours:
        since = "resolved_at" if rule.wait_status == Ticket.Status.RESOLVED else "updated_at"
        queryset = Ticket.objects.filter(
            status=rule.wait_status, **{f"{since}__lte": now - timedelta(hours=rule.wait_hours)}
        )
    matched: list[int] = []
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last).order_by("pk")[:DRY_RUN_CHUNK])
        if not chunk:
            break
        found = [Occurrence(ticket=t, trigger=rule.trigger) for t in chunk]
        matched.extend(o.ticket.pk for o, _r in evaluate(found, [compiled], now=now))
        last = chunk[-1].pk
    numbers = Paginator(matched, PAGE).get_page(page)
    by_id = Ticket.objects.in_bulk(list(numbers.object_list))
    tickets = [by_id[pk] for pk in numbers.object_list if pk in by_id]
    return DryRun(count=len(matched), page=numbers, tickets=tickets)


@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    trigger: str
    summary: str


def trigger_text(rule: Rule) -> str:
    """ "Ticket created", or for time-based rules "Pending requester for 72 h (business hours)"."""
    if rule.trigger != Rule.Trigger.TIMER:
        return str(Rule.Trigger(rule.trigger).label)
    status = Ticket.Status(rule.wait_status).label if rule.wait_status in Ticket.Status.values else rule.wait_status
    if rule.wait_business:
        return _("%(status)s for %(hours)s business hours") % {"status": status, "hours": rule.wait_hours}
    return _("%(status)s for %(hours)s hours") % {"status": status, "hours": rule.wait_hours}


def describe(rule: Rule) -> str:
    """The rule's conditions in one line ("Priority at most 2 · Subject contains vpn")."""
    parts = []
    for part in ("all", "any"):
        for row in (rule.conditions or {}).get(part) or []:
            label = condition_specs.FIELDS.get(row.get("field"), (row.get("field"), (), ""))[0]
            op = condition_specs.OPERATORS.get(row.get("op"), row.get("op"))
            value = "" if row.get("value") is None else f" {row['value']}"
            parts.append(f"{label} {op}{value}")
    return " · ".join(parts)


def recurring_for_admin(*, page: Any) -> Page[RecurringTicket]:
    rows = RecurringTicket.objects.select_related("requester", "group").order_by("name", "id")
    return Paginator(rows, PAGE).get_page(page)


def get_recurring_for_admin(row_id: int) -> RecurringTicket:
    row = RecurringTicket.objects.filter(pk=row_id).first()
    if row is None:
        raise Http404("recurring")
    return row


def schedule_text(schedule: str) -> str:
    return recurring.describe_schedule(schedule)
