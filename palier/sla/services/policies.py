"""SLA policies: which policy a ticket falls under, and validated writes for the admin pages and API."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from palier.assets import facts as asset_facts
from palier.assets.models import Asset
from palier.audit import services as audit
from palier.core.cache import VersionedCache
from palier.people.models import Organisation, SupportGroup, User
from palier.sla import permissions
from palier.sla.models import Calendar, SlaPolicy
from palier.tickets.models import Category, Ticket

A = SlaPolicy.Action
PAUSABLE = [s for s in Ticket.OPEN_STATUSES if s not in (Ticket.Status.NEW, Ticket.Status.ASSIGNED)]


# --- matching -------------------------------------------------------------------------------------


def _load() -> list[SlaPolicy]:
    return list(
        SlaPolicy.objects.filter(is_active=True)
        .select_related("calendar")
        .prefetch_related("categories", "organisations")
        .order_by("position", "id")
    )


POLICIES = VersionedCache("sla.policies", load=_load)


def bump_policies() -> None:
    """Make every process reload its active policies. Every service that writes a policy, a
    calendar or its holidays calls it inside its transaction; so must any other write (a shell)."""
    POLICIES.bump()


def forget_policies() -> None:
    """Drop this process's cache (tests start each case with it)."""
    POLICIES.forget()


def active_policies() -> list[SlaPolicy]:
    """Active policies in order, with calendars, categories and organisations; cached per process
    and read again only when the version token changed (one small query per ticket otherwise)."""
    return POLICIES.get()


def _category_chain(category_id: int | None) -> set[int]:
    """The ticket's category and its ancestors: a policy on a category matches its descendants."""
    if category_id is None:
        return set()
    parents = dict(Category.objects.values_list("id", "parent_id"))
    chain: set[int] = set()
    current: int | None = category_id
    while current is not None and current not in chain:
        chain.add(current)
        current = parents.get(current)
    return chain


def matches(policy: SlaPolicy, ticket: Ticket, chain: set[int], criticality: str = "") -> bool:
    if policy.criticalities and criticality not in policy.criticalities:
        return False
    if policy.priorities and ticket.priority not in policy.priorities:
        return False
    if policy.kinds and ticket.kind not in policy.kinds:
        return False
    categories = {c.pk for c in policy.categories.all()}
    if categories and not categories & chain:
        return False
    organisations = {o.pk for o in policy.organisations.all()}
    return not organisations or ticket.organisation_id in organisations


def policy_for(ticket: Ticket, policies: Sequence[SlaPolicy] | None = None) -> SlaPolicy | None:
    """The first active policy (by position) whose conditions match ``ticket``; None if none does."""
    candidates = active_policies() if policies is None else policies
    chain = _category_chain(ticket.category_id) if any(p.categories.all() for p in candidates) else set()
    # the linked assets are read only when a policy looks at them
    criticality = asset_facts.facts_for(ticket).criticality if any(p.criticalities for p in candidates) else ""
    return next((p for p in candidates if matches(p, ticket, chain, criticality)), None)


# --- validation -------------------------------------------------------------------------------------


def _positive(value: Any, field: str, *, required: bool = True) -> int | None:
    if value in (None, ""):
        if required:
            raise ValidationError({field: _("This field is required.")})
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("Enter a whole number of business minutes.")}) from None
    if number <= 0:
        raise ValidationError({field: _("A target must last at least one business minute.")})
    return number


def validate_actions(actions: Any, *, field: str) -> list[dict[str, Any]]:
    """Check a list of ``{"action": ...}`` dicts; return them cleaned."""
    if not isinstance(actions, list | tuple):
        raise ValidationError({field: _("Actions must be a list.")})
    cleaned: list[dict[str, Any]] = []
    for item in actions:
        name = item.get("action") if isinstance(item, dict) else None
        if name not in A.values:
            raise ValidationError({field: _("“%(name)s” is not a known action.") % {"name": name}})
        entry: dict[str, Any] = {"action": name}
        if name == A.ESCALATE_GROUP:
            group_id = item.get("group")
            if not group_id or not SupportGroup.objects.filter(pk=group_id).exists():
                raise ValidationError({field: _("The escalation group no longer exists; choose another one.")})
            entry["group"] = int(group_id)
        elif name == A.ESCALATE_LEVEL:
            level = item.get("level")
            if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 5:
                raise ValidationError({field: _("Escalate to a level between 1 and 5.")})
            entry["level"] = level
        if entry not in cleaned:
            cleaned.append(entry)
    return cleaned


def _subset(values: Iterable[Any], allowed: Iterable[Any], field: str) -> list[Any]:
    chosen = list(dict.fromkeys(values or []))
    unknown = [v for v in chosen if v not in list(allowed)]
    if unknown:
        raise ValidationError({field: _("Unknown values: %(values)s.") % {"values": ", ".join(map(str, unknown))}})
    return chosen


def validate_policy(
    *,
    name: str,
    calendar: Calendar | None,
    first_response_minutes: Any,
    resolution_minutes: Any,
    next_response_minutes: Any = None,
    warn_percent: Any = 75,
    priorities: Iterable[int] = (),
    kinds: Iterable[str] = (),
    pause_statuses: Iterable[str] | None = None,
    warning_actions: Any = (),
    breach_actions: Any = (),
    criticalities: Iterable[str] = (),
) -> dict[str, Any]:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    if calendar is None:
        raise ValidationError({"calendar": _("Choose the business calendar of this policy.")})
    first = _positive(first_response_minutes, "first_response_minutes")
    resolution = _positive(resolution_minutes, "resolution_minutes")
    following = _positive(next_response_minutes, "next_response_minutes", required=False)
    try:
        percent = int(warn_percent)
    except (TypeError, ValueError):
        percent = 0
    if not 1 <= percent <= 99:
        raise ValidationError(
            {
                "warn_percent": _("The warning must fire between %(low)d%% and %(high)d%% of the target.")
                % {"low": 1, "high": 99}
            }
        )
    return {
        "name": name,
        "calendar": calendar,
        "first_response_minutes": first,
        "resolution_minutes": resolution,
        "next_response_minutes": following,
        "warn_percent": percent,
        "priorities": sorted(int(p) for p in _subset(priorities, [1, 2, 3, 4, "1", "2", "3", "4"], "priorities")),
        "kinds": _subset(kinds, Ticket.Kind.values, "kinds"),
        "pause_statuses": _subset(
            ["pending_requester", "pending_vendor"] if pause_statuses is None else pause_statuses,
            PAUSABLE,
            "pause_statuses",
        ),
        "warning_actions": validate_actions(list(warning_actions or []), field="warning_actions"),
        "breach_actions": validate_actions(list(breach_actions or []), field="breach_actions"),
        "criticalities": _subset(criticalities, Asset.Criticality.values, "criticalities"),
    }


# --- writes ---------------------------------------------------------------------------------------


def _save_policy(
    policy: SlaPolicy,
    cleaned: dict[str, Any],
    *,
    categories: Iterable[Category],
    organisations: Iterable[Organisation],
    by: User | None,
) -> SlaPolicy:
    if SlaPolicy.objects.filter(name=cleaned["name"]).exclude(pk=policy.pk).exists():
        raise ValidationError({"name": _("A policy with this name already exists.")})
    new = policy.pk is None
    before = {} if new else {key: getattr(policy, key) for key in cleaned}
    for key, value in cleaned.items():
        setattr(policy, key, value)
    policy.save()
    action = "sla_policy.created" if new else "sla_policy.changed"
    audit.record(action, actor=by, target=policy, changes=audit.diff(before, cleaned))
    policy.categories.set(list(categories))
    policy.organisations.set(list(organisations))
    bump_policies()
    return policy


@transaction.atomic
def create_policy(
    *,
    position: int | None = None,
    is_active: bool = True,
    categories: Iterable[Category] = (),
    organisations: Iterable[Organisation] = (),
    by: User | None,
    **fields: Any,
) -> SlaPolicy:
    """Add a policy (at the end of the list unless ``position`` is given). New tickets use it.
    ``fields``: name, calendar, first_response_minutes, resolution_minutes, next_response_minutes,
    warn_percent, priorities, kinds, pause_statuses, warning_actions, breach_actions (see
    ``validate_policy``)."""
    permissions.require(by, "manage_policies")
    cleaned = validate_policy(**fields)
    if position is None:
        last = SlaPolicy.objects.order_by("-position").values_list("position", flat=True).first()
        position = (last or 0) + 10
    policy = SlaPolicy(position=position, is_active=is_active)
    return _save_policy(policy, cleaned, categories=categories, organisations=organisations, by=by)


@transaction.atomic
def update_policy(
    policy: SlaPolicy,
    *,
    position: int | None = None,
    is_active: bool = True,
    categories: Iterable[Category] = (),
    organisations: Iterable[Organisation] = (),
    by: User | None,
    **fields: Any,
) -> SlaPolicy:
    """Change a policy (same ``fields`` as ``create_policy``). Tickets already measured keep their
    targets until their policy is re-picked."""
    permissions.require(by, "manage_policies")
    cleaned = validate_policy(**fields)
    if position is not None:
        policy.position = position
    policy.is_active = is_active
    return _save_policy(policy, cleaned, categories=categories, organisations=organisations, by=by)


POLICY_FIELDS = (
    "name",
    "calendar",
    "first_response_minutes",
    "resolution_minutes",
    "next_response_minutes",
    "warn_percent",
    "priorities",
    "kinds",
    "pause_statuses",
    "warning_actions",
    "breach_actions",
    "criticalities",
)


@transaction.atomic
def change_policy(policy: SlaPolicy, *, by: User | None, **fields: Any) -> SlaPolicy:
    """Change only the fields given (the API's PATCH) through ``update_policy`` (the page's rules):
    the policy fields, ``position``, ``is_active``, ``categories`` and ``organisations``."""
    permissions.require(by, "manage_policies")
    unknown = set(fields) - {*POLICY_FIELDS, "position", "is_active", "categories", "organisations"}
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    current: dict[str, Any] = {name: getattr(policy, name) for name in POLICY_FIELDS}
    current["position"], current["is_active"] = policy.position, policy.is_active
    current["categories"] = list(policy.categories.all())
    current["organisations"] = list(policy.organisations.all())
    return update_policy(policy, by=by, **{**current, **fields})
