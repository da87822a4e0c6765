"""Reads of the routing app: category lineage, defaults, admin lists, the manager's team page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.assets import facts as asset_facts
from palier.people.models import Membership, SupportGroup, User
from palier.routing.matching import Facts, compile_rule
from palier.routing.models import Absence, CategoryLevelDefault, RoutingRule
from palier.tickets.models import Category, Ticket
from palier.tickets.search import normalise

MAX_DEPTH = 20


def ticket_category_lineage(ticket: Ticket) -> list[int]:
    """The ticket's category and its ancestors (a root category costs no query when loaded)."""
    if ticket.category_id is None:
        return []
    if Ticket.category.is_cached(ticket) and ticket.category is not None and ticket.category.parent_id is None:
        return [ticket.category_id]
    return category_lineage_ids(ticket.category_id)


_LINEAGE = f"""
WITH RECURSIVE lineage(id, parent_id, depth) AS (
  SELECT id, parent_id, 0 FROM tickets_category WHERE id = %s
  UNION ALL
  SELECT c.id, c.parent_id, l.depth + 1 FROM tickets_category c JOIN lineage l ON c.id = l.parent_id
  WHERE l.depth < {MAX_DEPTH}
)
SELECT id FROM lineage ORDER BY depth
"""  # noqa: S608 (a constant; the id is a parameter)


def category_lineage_ids(category_id: int | None) -> list[int]:
    """The category and its ancestors, nearest first, in one query (a recursive CTE, plain SQL
    because it runs on ticket creation; the depth limit stops a corrupted tree that loops)."""
    if category_id is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_LINEAGE, [category_id])
        ids: list[int] = []
        for (found,) in cursor.fetchall():
            if found in ids:
                break
            ids.append(found)
    return ids


def group_by_id(group_id: int) -> SupportGroup | None:
    """One group by id, or None (raw SQL: the ORM's query building cost more than the query)."""
    return next(iter(SupportGroup.objects.raw("SELECT * FROM people_supportgroup WHERE id = %s", [group_id])), None)


def default_group_for(category_id: int | None, level: int) -> SupportGroup | None:
    """The default group of ``level`` for the category, looked up on the category then its ancestors."""
    lineage = category_lineage_ids(category_id)
    if not lineage:
        return None
    defaults = {
        d.category_id: d.group
        for d in CategoryLevelDefault.objects.filter(category_id__in=lineage, level=level).select_related("group")
    }
    return next((defaults[c] for c in lineage if c in defaults and defaults[c].level == level), None)


def first_group_of_level(level: int, *, vendors: bool) -> SupportGroup | None:
    qs = SupportGroup.objects.filter(level=level)
    if not vendors:
        qs = qs.filter(is_vendor=False)
    return qs.order_by("is_vendor", "-is_triage", "name").first()


def escalation_groups() -> list[SupportGroup]:
    return list(SupportGroup.objects.order_by("level", "name"))


def rules_for_admin() -> list[RoutingRule]:
    return list(
        RoutingRule.objects.select_related("group", "category", "organisation", "department", "set_category").order_by(
            "position", "id"
        )
    )


def get_rule_for_admin(rule_id: int) -> RoutingRule:
    rule = RoutingRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise Http404("rule")
    return rule


def category_defaults_for_admin() -> list[CategoryLevelDefault]:
    return list(CategoryLevelDefault.objects.select_related("category", "group").order_by("category__slug", "level"))


def get_category_default_for_admin(default_id: int) -> CategoryLevelDefault:
    default = CategoryLevelDefault.objects.filter(pk=default_id).first()
    if default is None:
        raise Http404("default")
    return default


def dry_run(rule: RoutingRule, *, limit: int = 50) -> list[tuple[Ticket, bool]]:
    """The last ``limit`` tickets, each with whether ``rule`` (active or not) would match it now."""
    compiled = compile_rule(rule)
    parents = dict(Category.objects.values_list("id", "parent_id"))
    tickets = list(Ticket.objects.select_related("requester", "group").order_by("-created_at", "-id")[:limit])
    assets = (
        asset_facts.facts_by_ticket([t.pk for t in tickets], services=compiled.needs_services)
        if compiled.needs_assets
        else {}
    )
    results = []
    for ticket in tickets:
        lineage: list[int] = []
        current = ticket.category_id
        while current is not None and current not in lineage:
            lineage.append(current)
            current = parents.get(current)
        facts = Facts(
            kind=ticket.kind,
            category_ids=frozenset(lineage),
            channel=ticket.channel,
            organisation_id=ticket.organisation_id,
            department_id=ticket.requester.department_id,
            priority=ticket.priority,
            text=normalise(f"{ticket.subject}\n{ticket.description}"),
            assets=assets.get(ticket.pk, asset_facts.EMPTY),
        )
        results.append((ticket, compiled.matches(facts)))
    return results


# --- the manager's team page --------------------------------------------------------------------


@dataclass
class TeamMember:
    user: User
    groups: list[str]
    open_count: int
    absences: list[Absence] = field(default_factory=list)
    away_now: bool = False


def team_for(user: User, *, now: datetime | None = None) -> list[TeamMember]:
    """The agents of the groups ``user`` manages (every agent for admins), with load and absences."""
    now = now or timezone.now()
    memberships = Membership.objects.select_related("user", "group").order_by("user__full_name", "user__email")
    if not user.is_admin:
        memberships = memberships.filter(group__manager=user)
    members: dict[int, TeamMember] = {}
    for membership in memberships:
        entry = members.setdefault(membership.user_id, TeamMember(membership.user, [], 0))
        entry.groups.append(membership.group.name)
    counts = dict(
        Ticket.objects.filter(assignee_id__in=list(members), status__in=Ticket.OPEN_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .values_list("assignee_id", "n")
    )
    for absence in Absence.objects.filter(agent_id__in=list(members), end__gt=now).order_by("start"):
        entry = members[absence.agent_id]
        entry.absences.append(absence)
        entry.away_now = entry.away_now or absence.start <= now
    for user_id, entry in members.items():
        entry.open_count = counts.get(user_id, 0)
    return list(members.values())


def get_team_member_for(user: User, agent_id: int) -> User:
    """An agent ``user`` may manage (themselves, their groups' members, anyone for admins), or 404."""
    qs = User.objects.filter(pk=agent_id, is_active=True)
    if not user.is_admin and user.pk != agent_id:
        qs = qs.filter(Q(membership__group__manager=user))
    agent = qs.distinct().first()
    if agent is None:
        raise Http404("agent")
    return agent


def get_absence_for(user: User, absence_id: int) -> Absence:
    absence = Absence.objects.select_related("agent").filter(pk=absence_id).first()
    if absence is None:
        raise Http404("absence")
    get_team_member_for(user, absence.agent_id)
    return absence


def group_usage(group_id: int) -> str:
    """Why the support group ``group_id`` cannot be deleted: the routing rules or escalation
    defaults that name it (``GROUP_IN_USE`` of ``palier/events.py``), or ""."""
    names = list(
        RoutingRule.objects.filter(group_id=group_id).order_by("position", "id").values_list("name", flat=True)
    )
    if names:
        return _("Routing rules send tickets to this group (%(names)s): change those rules first.") % {
            "names": ", ".join(names[:5])
        }
    if CategoryLevelDefault.objects.filter(group_id=group_id).exists():
        return _("This group is a category's default escalation group: remove that default first.")
    return ""


# --- the administration API -------------------------------------------------------------------------


def rules_for_api(filters: dict[str, Any]) -> QuerySet[RoutingRule]:
    """Routing rules, optionally only active ones or those sending to a ``group``; unordered."""
    qs = RoutingRule.objects.all()
    if filters.get("is_active") is not None:
        qs = qs.filter(is_active=filters["is_active"])
    if filters.get("group") is not None:
        qs = qs.filter(group_id=filters["group"])
    return qs


def category_defaults_for_api(filters: dict[str, Any]) -> QuerySet[CategoryLevelDefault]:
    """Default escalation groups, optionally of one ``category`` or ``level``; unordered."""
    qs = CategoryLevelDefault.objects.all()
    if filters.get("category") is not None:
        qs = qs.filter(category_id=filters["category"])
    if filters.get("level") is not None:
        qs = qs.filter(level=filters["level"])
    return qs


def absences_for(user: User, filters: dict[str, Any], *, now: datetime | None = None) -> QuerySet[Absence]:
    """The absences ``user`` may manage (their own; their groups' members' for a manager; all for
    an administrator), optionally of one ``agent`` and only ``current`` ones; unordered."""
    qs = Absence.objects.all()
    if not user.is_admin:
        allowed = Q(agent=user)
        if user.role == User.Role.MANAGER:
            allowed |= Q(agent__membership__group__manager=user)
        qs = qs.filter(pk__in=Absence.objects.filter(allowed).values("pk"))
    if filters.get("agent") is not None:
        qs = qs.filter(agent_id=filters["agent"])
    if filters.get("current"):
        qs = qs.filter(end__gt=now or timezone.now())
    return qs
