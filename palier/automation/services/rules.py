"""The admin's automation rules: validation, the per-process cache, disabling broken rules, and the
automation user that carries every change a rule makes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.automation import conditions as condition_specs
from palier.automation import permissions
from palier.automation import subjects as subject_specs
from palier.automation.models import Rule
from palier.core.cache import VersionedCache
from palier.integrations.models import ChatApp
from palier.lib import matching, ordering
from palier.people.models import Organisation, SupportGroup, User
from palier.tickets.models import Category, Ticket
from palier.worklist.models import TaskTemplate

log = logging.getLogger(__name__)

ROBOT_EMAIL = "automation@palier.invalid"
MAX_WAIT_HOURS = 24 * 365
MAX_START_SOON_HOURS = 24 * 30
T = Rule.Trigger
S = Rule.Subject

# --- the automation user ----------------------------------------------------------------------------


def robot() -> User:
    """The user every rule acts as: an administrator account that cannot sign in (no password,
    an ``.invalid`` address nobody receives mail at, hidden from people lists). Created on first use."""
    from palier.people.services import system_account

    return system_account(email=ROBOT_EMAIL, full_name="Palier (automation)")


# --- the per-process cache --------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    trigger: str
    matcher: matching.Matcher[Any]
    actions: tuple[dict[str, Any], ...]
    wait_status: str
    wait_hours: int
    wait_business: bool
    secret: str
    subject: str = Rule.Subject.TICKET
    to_status: str = ""


def _load() -> tuple[CompiledRule, ...]:
    return tuple(_compiled(Rule.objects.filter(is_active=True).order_by("position", "id")))


RULES = VersionedCache("automation.rules", load=_load)


def _bump() -> None:
    """Every process reloads its rules at its next batch (called inside the changing transaction)."""
    RULES.bump()


def compile_rule(rule: Rule) -> CompiledRule:
    ticket = rule.subject == Rule.Subject.TICKET
    compile_conditions = condition_specs.compile_conditions if ticket else subject_specs.compile_conditions
    return CompiledRule(
        id=rule.pk,
        name=rule.name,
        trigger=rule.trigger,
        matcher=compile_conditions(rule.conditions or {}),
        actions=tuple(rule.actions or ()),
        wait_status=rule.wait_status,
        wait_hours=rule.wait_hours or 0,
        wait_business=rule.wait_business,
        secret=rule.secret,
        subject=rule.subject,
        to_status=rule.to_status,
    )


def active_rules() -> tuple[CompiledRule, ...]:
    """The active ticket rules in order; one small query when nothing changed since the last call."""
    return tuple(rule for rule in RULES.get() if rule.subject == Rule.Subject.TICKET)


def active_subject_rules(subject: str) -> tuple[CompiledRule, ...]:
    """The active rules on problems or on changes, in order (the same cache)."""
    return tuple(rule for rule in RULES.get() if rule.subject == subject)


def _compiled(rows: Any) -> list[CompiledRule]:
    """Compile each rule; one edited by hand into an unreadable shape is left out (and logged)
    rather than stopping every rule."""
    compiled = []
    for rule in rows:
        try:
            compiled.append(compile_rule(rule))
        except (KeyError, TypeError, ValueError, AttributeError):
            log.exception("automation rule %s cannot be read; left out", rule.pk)
    return compiled


# --- references ---------------------------------------------------------------------------------------

_REFERENCE_MODELS: dict[str, Any] = {
    "group": (SupportGroup, lambda: _("group")),
    "user": (User, lambda: _("agent")),
    "category": (Category, lambda: _("category")),
    "organisation": (Organisation, lambda: _("organisation")),
    "chat": (ChatApp, lambda: _("chat app")),
    "task_template": (TaskTemplate, lambda: _("task template")),
}


def reference_problem(
    conditions: dict[str, Any], actions: list[dict[str, Any]], subject: str = Rule.Subject.TICKET
) -> str:
    """A sentence naming the first thing the rule refers to that no longer exists (or "")."""
    wanted = subject_specs.references(subject, conditions) + subject_specs.action_references(subject, actions)
    for kind, pk in wanted:
        model, label = _REFERENCE_MODELS[kind]
        queryset = model.objects.filter(pk=pk)
        if kind == "user":
            queryset = queryset.filter(is_active=True)
        if kind == "chat":
            queryset = queryset.filter(is_active=True).exclude(notify_url="")
        if kind == "task_template":
            queryset = queryset.filter(is_active=True)
        if not queryset.exists():
            return _("The %(what)s #%(id)d it refers to no longer exists or is inactive.") % {"what": label(), "id": pk}
    return ""


# --- validation -----------------------------------------------------------------------------------------

RULE_FIELDS = (
    "name", "is_active", "subject", "trigger", "to_status", "wait_status", "wait_hours", "wait_business",
    "conditions", "actions",
)  # fmt: skip


def _clean_trigger(cleaned: dict[str, Any]) -> None:
    subject = cleaned.get("subject") or Rule.Subject.TICKET
    if subject not in Rule.Subject.values:
        raise ValidationError({"subject": _("Choose tickets, problems or changes.")})
    cleaned["subject"] = subject
    trigger = cleaned.get("trigger")
    if trigger not in T.values:
        raise ValidationError({"trigger": _("Choose a trigger.")})
    if trigger not in subject_specs.TRIGGERS[subject]:
        raise ValidationError(
            {
                "trigger": _("“%(trigger)s” is not a trigger of %(subject)s.")
                % {"trigger": T(trigger).label, "subject": subject_specs.subject_label(subject)}
            }
        )
    to_status = cleaned.get("to_status") or ""
    if trigger in subject_specs.STATUS_TRIGGERS:
        if to_status and to_status not in subject_specs.STATUS_TRIGGERS[trigger]:
            raise ValidationError(
                {"to_status": _("%(subject)s have no status “%(status)s”.") % {
                    "subject": S(subject).label, "status": to_status}}
            )  # fmt: skip
    elif to_status:
        raise ValidationError({"to_status": _("Only a “status changed” trigger waits for a status.")})
    cleaned["to_status"] = to_status
    if trigger == T.CHANGE_START_SOON:
        hours = cleaned.get("wait_hours")
        if not isinstance(hours, int) or not 1 <= hours <= MAX_START_SOON_HOURS:
            raise ValidationError(
                {"wait_hours": _("Enter a number of hours between 1 and %(n)d.") % {"n": MAX_START_SOON_HOURS}}
            )
        cleaned.update(wait_status="", wait_business=False)
        return
    if trigger != T.TIMER:
        cleaned.update(wait_status="", wait_hours=None)
        return
    if cleaned.get("wait_status") not in Ticket.Status.values:
        raise ValidationError({"wait_status": _("Choose the status the ticket stays in.")})
    hours = cleaned.get("wait_hours")
    if not isinstance(hours, int) or not 1 <= hours <= MAX_WAIT_HOURS:
        raise ValidationError({"wait_hours": _("Enter a number of hours between 1 and %(n)d.") % {"n": MAX_WAIT_HOURS}})


def clean_rule(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(fields)
    cleaned["name"] = (cleaned.get("name") or "").strip()
    if not cleaned["name"]:
        raise ValidationError({"name": _("This field is required.")})
    if len(cleaned["name"]) > 120:
        raise ValidationError({"name": _("At most %(n)d characters.") % {"n": 120}})
    _clean_trigger(cleaned)
    subject = cleaned["subject"]
    cleaned["conditions"] = subject_specs.clean_conditions(subject, cleaned.get("conditions"))
    cleaned["actions"] = subject_specs.clean_actions(subject, cleaned.get("actions"))
    if cleaned["trigger"] != T.SURVEY and any(
        row["field"] == "survey_score" for part in ("all", "any") for row in cleaned["conditions"][part]
    ):
        raise ValidationError({"conditions": _("A survey score condition needs the “Survey answered” trigger.")})
    if cleaned["trigger"] != T.CHANGE_APPROVAL and any(
        row["field"] == "decision" for part in ("all", "any") for row in cleaned["conditions"][part]
    ):
        raise ValidationError(
            {"conditions": _("An approval decision condition needs the “Change approval decided” trigger.")}
        )
    problem = reference_problem(cleaned["conditions"], cleaned["actions"], subject)
    if problem:
        raise ValidationError({"actions": problem})
    return cleaned


def _unknown(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})


# --- writes ---------------------------------------------------------------------------------------------


@transaction.atomic
def create_rule(*, by: User | None, **fields: Any) -> Rule:
    """Add a rule at the end of the list (active unless ``is_active=False``)."""
    permissions.require(by, "manage_rules")
    _unknown(fields)
    cleaned = clean_rule(fields)
    last = Rule.objects.aggregate(last=Max("position"))["last"]
    rule = Rule.objects.create(position=0 if last is None else last + 1, created_by=by, updated_by=by, **cleaned)
    audit.record("automation_rule.created", actor=by, target=rule, changes=audit.diff({}, cleaned))
    _bump()
    return rule


@transaction.atomic
def update_rule(rule: Rule, *, by: User | None, **fields: Any) -> Rule:
    """Change the fields given; a rule saved with valid references loses its disabled reason."""
    permissions.require(by, "manage_rules")
    _unknown(fields)
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    current = {name: getattr(rule, name) for name in RULE_FIELDS}
    cleaned = clean_rule({**current, **fields})
    for name, value in cleaned.items():
        setattr(rule, name, value)
    rule.disabled_reason = ""
    rule.updated_by = by
    rule.updated_at = timezone.now()
    rule.save()
    audit.record("automation_rule.changed", actor=by, target=rule, changes=audit.diff(current, cleaned))
    _bump()
    return rule


@transaction.atomic
def set_rule_active(rule: Rule, *, by: User | None, active: bool) -> Rule:
    permissions.require(by, "manage_rules")
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    if active:
        problem = reference_problem(rule.conditions or {}, list(rule.actions or []), rule.subject)
        if problem:
            raise ValidationError({"is_active": problem + " " + _("Edit the rule before turning it on.")})
        rule.disabled_reason = ""
    changes = audit.diff({"is_active": rule.is_active}, {"is_active": active})
    rule.is_active = active
    rule.updated_by = by
    rule.updated_at = timezone.now()
    rule.save(update_fields=["is_active", "disabled_reason", "updated_by", "updated_at"])
    audit.record("automation_rule.changed", actor=by, target=rule, changes=changes)
    _bump()
    return rule


@transaction.atomic
def disable_rule(rule_id: int, *, reason: str) -> bool:
    """Turn a rule off because it cannot work (something it refers to was deleted), with the reason
    shown on the admin page. Returns whether it was active."""
    changed = Rule.objects.filter(pk=rule_id, is_active=True).update(
        is_active=False, disabled_reason=reason[:300], updated_at=timezone.now()
    )
    if changed:
        _bump()
    return bool(changed)


def check_references() -> int:
    """Turn off the active rules that name something deleted since they were saved (conditions
    included, which never fail on their own: they just stop matching). Returns how many."""
    turned_off = 0
    for rule in Rule.objects.filter(is_active=True).only("pk", "subject", "conditions", "actions"):
        problem = reference_problem(rule.conditions or {}, list(rule.actions or []), rule.subject)
        if problem and disable_rule(rule.pk, reason=problem):
            turned_off += 1
    return turned_off


@transaction.atomic
def delete_rule(rule: Rule, *, by: User | None) -> None:
    permissions.require(by, "manage_rules")
    audit.record("deleted", actor=by, target=rule)
    Rule.objects.filter(pk=rule.pk).delete()
    _bump()


@transaction.atomic
def move_rule(rule: Rule, *, by: User | None, up: bool) -> Rule:
    """Swap the rule with the one above (``up``) or below it; positions are renumbered 0..n."""
    permissions.require(by, "manage_rules")
    moved = ordering.move(Rule.objects.all(), rule.pk, up=up)
    _bump()
    return moved


@transaction.atomic
def reorder_rules(*, by: User | None, ids: list[int]) -> None:
    """Put every rule in the order of ``ids`` (each rule once: gaps, repeats and unknown ids are
    refused and nothing changes); positions are renumbered 0..n."""
    permissions.require(by, "manage_rules")
    ordering.reorder(Rule.objects.all(), ids)
    _bump()
